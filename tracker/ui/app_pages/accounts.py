"""Accounts: net worth, every account's balances by kind, forms to manage the accounts, reconciling a statement,
and one account's balance with its forecast.

Widget keys start with ``acc_``. Changes go through :mod:`tracker.accounts` in button and form callbacks; a
refused change keeps what was typed and shows why (nothing is written then).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import streamlit as st

from tracker import accounts
from tracker.accounts import KINDS, LIABILITIES, Account, Balance
from tracker.charts import plotly_charts
from tracker.errors import TrackerError, ValidationError
from tracker.forecast import forecast
from tracker.ledger import Ledger
from tracker.model import Transaction
from tracker.money import CURRENCY_EXPONENTS, format_plain, parse_user_amount
from tracker.ui import session
from tracker.ui.caches import cached, shared_cached
from tracker.ui.formatting import error_text, flash, guard, md, money, number_format, show_flash, signed_money

# The heading of each kind's group (tracker.accounts.KINDS).
KIND_NAMES = {
    "checking": "Checking",
    "savings": "Savings",
    "credit-card": "Credit cards",
    "cash": "Cash",
    "loan": "Loans",
    "asset": "Other assets",
}
HORIZONS = {"3 months": 91, "6 months": 183, "1 year": 365, "2 years": 730}  # how far ahead the forecast looks (days)
HISTORY_DAYS = 365  # the balance chart shows the month ends of the last year (or since the account began)
MAX_TICK_ROWS = 300  # the reconcile list shows at most this many rows (oldest first); "Mark all" takes them all
NO_MOVE = "Nothing to move"


# -- reading typed amounts ----------------------------------------------------------------------------


def signed_amount(text: str, led: Ledger, field: str) -> Decimal | None:
    """A balance a person typed: ``-`` (or ``−``) then an amount in their number format; ``None`` when empty."""
    body = (text or "").strip()
    if not body:
        return None
    negative = body[0] in "-−"
    try:
        value = parse_user_amount(body[1:] if negative else body, number_format(led), field=field)
    except ValidationError as exc:
        raise ValidationError(field, text, exc.problem) from None
    return -value if negative else value


def owed_text(account: Account) -> str:
    """The opening balance as the forms show it: for a credit card or loan, what is owed (positive)."""
    minor = -account.opening_minor if account.liability else account.opening_minor
    return format_plain(minor, account.currency) if minor else ""


# -- net worth and balances ---------------------------------------------------------------------------


def net_worth(led: Ledger, found: list[Balance]) -> None:
    """One KPI per currency: assets minus what is owed."""
    totals = accounts.net_worth(found)
    st.subheader("Net worth")
    if not totals:
        st.caption("Nothing yet.")
        return
    for column, (code, minor) in zip(st.columns(max(len(totals), 3)), totals.items(), strict=False):
        column.metric(f"Net worth ({code})", money(minor, code, led), border=True)
    st.caption("Every account's balance (closed ones too): assets minus what is owed on credit cards and loans.")


def balance_tables(led: Ledger, found: list[Balance], default: str) -> None:
    """The accounts grouped by kind, with their balance, cleared and reconciled balances."""
    for kind in KINDS:
        mine = [b for b in found if b.account.kind == kind]
        if not mine:
            continue
        st.markdown(f"**{KIND_NAMES.get(kind, kind)}**")
        st.dataframe(
            pd.DataFrame(
                {
                    "Account": [b.account.name for b in mine],
                    "Balance": [money(b.balance, b.account.currency, led) for b in mine],
                    "Cleared": [money(b.cleared, b.account.currency, led) for b in mine],
                    "Reconciled": [money(b.reconciled, b.account.currency, led) for b in mine],
                    "Status": [status(b.account, default) for b in mine],
                    "Note": [b.account.note for b in mine],
                }
            ),
            hide_index=True,
            width="stretch",
            key=f"acc_table_{kind}",
        )
        for b in mine:
            if b.others:
                others = ", ".join(money(m, c, led) for c, m in sorted(b.others.items()))
                st.caption(md(f"{b.account.name} also has rows in other currencies ({others}), not in its balance."))
    if any(b.account.kind in LIABILITIES for b in found):
        st.caption("What is owed on a credit card or loan is shown as a negative balance.")


def status(account: Account, default: str) -> str:
    """``Closed``, ``Open · default``, ``Open``."""
    if account.closed:
        return "Closed"
    return "Open · default" if account.name == default else "Open"


# -- managing accounts --------------------------------------------------------------------------------


def _failed(key: str, exc: TrackerError, typed: object = None) -> None:
    st.session_state[key] = error_text(exc, typed)


def _add() -> None:
    ss = st.session_state
    typed = ss.get("acc_add_opening") or ""
    try:
        led = session.ledger()
        account = accounts.add_account(
            led,
            ss.get("acc_add_name") or "",
            kind=ss.get("acc_add_kind", "checking"),
            currency=ss.get("acc_add_currency") or led.default_currency,
            opening=signed_amount(typed, led, "opening"),
            opening_date=ss.get("acc_add_opening_date"),
            note=ss.get("acc_add_note", ""),
        )
    except TrackerError as exc:
        _failed("acc_add_error", exc, typed)
        return
    ss.pop("acc_add_error", None)
    for key in ("acc_add_name", "acc_add_opening", "acc_add_note"):
        ss[key] = ""
    flash(f"Added the account {account.name} ({account.kind}, {account.currency}).")


def add_form(led: Ledger) -> None:
    """Declare a new account (keys ``acc_add_...``)."""
    codes = sorted(CURRENCY_EXPONENTS)
    with st.form("acc_add_form", border=False):
        a, b, c = st.columns(3)
        a.text_input("Name", key="acc_add_name", placeholder="Savings")
        b.selectbox("Kind", KINDS, key="acc_add_kind", format_func=lambda k: k.replace("-", " ").capitalize())
        c.selectbox(
            "Currency",
            codes,
            index=codes.index(led.default_currency) if led.default_currency in codes else 0,
            key="acc_add_currency",
        )
        a, b, c = st.columns(3)
        a.text_input(
            "Opening balance",
            key="acc_add_opening",
            placeholder="0.00",
            help="The balance before its first transaction. For a credit card or loan: what is owed (500 = owes 500).",
        )
        b.date_input(
            "Opening date (optional)",
            value=None,
            key="acc_add_opening_date",
            format="YYYY-MM-DD",
            min_value=dt.date(1970, 1, 1),
        )
        c.text_input("Note", key="acc_add_note", placeholder="Optional")
        st.form_submit_button("Add account", type="primary", on_click=_add)
    error = st.session_state.get("acc_add_error")
    if error:
        st.error(md(error), icon=":material/error:")


def _load_edit(account: Account) -> None:
    """Fill the edit form with ``account``'s fields (when another account is chosen)."""
    ss = st.session_state
    ss["acc_edit_name"] = account.name
    ss["acc_edit_kind"] = account.kind
    ss["acc_edit_note"] = account.note
    ss["acc_edit_opening"] = owed_text(account)
    ss["acc_edit_opening_date"] = account.opening_date
    ss["acc_edit_loaded"] = account.name
    ss.pop("acc_edit_error", None)


