"""A deterministic, realistic ledger for the benchmarks: ten years of a household's money.

What :func:`generate` produces for ``n`` transactions and a ``seed`` (same arguments, same bytes):

* **Dates**: ten years ending on :data:`END`, the day the benchmarks run (so "this month", what the
  app opens on, always has data; the same seed gives the same ledger on the same day); expenses are
  spread evenly over the decade (a few more on weekends).
* **Income**: a salary on the 25th of every month (120 rows; ``n // 10`` when ``n`` is below 1,200: the
  most recent months), raised 3 % every January and sized so that the decade's income is about 12 %
  above its expected spending (a savings rate near 10 %, whatever ``n``); plus occasional other income
  (freelance, interest, refunds, gifts), about 2 % of the rows.
* **Expenses**: the rest, over 30 categories with a Zipf-like skew (weight ``1 / rank**1.1``: Groceries
  about 29 % of the expenses, the rarest category about 0.7 %). Each category has its own typical
  amount; amounts are log-normal around it (sigma 0.6), in whole cents.
* **Currencies** (issue 16: three): USD (the ledger's default currency) for about 97 % of the rows; travel
  spending in EUR and in GBP (about 1.5 % each), in the Euro and the Pound accounts (every account's rows are
  in its currency, as a bank's are); a third of those record the original amount in USD. **Rates**
  (:func:`daily_rates`): EUR/USD and EUR/GBP for every weekday of the decade, stored in the meta.
* **Splits** (issue 16): about 10 % of the expenses are split in two or three lines (the row's category, then
  one or two others; 60/40 or 60/25/15 of the amount, the leftover cents on the first line).
* **Tags**: about 55 % of expenses have none, 33 % one, 12 % two, from a pool of 16 tags
  (``work``, ``kids``, ``vacation`` ...), themselves skewed.
* **Notes**: about 65 % of rows have one (a merchant, sometimes with a detail); the rest are empty.
* **Imports**: about 30 % of expenses carry an ``external_id`` as if imported from a bank file.
* **Accounts** (issue 15): six, declared in the meta (:data:`ACCOUNTS`): Checking gets the salary and 45 % of
  the USD spending, the Visa card 45 %, Cash the rest; the EUR spending is in the
  Euro account, interest in Savings. About 5 % of the rows are the two sides of **transfers**
  (:data:`TRANSFERS`: paying the card, saving, cash from the ATM, investing, and euros bought, in two
  currencies).
* **Times**: ``created_at`` is the evening of the transaction's day (UTC); about 5 % were edited
  later (``updated_at`` up to 30 days after).

:func:`write_ledger` stores it the fast way the brief allows: one columnar snapshot written through
the JSON backend's ``compact`` (atomic, fsynced), exactly what the ledger itself writes when it folds
its journal; no journal, no undo history, no backups. The measured operations then go through the
public code paths only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
from pathlib import Path

from tracker.accounts import ACCOUNTS, Account, AccountBook, make_transfer
from tracker.model import Transaction, make_transaction
from tracker.storage.codec import empty_snapshot
from tracker.storage.columns import stored_columns
from tracker.storage.jsonfile import JsonBackend

END = dt.date.today()
"""The last day of the generated decade: today (issue 18: a fixed day left "this month" empty later on)."""


def _ten_years_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 10)
    except ValueError:  # February 29
        return day.replace(year=day.year - 10, day=28)


START = _ten_years_before(END) + dt.timedelta(days=1)
CURRENCY = "USD"
DEFAULT_SEED = 20261130
ACCOUNTS_DECLARED: tuple[Account, ...] = (
    Account("Checking", "checking", CURRENCY, opening_minor=250_000, opening_date=START),
    Account("Visa", "credit-card", CURRENCY),
    Account("Savings", "savings", CURRENCY, opening_minor=1_000_000, opening_date=START),
    Account("Cash", "cash", CURRENCY),
    Account("Euro account", "checking", "EUR"),
    Account("Brokerage", "asset", CURRENCY, opening_minor=2_000_000, opening_date=START),
    Account("Pound account", "checking", "GBP"),
)
"""The generated ledger's accounts, as a person declares them (Checking first: the default account)."""
TRANSFER_SHARE = 0.05
"""The share of rows that are one side of a transfer."""
TRANSFERS: tuple[tuple[str, str, float], ...] = (
    ("Checking", "Visa", 4000.0),
    ("Checking", "Savings", 600.0),
    ("Checking", "Cash", 100.0),
    ("Savings", "Brokerage", 300.0),
    ("Checking", "Euro account", 250.0),
)
"""(from, to, typical amount in dollars) of the transfers, equally often; euros arrive at 0.92 a dollar."""
CASH_CATEGORIES = frozenset({"Coffee", "Transport"})

