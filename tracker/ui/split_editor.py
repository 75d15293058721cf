"""The split editor: the lines one amount is split into (category, amount, tags, note), what is left of the amount
shown as the lines are typed, "Add line" and "Distribute the remainder" (evenly over the empty lines).

The lines live in the session under the caller's ``prefix``: ``{prefix}_ids`` lists the lines shown (stable ids,
so that removing one keeps the others' widgets), ``{prefix}_{id}_category`` / ``_amount`` / ``_tags`` / ``_note``
are their widgets, ``{prefix}_error`` the message of the last "Distribute". :func:`load` fills the editor (before it
is drawn in a run, or in a callback) and :func:`typed_lines` reads it back; the arithmetic is in
:mod:`tracker.splits`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from tracker import splits
from tracker.errors import TrackerError, ValidationError
from tracker.ledger import Ledger
from tracker.model import MAX_SPLIT_LINES, Transaction
from tracker.money import format_money
from tracker.splits import TypedLine
from tracker.ui.formatting import log, md, number_format
from tracker.ui.table import editable_amount

Total = Callable[[], int | None]
"""The amount the lines share, in minor units; ``None`` while it is not typed. May raise ``TrackerError`` (an
amount that cannot be read): the editor shows the message."""

WIDTHS = (3, 2, 3, 3, 1)
"""Category, amount, tags, note, the remove button."""


def _key(prefix: str, line_id: int, field: str) -> str:
    return f"{prefix}_{line_id}_{field}"


# -- the lines in the session ----------------------------------------------------------------------


def load(prefix: str, lines: Sequence[TypedLine] = ()) -> None:
    """Show ``lines`` in the editor instead of what it showed (at least two lines: empty ones are added)."""
    ss = st.session_state
    old = list(ss.get(f"{prefix}_ids") or [])
    for line_id in old:
        _forget(prefix, line_id)
    first = max(old, default=-1) + 1  # new ids: new widgets, which take the values put here
    shown = [*lines, *[TypedLine()] * max(0, 2 - len(lines))]
    ids = list(range(first, first + len(shown)))
    for line_id, line in zip(ids, shown, strict=True):
        ss[_key(prefix, line_id, "category")] = line.category
        ss[_key(prefix, line_id, "amount")] = line.amount
        ss[_key(prefix, line_id, "tags")] = list(line.tags)
        ss[_key(prefix, line_id, "note")] = line.note
    ss[f"{prefix}_ids"] = ids
    ss.pop(f"{prefix}_error", None)


def lines_of(tx: Transaction, number_format: str) -> list[TypedLine]:
    """``tx``'s split lines as the editor shows them, or one line of its whole amount when it is not split."""
    return [
        TypedLine(line.category, editable_amount(line.amount_minor, tx.currency, number_format), line.tags, line.note)
        for line in tx.lines
    ]


def line_ids(prefix: str) -> list[int]:
    """The ids of the lines shown, in order (two empty lines the first time)."""
    if not st.session_state.get(f"{prefix}_ids"):
        load(prefix)
    return list(st.session_state[f"{prefix}_ids"])


def typed_lines(prefix: str) -> list[TypedLine]:
    """The lines as typed, in the order shown."""
    ss = st.session_state
    return [
        TypedLine(
            category=ss.get(_key(prefix, i, "category")),
            amount=str(ss.get(_key(prefix, i, "amount")) or ""),
            tags=tuple(ss.get(_key(prefix, i, "tags")) or ()),
            note=str(ss.get(_key(prefix, i, "note")) or ""),
        )
        for i in line_ids(prefix)
    ]


def _forget(prefix: str, line_id: int) -> None:
    for field in ("category", "amount", "tags", "note"):
        st.session_state.pop(_key(prefix, line_id, field), None)


# -- the buttons' callbacks ------------------------------------------------------------------------


def add_line(prefix: str) -> None:
    """One more empty line at the end."""
    ids = line_ids(prefix)
    st.session_state[f"{prefix}_ids"] = [*ids, max(ids, default=-1) + 1]


def remove_line(prefix: str, line_id: int) -> None:
    """Take line ``line_id`` out."""
    st.session_state[f"{prefix}_ids"] = [i for i in line_ids(prefix) if i != line_id]
    _forget(prefix, line_id)


