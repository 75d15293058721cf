"""Budgets: for each category, spent against the month's budget, what is left, where the month is heading.

Below: set or delete a budget, every budget setting, and renaming, merging and colouring categories and tags.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from tracker import budgets, categories
from tracker.budgets import BudgetStatus, month_text, next_month, parse_month
from tracker.errors import TrackerError
from tracker.ledger import Ledger
from tracker.money import parse_user_amount
from tracker.ui import session
from tracker.ui.caches import cached
from tracker.ui.formatting import error_text, flash, guard, md, money, number_format, show_flash

SCOPES = ("Only this month", "Every month from this month on")
DELETE_SCOPES = ("Only this month", "From this month on", "All months")


def month_options(led: Ledger, today: dt.date) -> list[dt.date]:
    """Months to choose from: the first month with data or a budget (at most 5 years back) to 12 months ahead."""
    first = today.replace(day=1)
    frame = led.frame()
    starts = [s.month for s in budgets.load_settings(led)]
    if not frame.empty:
        starts.append(frame["date"].min().date().replace(day=1))
    if starts:
        first = max(min([*starts, first]), dt.date(today.year - 5, today.month, 1))
    months, current = [], first
    last = dt.date(today.year + 1, today.month, 1)
    while current <= last:
        months.append(current)
        current = next_month(current)
    return months


def month_picker(led: Ledger, today: dt.date) -> dt.date:
    """The month shown (key ``bud_month``), this month by default."""
    options = month_options(led, today)
    this = today.replace(day=1)
    return st.selectbox(
        "Month",
        options,
        index=options.index(this),
        key="bud_month",
        format_func=lambda m: f"{m:%B %Y}" + (" (this month)" if m == this else ""),
    )


def overview(led: Ledger, rows: list[BudgetStatus]) -> None:
    """Totals per currency: budgeted, spent, left."""
    for currency, t in budgets.totals(rows).items():
        a, b, c = st.columns(3)
        a.metric(f"Budgeted ({currency})", money(t["budget"], currency, led))
        b.metric("Spent", money(t["spent"], currency, led))
        c.metric("Left", money(t["left"], currency, led))


def category_row(led: Ledger, s: BudgetStatus) -> None:
    """One category: a progress bar, what is left, the projection, and a warning when over or heading over."""
    amount = lambda minor: money(minor, s.currency, led)  # noqa: E731
    with st.container(border=True):
        bar, numbers = st.columns([3, 2], vertical_alignment="center")
        share = (
            min(max(s.spent_minor / s.budget_minor, 0.0), 1.0)
            if s.budget_minor > 0
            else (1.0 if s.spent_minor else 0.0)
        )
        used = f" · {s.percent} %" if s.percent is not None else ""
        bar.markdown(f"**{md(s.category)}**" + (" · rollover" if s.rollover else ""))
        bar.progress(share, text=md(f"{amount(s.spent_minor)} of {amount(s.budget_minor)}{used}"))
        left = f"Left: **{md(amount(s.left_minor))}**" if not s.over else f"Over by **{md(amount(-s.left_minor))}**"
        lines = [left]
        if s.carried_minor:
            lines.append(md(f"includes {amount(s.carried_minor)} carried from last month"))
        if s.days_left and s.per_day_left_minor and s.left_minor > 0:
            lines.append(md(f"{amount(s.per_day_left_minor)} a day for the remaining {s.days_left} days"))
        lines.append(md(f"Projected month end: {amount(s.projected_minor)}"))
        numbers.markdown("  \n".join(lines))
        if s.over:
            st.error(md(f"{s.category} is over budget by {amount(-s.left_minor)}."), icon=":material/warning:")
        elif s.heading_over:
            st.warning(
                md(
                    f"{s.category} is heading over budget: about {amount(s.projected_minor)} by the end of the month at this pace."
                ),
                icon=":material/trending_up:",
            )


# -- forms ----------------------------------------------------------------------------------------


def _set_budget() -> None:
    ss = st.session_state
    typed = ss.get("bud_set_amount") or ""
    try:
        led = session.ledger()
        month = ss["bud_month"]
        setting = budgets.set_budget(
            led,
            ss.get("bud_set_category") or "",
            parse_user_amount(typed, number_format(led)),
            month=month,
            every_month=ss.get("bud_set_scope") == SCOPES[1],
            rollover=bool(ss.get("bud_set_rollover")),
        )
    except TrackerError as exc:
        ss["bud_set_error"] = error_text(exc, typed)
        return
    ss.pop("bud_set_error", None)
    ss["bud_set_amount"] = ""
    scope = f"every month from {setting.month:%B %Y}" if setting.every_month else f"for {setting.month:%B %Y}"
    flash(f"Budget for {setting.category} set to {money(setting.amount_minor or 0, setting.currency, led)} {scope}.")


def set_form(led: Ledger, month: dt.date) -> None:
    """Set a budget (keys ``bud_set_...``)."""
    names = sorted({*led.categories(), *(s.category for s in budgets.load_settings(led))}, key=str.casefold)
    with st.form("bud_set_form"):
        st.markdown("**Set a budget**")
        st.selectbox(
            "Category",
            names,
            index=None,
            accept_new_options=True,
            placeholder="Choose or type a category",
            key="bud_set_category",
        )
        st.text_input(f"Monthly amount ({led.default_currency})", key="bud_set_amount", placeholder="400")
        st.radio(
            "Applies to", SCOPES, key="bud_set_scope", format_func=lambda x: x.replace("this month", f"{month:%B %Y}")
        )
        st.checkbox("Roll over what is left (or overspent) into the next month", key="bud_set_rollover")
        st.form_submit_button("Save budget", type="primary", on_click=_set_budget)
    error = st.session_state.get("bud_set_error")
    if error:
        st.error(error, icon=":material/error:")


def _delete_budget() -> None:
    ss = st.session_state
    scope = ss.get("bud_del_scope")
    try:
        led = session.ledger()
        month = ss["bud_month"]
        done = budgets.delete_budget(
            led,
            ss.get("bud_del_category") or "",
            month=None if scope == DELETE_SCOPES[2] else month,
            every_month=scope == DELETE_SCOPES[1],
        )
    except TrackerError as exc:
        ss["bud_del_error"] = str(exc)
        return
    ss.pop("bud_del_error", None)
    flash(done.removeprefix("budget: ").replace("delete", "Deleted the budget of", 1) + ".")


def delete_form(led: Ledger, month: dt.date) -> None:
    """Delete a budget (keys ``bud_del_...``)."""
    names = sorted({s.category for s in budgets.load_settings(led)}, key=str.casefold)
    if not names:
        return
    with st.form("bud_del_form"):
        st.markdown("**Delete a budget**")
        st.selectbox("Category", names, key="bud_del_category")
        st.radio(
            "Which months",
            DELETE_SCOPES,
            key="bud_del_scope",
            format_func=lambda x: x.replace("this month", f"{month:%B %Y}"),
        )
        st.form_submit_button("Delete budget", on_click=_delete_budget)
    error = st.session_state.get("bud_del_error")
    if error:
        st.error(error, icon=":material/error:")


def settings_table(led: Ledger) -> None:
    """Every stored setting, oldest first; later ones override earlier ones."""
    rows = budgets.load_settings(led)
    if not rows:
        st.caption("No budgets yet.")
        return
    st.caption("Later settings override earlier ones for the months they cover.")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Category": s.category,
                    "Amount": "no budget" if s.amount_minor is None else money(s.amount_minor, s.currency, led),
                    "Months": (f"from {month_text(s.month)}" if s.every_month else f"only {month_text(s.month)}"),
                    "Rollover": "yes" if s.rollover else "",
                }
                for s in rows
            ]
        ),
        hide_index=True,
        width="stretch",
    )


# -- categories and tags --------------------------------------------------------------------------


def _run(action: str) -> None:
    """Callback of the category and tag buttons (keys ``bud_cat_...``)."""
    ss = st.session_state
    try:
        led = session.ledger()
        if action == "rename":
            change = categories.rename_category(led, ss.get("bud_cat_old") or "", ss.get("bud_cat_new") or "")
        elif action == "merge":
            change = categories.merge_categories(led, ss.get("bud_cat_sources") or [], ss.get("bud_cat_target") or "")
        elif action == "color":
            color = categories.set_category_color(led, ss.get("bud_cat_color_of") or "", ss.get("bud_cat_color") or "")
            flash(f"Colour of {ss.get('bud_cat_color_of')} set to {color}.")
            ss.pop("bud_cat_error", None)
            return
        elif action == "tag_rename":
            change = categories.rename_tag(led, ss.get("bud_tag_old") or "", ss.get("bud_tag_new") or "")
        else:
            change = categories.merge_tags(led, ss.get("bud_tag_sources") or [], ss.get("bud_tag_target") or "")
    except TrackerError as exc:
        ss["bud_cat_error"] = str(exc)
        return
    ss.pop("bud_cat_error", None)
    n = change.transactions
    flash(
        f"{change.label[0].upper()}{change.label[1:]}: {n} transaction{'s' if n != 1 else ''} changed. Undo on the Transactions page reverts it."
    )


def categories_section(led: Ledger) -> None:
    """Rename, merge and colour categories; rename and merge tags."""
    names = led.categories()
    tags = led.tags()
    rename, merge, colour, tag_tab = st.tabs(["Rename category", "Merge categories", "Colours", "Tags"])
    with rename:
        a, b, c = st.columns([2, 2, 1], vertical_alignment="bottom")
        a.selectbox("Category", names, index=None, key="bud_cat_old", placeholder="Choose")
        b.text_input("New name", key="bud_cat_new")
        c.button("Rename", key="bud_cat_rename", on_click=_run, args=("rename",), width="stretch")
    with merge:
        a, b, c = st.columns([2, 2, 1], vertical_alignment="bottom")
        a.multiselect("Merge these", names, key="bud_cat_sources")
        b.selectbox(
            "Into", names, index=None, accept_new_options=True, key="bud_cat_target", placeholder="Choose or type"
        )
        c.button("Merge", key="bud_cat_merge", on_click=_run, args=("merge",), width="stretch")
    with colour:
        colors = categories.category_colors(led)
        a, b, c = st.columns([2, 2, 1], vertical_alignment="bottom")
        chosen = a.selectbox("Category", names, index=None, key="bud_cat_color_of", placeholder="Choose")
        b.color_picker(
            "Colour in every chart", value=categories.color_for(colors, chosen or "") or "#1f77b4", key="bud_cat_color"
        )
        c.button("Save colour", key="bud_cat_color_save", on_click=_run, args=("color",), width="stretch")
        if colors:
            st.caption("Chosen colours: " + ", ".join(md(f"{k} {v}") for k, v in sorted(colors.items())))
    with tag_tab:
        a, b, c = st.columns([2, 2, 1], vertical_alignment="bottom")
        a.selectbox("Tag", tags, index=None, key="bud_tag_old", placeholder="Choose")
        b.text_input("New name", key="bud_tag_new")
        c.button("Rename tag", key="bud_tag_rename", on_click=_run, args=("tag_rename",), width="stretch")
        a, b, c = st.columns([2, 2, 1], vertical_alignment="bottom")
        a.multiselect("Merge these tags", tags, key="bud_tag_sources")
        b.selectbox(
            "Into", tags, index=None, accept_new_options=True, key="bud_tag_target", placeholder="Choose or type"
        )
        c.button("Merge tags", key="bud_tag_merge", on_click=_run, args=("tag_merge",), width="stretch")
    error = st.session_state.get("bud_cat_error")
    if error:
        st.error(error, icon=":material/error:")


# -- the page -------------------------------------------------------------------------------------

with guard("The Budgets page"):
    led = session.ledger()
    today = dt.date.today()
    st.title("Budgets")
    show_flash()
    month = parse_month(month_picker(led, today))
    rows = cached("bud_status", led, (month, today), lambda: budgets.status(led, month, today))
    if rows:
        overview(led, rows)
        for row in rows:
            category_row(led, row)
    else:
        st.info(
            f"No budgets for {month:%B %Y} yet. Set one below: a category, a monthly amount, and the months it covers."
        )
    st.divider()
    left, right = st.columns(2)
    with left:
        set_form(led, month)
    with right:
        delete_form(led, month)
        with st.expander("All budget settings"):
            settings_table(led)
    st.subheader("Categories and tags")
    categories_section(led)