def _edit(name: str) -> None:
    ss = st.session_state
    typed = ss.get("acc_edit_opening") or ""
    new_name = (ss.get("acc_edit_name") or "").strip()
    try:
        led = session.ledger()
        opening = signed_amount(typed, led, "opening")
        changed = accounts.edit_account(
            led,
            name,
            new_name=new_name if new_name != name else None,
            kind=ss.get("acc_edit_kind"),
            note=ss.get("acc_edit_note", ""),
            opening=opening if opening is not None else "",
            opening_date=ss.get("acc_edit_opening_date") or "",
        )
    except TrackerError as exc:
        _failed("acc_edit_error", exc, typed)
        return
    ss.pop("acc_edit_error", None)
    ss["acc_edit_account"] = changed.name
    ss["acc_edit_loaded"] = None  # load the saved fields on the next run
    renamed = f" (was {name})" if changed.name != name else ""
    flash(f"Saved the account {changed.name}{renamed}.")


def edit_form(led: Ledger, found: list[Account]) -> None:
    """Rename an account, change its kind, note and opening balance (keys ``acc_edit_...``)."""
    ss = st.session_state
    names = [a.name for a in found]
    if ss.get("acc_edit_account") not in names:
        ss.pop("acc_edit_account", None)
    name = st.selectbox("Account to edit", names, key="acc_edit_account")
    account = found[names.index(name)]
    if ss.get("acc_edit_loaded") != account.name:
        _load_edit(account)
    with st.form("acc_edit_form", border=False):
        a, b, c = st.columns(3)
        a.text_input("Name", key="acc_edit_name", help="Its transactions (and recurring ones) move with the new name.")
        b.selectbox("Kind", KINDS, key="acc_edit_kind", format_func=lambda k: k.replace("-", " ").capitalize())
        c.text_input("Note", key="acc_edit_note")
        a, b = st.columns(2)
        a.text_input(
            f"Opening balance ({account.currency})",
            key="acc_edit_opening",
            help="For a credit card or loan: what is owed.",
        )
        b.date_input(
            "Opening date (empty: from the start)",
            key="acc_edit_opening_date",
            format="YYYY-MM-DD",
            min_value=dt.date(1970, 1, 1),
        )
        st.form_submit_button("Save account", on_click=_edit, args=(account.name,))
    error = ss.get("acc_edit_error")
    if error:
        st.error(md(error), icon=":material/error:")