def distribute_remainder(prefix: str, total: Total, currency: str, number_format: str) -> None:
    """Spread what is left of the total over the lines whose amount is empty, or say why it cannot be."""
    ss = st.session_state
    ss.pop(f"{prefix}_error", None)
    try:
        whole = total()
        if whole is None:
            raise ValidationError("amount", "", "is needed first: the lines share it")
        parts = splits.fill_remainder(whole, typed_lines(prefix), number_format, currency)
    except TrackerError as exc:
        ss[f"{prefix}_error"] = str(exc)
        return
    except Exception as exc:  # logged, never shown as a traceback
        log.exception("distributing a split's remainder failed")
        ss[f"{prefix}_error"] = f"The remainder could not be distributed ({type(exc).__name__}); see the log file."
        return
    ids = line_ids(prefix)
    for position, minor in parts.items():
        ss[_key(prefix, ids[position], "amount")] = editable_amount(minor, currency, number_format)


# -- what is left ----------------------------------------------------------------------------------


def status(total: Total, lines: Sequence[TypedLine], currency: str, number_format: str) -> str:
    """The line under the editor (Markdown): ``Remainder: 12.50 of 100.00``, ``Lines sum to the amount ✓``, how
    much the lines are over the amount, or why an amount cannot be read."""
    try:
        whole = total()
        minors = splits.line_minors(lines, number_format, currency)
    except TrackerError as exc:
        return f":red[{md(exc)}]"
    if whole is None:
        return "Type the amount: the lines share it."

    def shown(minor: int) -> str:
        return md(format_money(minor, currency, number_format, symbol=False))

    left = splits.remainder(whole, minors)
    if left == 0:
        return ":green[Lines sum to the amount ✓]"
    if left > 0:
        return f"Remainder: {shown(left)} of {shown(whole)}"
    return f":red[Lines are over the amount by {shown(-left)}]"


# -- the editor ------------------------------------------------------------------------------------


def split_editor(led: Ledger, prefix: str, total: Total, currency: str) -> None:
    """The lines of ``total`` (in ``currency``), what is left of it, "Add line" and "Distribute the remainder"."""
    fmt = number_format(led)
    ids = line_ids(prefix)
    categories, tags = led.categories(), led.tags()
    for column, label in zip(st.columns(WIDTHS), ("Category", f"Amount ({currency})", "Tags", "Note"), strict=False):
        column.caption(label)
    for number, line_id in enumerate(ids, 1):
        line_inputs(prefix, line_id, number, categories, tags, removable=len(ids) > 2)
    st.markdown(status(total, typed_lines(prefix), currency, fmt))
    add, spread = st.columns(2)
    add.button(
        "Add line",
        key=f"{prefix}_add",
        icon=":material/add:",
        on_click=add_line,
        args=(prefix,),
        disabled=len(ids) >= MAX_SPLIT_LINES,
        width="stretch",
    )
    spread.button(
        "Distribute the remainder",
        key=f"{prefix}_distribute",
        icon=":material/balance:",
        help="Share what is left evenly between the lines whose amount is empty (a leftover cent goes to the first)",
        on_click=distribute_remainder,
        args=(prefix, total, currency, fmt),
        width="stretch",
    )
    error = st.session_state.get(f"{prefix}_error")
    if error:
        st.warning(md(error), icon=":material/warning:")


def line_inputs(
    prefix: str, line_id: int, number: int, categories: list[str], tags: list[str], *, removable: bool
) -> None:
    """One line: its category (a suggestion or a new one), amount, tags, note, and a button that removes it."""
    ss = st.session_state
    category, amount, tag, note, remove = st.columns(WIDTHS, vertical_alignment="center")
    chosen = ss.get(_key(prefix, line_id, "category"))
    category.selectbox(
        f"Line {number} category",
        categories if not chosen or chosen in categories else [chosen, *categories],
        index=None,
        accept_new_options=True,
        placeholder="Choose or type",
        key=_key(prefix, line_id, "category"),
        label_visibility="collapsed",
        persist_state="page",
    )
    amount.text_input(
        f"Line {number} amount",
        key=_key(prefix, line_id, "amount"),
        placeholder="Empty: distribute",
        label_visibility="collapsed",
        persist_state="page",
    )
    picked = [t for t in ss.get(_key(prefix, line_id, "tags")) or () if t not in tags]
    tag.multiselect(
        f"Line {number} tags",
        [*tags, *picked],
        accept_new_options=True,
        placeholder="Optional",
        key=_key(prefix, line_id, "tags"),
        label_visibility="collapsed",
        persist_state="page",
    )
    note.text_input(
        f"Line {number} note",
        key=_key(prefix, line_id, "note"),
        placeholder="Optional",
        label_visibility="collapsed",
        persist_state="page",
    )
    remove.button(
        "",
        icon=":material/close:",
        key=_key(prefix, line_id, "remove"),
        help=f"Remove line {number}",
        on_click=remove_line,
        args=(prefix, line_id),
        disabled=not removable,
    )
