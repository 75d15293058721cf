"""The Recurring page in AppTest: templates, upcoming occurrences, adding (with posting of what is due), deleting."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from app_helpers import choose, open_app, plain

from tracker.ledger import Ledger
from tracker.recurring import add_template, load_templates, make_template

PAGE = "app_pages/recurring.py"
TODAY = dt.date.today()


open_page = functools.partial(open_app, PAGE)


def test_empty_ledger_renders_an_invitation(data_dir: Path) -> None:
    at = open_page()
    assert any("No recurring transactions yet" in i.value for i in at.info)
    assert any("Nothing scheduled" in c.value for c in at.caption)
    assert not at.error


def test_the_router_posts_what_fell_due_and_the_page_shows_upcoming(ledger: Ledger) -> None:
    t = add_template(
        ledger,
        make_template(
            type="expense",
            amount="15",
            category="Gym",
            currency="USD",
            every="week",
            start=TODAY - dt.timedelta(days=14),
        ),
    )
    at = open_page()
    assert len(Ledger(ledger.location)) == 3  # 14 and 7 days ago, and today: posted at session start
    upcoming = at.dataframe[0].value
    assert list(upcoming["Date"]) == [f"{TODAY + dt.timedelta(days=d):%a %Y-%m-%d}" for d in range(7, 61, 7)]
    assert set(upcoming["Amount"]) == {"-$15.00"}
    assert any(f"id {t.id}" in c.value and "3 posted" in c.value for c in at.caption)
    assert any("Expense of **$15.00** every week" in plain(m.value) for m in at.markdown)


def test_add_with_the_form_posts_the_due_occurrences(data_dir: Path) -> None:
    at = open_page()
    at.radio(key="rec_type").set_value("income")
    at.text_input(key="rec_amount").input("2500")
    choose(at, "rec_category", "Salary")
    at.number_input(key="rec_every").set_value(2)
    at.selectbox(key="rec_unit").set_value("week")
    at.date_input(key="rec_start").set_value(TODAY - dt.timedelta(days=15))
    at.multiselect(key="rec_tags").set_value([])
    at.text_input(key="rec_note").input("pay day")
    next(b for b in at.button if b.label == "Add recurring transaction").click().run()
    assert not at.exception
    assert not at.error
    led = Ledger(data_dir)
    (t,) = load_templates(led)
    assert (t.type, t.amount_minor, t.category, t.every, t.unit, t.note) == (
        "income",
        250000,
        "Salary",
        2,
        "week",
        "pay day",
    )
    assert sorted(tx.date for tx in led.transactions()) == [TODAY - dt.timedelta(days=15), TODAY - dt.timedelta(days=1)]
    assert any("2 occurrences were already due and posted" in s.value for s in at.success)


def test_invalid_input_shows_the_message_and_adds_nothing(data_dir: Path) -> None:
    at = open_page()
    at.text_input(key="rec_amount").input("-5")
    choose(at, "rec_category", "Rent")
    next(b for b in at.button if b.label == "Add recurring transaction").click().run()
    assert any("amount: '-5'" in e.value for e in at.error)
    assert load_templates(Ledger(data_dir)) == []
    at.text_input(key="rec_amount").input("5")
    at.date_input(key="rec_end").set_value(TODAY - dt.timedelta(days=400))
    next(b for b in at.button if b.label == "Add recurring transaction").click().run()
    assert any(e.value.startswith("end:") for e in at.error)
    assert load_templates(Ledger(data_dir)) == []


def test_delete_a_template_keeps_its_transactions(ledger: Ledger) -> None:
    t = add_template(
        ledger, make_template(type="expense", amount="9.99", category="Music", currency="USD", start=TODAY)
    )
    at = open_page()
    at.button(key=f"rec_delete_{t.id}").click().run()
    assert not at.exception
    led = Ledger(ledger.location)
    assert load_templates(led) == []
    assert len(led) == 1
    assert any("Deleted the recurring Music" in s.value for s in at.success)


def test_post_due_now(ledger: Ledger) -> None:
    at = open_page()
    add_template(
        ledger,
        make_template(
            type="expense",
            amount="3",
            category="Coffee",
            currency="USD",
            every="day",
            start=TODAY - dt.timedelta(days=2),
        ),
    )
    at.button(key="rec_post_now").click().run()
    assert not at.exception
    assert len(Ledger(ledger.location)) == 3
    at.button(key="rec_post_now").click().run()
    assert len(Ledger(ledger.location)) == 3


def test_edit_a_template_changes_its_future_occurrences(ledger: Ledger) -> None:
    t = add_template(
        ledger,
        make_template(
            type="expense", amount="9.99", category="Music", currency="USD", start=TODAY - dt.timedelta(days=3)
        ),
    )
    at = open_page()
    assert at.text_input(key=f"rec_edit_amount_{t.id}").value == "9.99"
    at.text_input(key=f"rec_edit_amount_{t.id}").input("11.99")
    at.multiselect(key=f"rec_edit_tags_{t.id}").set_value(["subscriptions"])
    at.text_input(key=f"rec_edit_note_{t.id}").input("family plan")
    next(b for b in at.button if b.label == "Save changes").click().run()
    assert not at.exception
    assert not at.error
    led = Ledger(ledger.location)
    (edited,) = load_templates(led)
    assert (edited.amount_minor, edited.tags, edited.note, edited.next_index) == (
        1199,
        ("subscriptions",),
        "family plan",
        1,
    )
    (posted,) = led.transactions()
    assert posted.amount_minor == 999  # what was posted stays
    assert any("Saved: Music every month" in plain(s.value) for s in at.success)
    assert any("Expense of **$11.99** every month" in plain(m.value) for m in at.markdown)


def test_an_invalid_edit_shows_the_message_and_changes_nothing(ledger: Ledger) -> None:
    t = add_template(ledger, make_template(type="expense", amount="50", category="Gym", currency="USD", start=TODAY))
    at = open_page()
    files = {p.name: p.read_bytes() for p in ledger.location.iterdir() if p.is_file()}  # after the start-up posting
    at.text_input(key=f"rec_edit_amount_{t.id}").input("fifty")
    at.number_input(key=f"rec_edit_every_{t.id}").set_value(2)
    next(b for b in at.button if b.label == "Save changes").click().run()
    assert not at.exception
    assert any(e.value.startswith("amount:") for e in at.error)
    assert {p.name: p.read_bytes() for p in ledger.location.iterdir() if p.is_file()} == files
    at.text_input(key=f"rec_edit_amount_{t.id}").input("50")
    next(b for b in at.button if b.label == "Save changes").click().run()
    assert not at.error
    (edited,) = load_templates(Ledger(ledger.location))
    assert (edited.every, edited.unit) == (2, "month")
    assert edited.start == t.occurrence(1)  # the new interval starts at the next occurrence


def test_the_forms_read_amounts_in_the_number_format(ledger: Ledger) -> None:
    """With ``1.234,56`` the Recurring forms refused ``12,50`` ("write it like 12.50")."""
    ledger.update_settings(number_format="1.234,56")
    at = open_page()
    at.text_input(key="rec_amount").input("12,50")
    choose(at, "rec_category", "Music")
    at.date_input(key="rec_start").set_value(TODAY + dt.timedelta(days=3))
    next(b for b in at.button if b.label == "Add recurring transaction").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    (t,) = load_templates(Ledger(ledger.location))
    assert (t.amount_minor, t.category) == (1250, "Music")
    at.text_input(key=f"rec_edit_amount_{t.id}").input("1.299,99")
    next(b for b in at.button if b.label == "Save changes").click().run()
    assert not at.error, [e.value for e in at.error]
    (edited,) = load_templates(Ledger(ledger.location))
    assert edited.amount_minor == 129999


def test_a_refused_amount_is_quoted_as_typed(ledger: Ledger) -> None:
    ledger.update_settings(number_format="1.234,56")
    at = open_page()
    at.text_input(key="rec_amount").input("0,001")
    choose(at, "rec_category", "Music")
    next(b for b in at.button if b.label == "Add recurring transaction").click().run()
    assert any(e.value.startswith("amount: '0,001' has more decimal places") for e in at.error), at.error
    assert load_templates(Ledger(ledger.location)) == []


def test_the_add_form_posts_into_the_chosen_account_in_its_currency(ledger: Ledger) -> None:
    from tracker.accounts import add_account

    add_account(ledger, "Checking")
    add_account(ledger, "Euro savings", kind="savings", currency="EUR")
    at = open_page()
    assert at.selectbox(key="rec_account").value == "Checking"  # the default account
    assert at.text_input(key="rec_amount").label == "Amount (USD)"
    at.selectbox(key="rec_account").set_value("Euro savings").run()
    assert at.text_input(key="rec_amount").label == "Amount (EUR)"  # the currency follows the account
    at.text_input(key="rec_amount").input("25")
    choose(at, "rec_category", "Saving")
    at.date_input(key="rec_start").set_value(TODAY + dt.timedelta(days=1))
    next(b for b in at.button if b.label == "Add recurring transaction").click().run()
    assert not at.error, [e.value for e in at.error]
    (t,) = load_templates(Ledger(ledger.location))
    assert (t.account, t.currency, t.amount_minor) == ("Euro savings", "EUR", 2500)
    assert any("from Euro savings" in plain(m.value) for m in at.markdown)


def test_a_new_ledger_posts_into_its_default_account(data_dir: Path) -> None:
    at = open_page()
    assert at.selectbox(key="rec_account").options == ["Main"]
    at.text_input(key="rec_amount").input("9")
    choose(at, "rec_category", "Music")
    next(b for b in at.button if b.label == "Add recurring transaction").click().run()
    assert not at.error, [e.value for e in at.error]
    led = Ledger(data_dir)
    (t,) = load_templates(led)
    assert t.account == "Main"  # the account chosen in the form (a new ledger's first account)
    assert [tx.account for tx in led.transactions()] == ["Main"]


def test_the_edit_form_moves_a_template_to_another_account(ledger: Ledger) -> None:
    from tracker.accounts import add_account

    add_account(ledger, "Checking")
    add_account(ledger, "Card", kind="credit-card")
    t = add_template(
        ledger,
        make_template(
            type="expense", amount="12", category="Phone", currency="USD", start=TODAY + dt.timedelta(days=5)
        ),
    )
    at = open_page()
    assert at.selectbox(key=f"rec_edit_account_{t.id}").value == "Checking"
    at.selectbox(key=f"rec_edit_account_{t.id}").set_value("Card").run()
    next(b for b in at.button if b.label == "Save changes").click().run()
    assert not at.error, [e.value for e in at.error]
    (after,) = load_templates(Ledger(ledger.location))
    assert (after.account, after.amount_minor) == ("Card", 1200)
    assert any("(Card)" in plain(s.value) for s in at.success)