def _set_state(name: str, action: str) -> None:
    """Button callback: close, reopen or make default."""
    try:
        led = session.ledger()
        if action == "default":
            accounts.set_default_account(led, name)
            flash(f"{name} is now the default account: new transactions go into it unless another is chosen.")
        else:
            accounts.close_account(led, name, closed=action == "close")
            flash(
                f"Closed {name}: it keeps its balance; nothing new goes into it."
                if action == "close"
                else f"Reopened {name}."
            )
    except TrackerError as exc:
        flash(str(exc), "error")


def state_form(led: Ledger, found: list[Account], default: str) -> None:
    """Close or reopen an account, or make it the default (keys ``acc_state_...``)."""
    names = [a.name for a in found]
    name = st.selectbox("Account", names, key="acc_state_account")
    account = found[names.index(name)]
    st.caption(md(f"{account.name} is {status(account, default).lower()}."))
    a, b, _ = st.columns([1, 1, 2])
    if account.closed:
        a.button("Reopen", key="acc_state_reopen", on_click=_set_state, args=(name, "reopen"), width="stretch")
    else:
        a.button("Close", key="acc_state_close", on_click=_set_state, args=(name, "close"), width="stretch")
    b.button(
        "Make default",
        key="acc_state_default",
        on_click=_set_state,
        args=(name, "default"),
        disabled=account.closed or account.name == default,
        width="stretch",
    )


def _delete(name: str) -> None:
    ss = st.session_state
    if not ss.get("acc_del_sure"):
        ss["acc_del_error"] = "Tick the box to confirm, then press Delete account again."
        return
    target = ss.get("acc_del_move_to")
    try:
        moved = accounts.delete_account(session.ledger(), name, move_to=None if target in (None, NO_MOVE) else target)
    except TrackerError as exc:
        _failed("acc_del_error", exc)
        return
    ss.pop("acc_del_error", None)
    ss["acc_del_sure"] = False
    where = f"; {moved} transaction{'s' if moved != 1 else ''} moved to {target}" if moved else ""
    flash(f"Deleted the account {name}{where}.")


def delete_form(led: Ledger, found: list[Account]) -> None:
    """Delete an account, moving its transactions (and recurring ones) to another (keys ``acc_del_...``)."""
    names = [a.name for a in found]
    name = st.selectbox("Account to delete", names, key="acc_del_account")
    count = len(led.transactions_in(name))
    targets = [a.name for a in found if a.name != name and not a.closed]
    st.selectbox(
        "Move its transactions to",
        [NO_MOVE, *targets] if not count else targets or [NO_MOVE],
        key="acc_del_move_to",
        help="An account with transactions or recurring transactions is deleted only when they move to another.",
    )
    st.caption(md(f"{name} has {count} transaction{'s' if count != 1 else ''}."))
    st.checkbox("Yes, delete this account", key="acc_del_sure")
    st.button("Delete account", key="acc_del_button", on_click=_delete, args=(name,))
    error = st.session_state.get("acc_del_error")
    if error:
        st.error(md(error), icon=":material/error:")