# (category, typical amount in dollars); listed by rank: the Zipf weight falls with the position.
EXPENSE_CATEGORIES: tuple[tuple[str, float], ...] = (
    ("Groceries", 45.0),
    ("Restaurants", 28.0),
    ("Coffee", 4.5),
    ("Transport", 12.0),
    ("Fuel", 48.0),
    ("Shopping", 40.0),
    ("Household", 25.0),
    ("Entertainment", 22.0),
    ("Health", 35.0),
    ("Utilities", 90.0),
    ("Phone & Internet", 60.0),
    ("Clothing", 55.0),
    ("Subscriptions", 12.0),
    ("Gifts", 40.0),
    ("Pets", 30.0),
    ("Kids", 35.0),
    ("Books", 18.0),
    ("Personal care", 25.0),
    ("Sports", 30.0),
    ("Travel", 180.0),
    ("Home improvement", 120.0),
    ("Car maintenance", 220.0),
    ("Insurance", 140.0),
    ("Education", 150.0),
    ("Charity", 50.0),
    ("Electronics", 250.0),
    ("Taxes & fees", 80.0),
    ("Furniture", 400.0),
    ("Medical", 160.0),
    ("Rent", 1400.0),
)
OTHER_INCOME: tuple[tuple[str, float], ...] = (
    ("Freelance", 600.0),
    ("Interest", 15.0),
    ("Refunds", 40.0),
    ("Gifts received", 100.0),
)
TAGS = (
    "work",
    "family",
    "kids",
    "weekend",
    "online",
    "vacation",
    "reimbursable",
    "cash",
    "recurring",
    "health",
    "home",
    "car",
    "friends",
    "holiday",
    "business-trip",
    "tax-deductible",
)
MERCHANTS = {
    "Groceries": ("Whole Foods", "Trader Joe's", "Safeway", "Costco", "farmers market", "Aldi"),
    "Restaurants": ("Thai Palace", "pizza night", "sushi with friends", "Chipotle", "brunch", "burger place"),
    "Coffee": ("Starbucks", "Blue Bottle", "corner café", "coffee beans"),
    "Transport": ("metro card", "Uber", "Lyft", "bus pass", "parking"),
    "Fuel": ("Shell", "Chevron", "Costco gas", "BP"),
}
GENERIC_NOTES = (
    "Amazon order",
    "Target",
    "weekly shop",
    "birthday",
    "online order",
    "monthly bill",
    "annual fee",
    "split with Sam",
    "paid by card",
    "for the trip",
    "Café Müller — Zürich",
    "repair",
)


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    """The 25th of every month from ``start`` to ``end`` (inclusive)."""
    out: list[dt.date] = []
    year, month = start.year, start.month
    while True:
        day = dt.date(year, month, 25)
        if day > end:
            return out
        if day >= start:
            out.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _amount(rng: random.Random, typical: float, spread: float = 0.6) -> str:
    """A positive amount in whole cents, log-normal around ``typical`` dollars, as text."""
    cents = max(1, round(typical * 100 * math.exp(rng.gauss(0.0, spread))))
    return f"{cents // 100}.{cents % 100:02d}"


def _stamp(rng: random.Random, day: dt.date, lag_days: int = 0) -> dt.datetime:
    """An evening time on ``day`` (+ ``lag_days``), UTC, to the microsecond."""
    base = dt.datetime(day.year, day.month, day.day, 17, 0, tzinfo=dt.UTC) + dt.timedelta(days=lag_days)
    return base + dt.timedelta(seconds=rng.randrange(6 * 3600), microseconds=rng.randrange(1_000_000))


def _new_id(rng: random.Random, used: set[str]) -> str:
    while True:
        tx_id = f"{rng.getrandbits(64):016x}"
        if tx_id not in used:
            used.add(tx_id)
            return tx_id


def _salary_base(rows: int, weights: list[float], spread: float = 0.6) -> float:
    """What all salaries together must bring in: 12 % more than the expected spending of ``rows`` rows."""
    lognormal_mean = math.exp(spread**2 / 2)
    per_expense = sum(w * typical for w, (_, typical) in zip(weights, EXPENSE_CATEGORIES, strict=True)) / sum(weights)
    per_income = sum(typical for _, typical in OTHER_INCOME) / len(OTHER_INCOME)
    spending = rows * (0.98 - TRANSFER_SHARE) * per_expense * lognormal_mean
    other_income = rows * 0.02 * per_income * lognormal_mean
    return max(1.12 * spending - other_income, 0.0)