def manage(led: Ledger, found: list[Account], default: str) -> None:
    """The forms to add, edit, close/reopen/default and delete accounts, one tab each."""
    st.subheader("Manage accounts")
    add, edit, state, delete = st.tabs(["Add", "Edit", "Close, reopen, default", "Delete"])
    with add:
        add_form(led)
    if not found:
        return
    with edit:
        edit_form(led, found)
    with state:
        state_form(led, found, default)
    with delete:
        delete_form(led, found)


# -- reconciling -------------------------------------------------------------------------------------


def _tick(tx_id: str) -> None:
    """Checkbox callback: mark one transaction cleared or not."""
    try:
        accounts.set_cleared(session.ledger(), [tx_id], cleared=bool(st.session_state.get(f"acc_rec_tick_{tx_id}")))
    except TrackerError as exc:
        flash(str(exc), "error")


def _tick_all(ids: list[str]) -> None:
    try:
        accounts.set_cleared(session.ledger(), ids, cleared=True)
    except TrackerError as exc:
        flash(str(exc), "error")


def _finish(name: str) -> None:
    ss = st.session_state
    typed = ss.get("acc_rec_balance") or ""
    try:
        led = session.ledger()
        result = accounts.reconcile(
            led, name, signed_amount(typed, led, "balance"), ss.get("acc_rec_date"), finish=True
        )
    except TrackerError as exc:
        flash(error_text(exc, typed), "error")
        return
    if not result.reconciled:
        flash(
            f"Not reconciled: the difference is now {money(result.difference, result.account.currency, led)}.", "error"
        )
        return
    ss["acc_rec_balance"] = ""
    flash(
        f"Reconciled {name} on {result.date:%Y-%m-%d}: {result.marked} transaction{'s' if result.marked != 1 else ''} "
        "marked reconciled."
    )


def unreconciled(led: Ledger, account: Account, day: dt.date) -> list[Transaction]:
    """The account's transactions up to ``day`` not reconciled yet, in its currency, oldest first."""
    return [
        tx
        for tx in led.transactions_in(account.name)
        if not tx.reconciled and tx.date <= day and tx.currency == account.currency
    ]


def reconcile_section(led: Ledger, found: list[Account], today: dt.date) -> None:
    """Statement balance and date -> the difference -> tick what the statement shows -> finish (keys ``acc_rec_...``)."""
    st.subheader("Reconcile with a statement")
    names = [a.name for a in found]
    a, b, c = st.columns(3)
    name = a.selectbox("Account", names, key="acc_rec_account")
    account = found[names.index(name)]
    typed = b.text_input(
        f"Statement balance ({account.currency})",
        key="acc_rec_balance",
        placeholder="1234.56",
        help="The closing balance on the statement. For a credit card or loan what is owed is negative (-250.00).",
    )
    day = c.date_input(
        "Statement date", value=today, key="acc_rec_date", format="YYYY-MM-DD", min_value=dt.date(1970, 1, 1)
    )
    if not typed.strip():
        st.caption("Type the statement's closing balance: the difference with the cleared balance shows here.")
        return
    try:
        result = accounts.reconcile(led, name, signed_amount(typed, led, "balance"), day, finish=False)
    except TrackerError as exc:
        st.error(md(error_text(exc, typed)), icon=":material/error:")
        return
    code = account.currency
    m1, m2, m3 = st.columns(3)
    m1.metric("Statement balance", money(result.statement, code, led), border=True)
    m2.metric("Cleared balance", money(result.cleared, code, led), border=True)
    m3.metric("Difference", money(result.difference, code, led), border=True)
    rows = unreconciled(led, account, result.date)
    ss = st.session_state
    if rows:
        st.markdown(f"**Not reconciled yet, up to {result.date:%Y-%m-%d}**: tick what the statement shows.")
        for tx in rows[:MAX_TICK_ROWS]:
            key = f"acc_rec_tick_{tx.id}"
            ss[key] = tx.cleared  # the stored mark, also when it changed elsewhere
            label = " · ".join(
                filter(None, [f"{tx.date:%Y-%m-%d}", tx.category, signed_money(tx.signed_minor, code, led), tx.note])
            )
            st.checkbox(md(label), key=key, on_change=_tick, args=(tx.id,))
        if len(rows) > MAX_TICK_ROWS:
            st.caption(f"{len(rows) - MAX_TICK_ROWS} more not shown; narrow the date or mark them all.")
        uncleared = [tx.id for tx in rows if not tx.cleared]
        st.button(
            f"Mark all {len(uncleared)} cleared",
            key="acc_rec_all",
            on_click=_tick_all,
            args=(uncleared,),
            disabled=not uncleared,
        )
    else:
        st.caption("Every transaction up to that date is reconciled already.")
    if result.difference:
        st.caption("Finish is possible once the difference is zero: tick the transactions on the statement.")
    else:
        st.success("The cleared balance matches the statement.", icon=":material/check_circle:")
    st.button(
        "Finish reconciliation",
        type="primary",
        key="acc_rec_finish",
        on_click=_finish,
        args=(name,),
        disabled=result.difference != 0,
    )