def generate(n: int, seed: int = DEFAULT_SEED) -> list[Transaction]:
    """``n`` validated transactions (see the module docstring), built with ``make_transaction``."""
    if n < 0:
        raise ValueError("n must not be negative")
    rng = random.Random(seed)
    used: set[str] = set()
    out: list[Transaction] = []

    accounts = {a.name: a for a in ACCOUNTS_DECLARED}

    def transfer(day: dt.date) -> None:
        source, target, typical = rng.choice(TRANSFERS)
        amount = _amount(rng, typical, spread=0.3)
        arriving = None
        if accounts[source].currency != accounts[target].currency:
            cents = round(int(amount.replace(".", "")) * 0.92)
            arriving = f"{cents // 100}.{cents % 100:02d}"
        out_side, in_side = make_transfer(accounts[source], accounts[target], amount, to_amount=arriving, date=day)
        created = _stamp(rng, day)
        first, second = _new_id(rng, used), _new_id(rng, used)
        stamp = {"created_at": created, "updated_at": created}
        out.append(dataclasses.replace(out_side, id=first, link=second, **stamp))
        out.append(dataclasses.replace(in_side, id=second, link=first, **stamp))

    def add(kind: str, amount: str, category: str | None, day: dt.date, **extra: object) -> None:
        created = _stamp(rng, day)
        tx = make_transaction(
            type=kind,
            amount=amount,
            category=category,
            currency=extra.pop("currency", CURRENCY),
            date=day,
            id=_new_id(rng, used),
            account=extra.pop("account", "Checking"),
            now=created,
            **extra,  # type: ignore[arg-type]
        )
        if rng.random() < 0.05:
            tx = dataclasses.replace(tx, updated_at=_stamp(rng, day, lag_days=rng.randrange(1, 31)))
        out.append(tx)

    paydays = _months(START, END)
    salaries = paydays[-min(len(paydays), n // 10) :] if n >= 10 else []
    weights = [1.0 / rank**1.1 for rank in range(1, len(EXPENSE_CATEGORIES) + 1)]
    raises = [1.03 ** (day.year - START.year) for day in salaries]
    base = _salary_base(n - len(salaries), weights) / sum(raises) if salaries else 0.0
    for day, factor in zip(salaries, raises, strict=True):
        add("income", f"{base * factor:.2f}", "Salary", day, note="monthly salary", tags=["work"])

    tag_weights = [1.0 / rank for rank in range(1, len(TAGS) + 1)]
    span = (END - START).days + 1
    while len(out) < n:
        day = START + dt.timedelta(days=rng.randrange(span))
        if day.weekday() < 5 and rng.random() < 0.12:  # a few more purchases on weekends
            day += dt.timedelta(days=5 - day.weekday())
            if day > END:
                day = END
        if rng.random() < TRANSFER_SHARE / 2 and len(out) + 2 <= n:
            transfer(day)
            continue
        if rng.random() < 0.02:
            category, typical = rng.choice(OTHER_INCOME)
            note = rng.choice(("", "", "client work", "bank"))
            add("income", _amount(rng, typical), category, day, note=note, account=_income_account(category))
            continue
        category, typical = rng.choices(EXPENSE_CATEGORIES, weights)[0]
        roll = rng.random()
        currency = "EUR" if roll < 0.015 else "GBP" if roll < 0.03 else CURRENCY
        roll = rng.random()
        count = 0 if roll < 0.55 else 1 if roll < 0.88 else 2
        tags = set(rng.choices(TAGS, tag_weights, k=count))
        if currency != CURRENCY:
            tags.add("vacation")
        note = ""
        if rng.random() < 0.65:
            note = rng.choice(MERCHANTS.get(category, GENERIC_NOTES))
            if rng.random() < 0.2:
                note += f" #{rng.randrange(1, 999)}"
        external = f"bank-{rng.getrandbits(48):012x}" if rng.random() < 0.3 else None
        roll = rng.random()
        if currency == "EUR":
            account = "Euro account"
        elif currency == "GBP":
            account = "Pound account"
        elif roll < 0.45:
            account = "Visa"
        else:
            account = "Cash" if category in CASH_CATEGORIES and roll < 0.75 else "Checking"
        amount = _amount(rng, typical)
        extra: dict[str, object] = {}
        lines = _split(rng, amount, category, weights) if rng.random() < SPLIT_SHARE else None
        if lines:
            extra["splits"] = lines
        if currency != CURRENCY and rng.random() < 1 / 3:
            rate = USD_PER[currency]
            extra["original_amount"] = f"{int(amount.replace('.', '')) * rate / 100:.2f}"
            extra["original_currency"] = CURRENCY
        add(
            "expense",
            amount,
            None if lines else category,  # a split has no category of its own
            day,
            currency=currency,
            tags=sorted(tags),
            note=note,
            external_id=external,
            account=account,
            **extra,
        )
    return out


SPLIT_SHARE = 0.10
"""The share of expenses split into lines."""
USD_PER = {"EUR": 1.09, "GBP": 1.27}
"""About what one unit cost in USD, for the original amounts of the travel rows (not a rate the ledger uses)."""


def _split(rng: random.Random, amount: str, category: str, weights: list[float]) -> list[dict[str, object]] | None:
    """Two or three lines of ``amount``: ``category`` first, then other categories; exact in minor units
    (``None`` for an amount too small to split)."""
    total = int(amount.replace(".", ""))
    shares = (0.4,) if rng.random() < 0.6 else (0.25, 0.15)
    parts = [int(total * share) for share in shares]
    others = list(dict.fromkeys(c for c, _ in rng.choices(EXPENSE_CATEGORIES, weights, k=6) if c != category))
    if min(parts) < 1 or len(others) < len(parts):
        return None
    lines = [{"category": category, "amount_minor": total - sum(parts)}]
    lines += [{"category": c, "amount_minor": m} for c, m in zip(others, parts, strict=False)]
    return lines


def daily_rates(seed: int = DEFAULT_SEED) -> list[tuple[dt.date, str, str, str]]:
    """EUR/USD and EUR/GBP for every weekday of the decade: a seeded random walk, four decimals."""
    rng = random.Random(seed + 16)
    usd, gbp = 1.10, 0.86
    out = []
    day = START
    while day <= END:
        if day.weekday() < 5:
            usd *= math.exp(rng.gauss(0, 0.004))
            gbp *= math.exp(rng.gauss(0, 0.003))
            out.append((day, "EUR", "USD", f"{usd:.4f}"))
            out.append((day, "EUR", "GBP", f"{gbp:.4f}"))
        day += dt.timedelta(days=1)
    return out


def rates_meta(seed: int = DEFAULT_SEED) -> dict[str, object]:
    """The ledger meta that stores :func:`daily_rates`."""
    from tracker.rates import RATES, Rate, RateBook

    return RATES.stored(RateBook().with_rates(Rate.make(*r) for r in daily_rates(seed)))


def write_rates_csv(path: Path, seed: int = DEFAULT_SEED) -> Path:
    """:func:`daily_rates` as a plain ``date,base,quote,rate`` file (what ``rates import`` reads)."""
    lines = ["date,base,quote,rate", *(f"{d.isoformat()},{b},{q},{r}" for d, b, q, r in daily_rates(seed))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _income_account(category: str) -> str:
    return "Savings" if category == "Interest" else "Checking"


def accounts_meta() -> dict[str, object]:
    """The ledger meta that declares :data:`ACCOUNTS_DECLARED`."""
    return ACCOUNTS.stored(AccountBook(ACCOUNTS_DECLARED, "Checking"))


def snapshot_of(transactions: list[Transaction], seq: int = 1) -> dict[str, object]:
    """The columnar snapshot (current schema) the ledger would write for these transactions (by date, creation, id)."""
    records = sorted((t.to_record() for t in transactions), key=lambda r: (r["date"], r["created_at"], r["id"]))
    snap = empty_snapshot()
    meta = {"settings": {"currency": CURRENCY}, **accounts_meta(), **rates_meta()}
    snap.update(seq=seq, transactions=stored_columns(records), meta=meta)
    return snap


def write_ledger(data_dir: Path, n: int, seed: int = DEFAULT_SEED) -> Path:
    """Generate ``n`` transactions and store them in ``data_dir`` as one snapshot; returns the folder.

    The folder must not hold a ledger yet (the benchmarks always start from a fresh one).
    """
    data_dir = Path(data_dir)
    backend = JsonBackend(data_dir)
    if backend.snapshot_path.exists():
        raise FileExistsError(f"{backend.snapshot_path} already exists")
    snap = snapshot_of(generate(n, seed))
    with backend.lock():
        backend.compact(snap)
    return data_dir