# -- balance and forecast ---------------------------------------------------------------------------


def balance_history(led: Ledger, account: Account, today: dt.date) -> list[tuple[dt.date, int]]:
    """``(day, balance)`` at every month end of the last year (since the account began) and today."""
    txs = led.transactions_in(account.name)
    starts = [d for d in (txs[0].date if txs else None, account.opening_date) if d is not None]
    first = max(min(starts, default=today), today - dt.timedelta(days=HISTORY_DAYS))
    out = []
    for day in accounts.month_ends(min(first, today), today):
        mine = next(b for b in accounts.balances(led, day) if b.account.name == account.name)
        out.append((day, mine.balance))
    return out


def forecast_chart(led: Ledger, found: list[Account], today: dt.date) -> None:
    """The chosen account's balance over the last year and its forecast (keys ``acc_chart_...``)."""
    st.subheader("Balance and forecast")
    names = [a.name for a in found]
    a, b = st.columns([2, 1])
    name = a.selectbox("Account", names, key="acc_chart_account")
    horizon = b.selectbox("Look ahead", list(HORIZONS), index=1, key="acc_chart_horizon")
    account = found[names.index(name)]
    until = today + dt.timedelta(days=HORIZONS[horizon])
    history = cached("acc_history", led, (account, today), lambda: balance_history(led, account, today))
    ahead = cached("acc_forecast", led, (account.name, until, today), lambda: forecast(led, account.name, until, today))
    style = {"theme": session.current_theme(), "number_format": number_format(led)}
    fig = shared_cached(
        "acc_forecast_figure",
        led,
        (account, until, today, tuple(sorted(style.items()))),
        lambda: plotly_charts.balance_forecast_lines(history, ahead.points(), account.currency, **style),
    )
    st.plotly_chart(fig, key="acc_chart", theme=None, config={"displaylogo": False, "displayModeBar": False})
    code = account.currency
    st.caption(
        md(
            f"Forecast: {money(ahead.projected, code, led)} on {until:%Y-%m-%d} from today's balance, the transactions "
            "already entered for later dates and the recurring transactions of this account."
        )
    )
    if ahead.based_on is not None:
        first, last = ahead.based_on
        st.caption(
            md(
                f"Estimate (dotted): {money(ahead.estimated, code, led)} on {until:%Y-%m-%d}; it also takes off the usual "
                f"spending no recurring transaction covers, about {money(ahead.monthly_spending(), code, led)} a month "
                f"(the average of {first:%Y-%m-%d} – {last:%Y-%m-%d}). It is an estimate, not a plan."
            )
        )
    else:
        st.caption("Estimate (dotted): no spending in the last three months to estimate from; it equals the forecast.")
    if ahead.left_out:
        st.caption(f"{ahead.left_out} item(s) in another currency than {code} are left out.")


# -- the page ----------------------------------------------------------------------------------------

with guard("The Accounts page"):
    led = session.ledger()
    today = dt.date.today()
    st.title("Accounts")
    show_flash()
    found = cached("acc_balances", led, None, lambda: accounts.balances(led))
    known = [b.account for b in found]
    default = accounts.default_account(led).name
    net_worth(led, found)
    if found:
        balance_tables(led, found, default)
    else:
        st.info(
            "No accounts yet. Your transactions go into a checking account called "
            f"{md(default)} until you add others: savings, a credit card, cash or a loan.",
            icon=":material/account_balance:",
        )
    manage(led, known, default)
    if known:
        st.divider()
        with guard("Reconciling"):
            reconcile_section(led, known, today)
        st.divider()
        with guard("The forecast"):
            forecast_chart(led, known, today)
