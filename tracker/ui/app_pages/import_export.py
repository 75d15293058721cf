"""Import & Export: bring in a bank file (preview, columns, duplicates, confirm), take everything out, and the rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from tracker.accounts import account_for_source, default_account, list_accounts
from tracker.categorize import categorise
from tracker.errors import TrackerError
from tracker.export import render, select
from tracker.filters import Filter
from tracker.importers import (
    FORMATS,
    ImportFileError,
    ImportOptions,
    ImportPlan,
    LedgerView,
    commit_plan,
    delete_mapping,
    detect_format,
    importer_class,
    plan_import,
    resolve_mapping,
    saved_mappings,
    statement_balances,
    statements_of,
)
from tracker.importers.csv_importer import KNOWN_LAYOUTS, ORIGINAL_ROLES, CsvImporter, CsvMapping
from tracker.importers.rules import RULES, Rule, add_rule, remove_rule
from tracker.ledger import Ledger
from tracker.money import format_plain
from tracker.opening import QUERY_KEY, claim_pending
from tracker.ui import session
from tracker.ui.caches import cached
from tracker.ui.formatting import flash, guard, md, show_flash

DETECT = "Detect automatically"
NONE = "(none)"
UPLOAD_TYPES = ["csv", "tsv", "txt", "ofx", "qfx", "qif", "json"]
DELIMITER_CHOICES = {DETECT: "", "comma ,": ",", "semicolon ;": ";", "tab": "\t", "pipe |": "|"}
ENCODINGS = [DETECT, "utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]
STATUS_LABELS = {"new": "New", "duplicate": "Duplicate", "skipped": "Skipped"}
OPENED_KEY = "imp_opened"
# label and help of each of the importer's ORIGINAL_ROLES in the mapping editor
ORIGINAL_LABELS = {
    "original_amount": ("Original amount column", "What a purchase abroad cost in its own currency"),
    "original_currency": ("Original currency column", "The currency a purchase abroad was paid in"),
    "exchange_rate": (
        "Exchange rate column",
        (
            "1 unit of the original currency = RATE units of the account's currency; "
            "gives the original amount when the file has none"
        ),
    ),
}


# -- import -----------------------------------------------------------------------------------------


def column_choice(label: str, key: str, headers: list[str], help: str | None = None) -> str:
    """A select of the file's columns; the first entry leaves it to detection."""
    value = st.selectbox(label, [DETECT, *headers], key=key, help=help)
    return "" if value == DETECT else str(value)


def mapping_editor(led: Ledger, data: bytes, name: str) -> tuple[CsvMapping, str, str]:
    """The CSV layout: a saved mapping or a bank's layout, then any column or format fixed by hand."""
    saved = sorted(saved_mappings(led))
    names = [DETECT, *saved, *(lay.name for lay in KNOWN_LAYOUTS if lay.name not in saved)]
    chosen = st.selectbox("Saved mapping or bank layout", names, key="imp_mapping")
    base = CsvMapping() if chosen == DETECT else resolve_mapping(led, chosen)
    headers: list[str] = []
    try:
        table = CsvImporter(base).table(data, name)
        headers = table.headers
        if table.header_line is None:
            st.caption("This file has no header row: its columns are numbered from 1.")
    except ImportFileError:
        pass  # the plan below shows the reason
    with st.expander("Columns and formats", expanded=bool(st.session_state.get("imp_failed"))):
        c1, c2, c3 = st.columns(3)
        with c1:
            date_col = column_choice("Date column", "imp_date_col", headers)
            mode = st.radio("Amounts", ("One signed column", "Debit and credit columns"), key="imp_amount_mode")
            if mode == "One signed column":
                amount_col = column_choice("Amount column (negative = expense)", "imp_amount_col", headers)
                debit_col = credit_col = ""
            else:
                amount_col = ""
                debit_col = column_choice("Debit column (money out)", "imp_debit_col", headers)
                credit_col = column_choice("Credit column (money in)", "imp_credit_col", headers)
        with c2:
            desc_cols = st.multiselect("Description columns", headers, key="imp_desc_cols", placeholder=DETECT)
            category_col = column_choice("Category column", "imp_category_col", headers)
            tags_col = column_choice("Tags column", "imp_tags_col", headers)
            type_col = column_choice(
                "Income/expense column", "imp_type_col", headers, help="Soll/Haben, DR/CR, debit/credit"
            )
        with c3:
            date_format = st.text_input("Date format", key="imp_date_format", placeholder="e.g. %d.%m.%Y (detected)")
            decimal = st.selectbox("Decimal separator", (DETECT, ".", ","), key="imp_decimal")
            delimiter = st.selectbox("Delimiter", tuple(DELIMITER_CHOICES), key="imp_delimiter")
            encoding = st.selectbox("Encoding", ENCODINGS, key="imp_encoding")
            invert = st.checkbox("Spending is listed as positive amounts", key="imp_invert")
        st.caption("Purchases abroad (optional): what a row cost in another currency")
        original: dict[str, str] = {}
        for column, role in zip(st.columns(len(ORIGINAL_ROLES)), ORIGINAL_ROLES, strict=True):
            label, help = ORIGINAL_LABELS[role]
            with column:
                original[role] = column_choice(label, f"imp_{role}_col", headers, help=help)
    fields: dict[str, Any] = {
        "date": date_col,
        "amount": amount_col,
        "debit": debit_col,
        "credit": credit_col,
        "description": tuple(desc_cols),
        "category": category_col,
        "tags": tags_col,
        "type": type_col,
        **original,
        "delimiter": DELIMITER_CHOICES[delimiter],
        "encoding": "" if encoding == DETECT else encoding,
        "invert": invert,
    }
    override = CsvMapping(**fields)
    return base.merged(override), ("" if decimal == DETECT else decimal), date_format.strip()


def takes_mapping(name: str, data: bytes, kind: str) -> bool:
    """Whether the file's type (``kind``, else detected) is read through a column mapping (CSV)."""
    try:
        return importer_class(kind or detect_format(name, data[:8192])).accepts_mapping
    except ImportFileError:
        return False


def compute_plan(led: Ledger, data: bytes, name: str, options: ImportOptions) -> ImportPlan:
    """The plan of this file under these options at this revision (cached; a progress bar while reading)."""
    digest = hashlib.sha256(data).hexdigest()

    def compute() -> ImportPlan:
        bar = st.progress(0.0, text=f"Reading {name}…")

        def progress(fraction: float) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=f"Reading {name}… {fraction:.0%}")

        try:  # planning only reads; commit_plan re-checks duplicates under the ledger's lock
            return plan_import(data, name, LedgerView.of(led, twins=options.transfers), options, progress=progress)
        finally:
            bar.empty()

    return cached("imp_plan", led, (digest, name, repr(options)), compute)


def account_choice(led: Ledger, data: bytes, name: str, options: ImportOptions, mapping: str) -> dict[str, Any]:
    """Which account the file goes into (one select per account of a file that holds several), preselected
    with the one remembered for it (its OFX bank account, its saved mapping), else the default account."""
    accounts = [a for a in list_accounts(led) if not a.closed]
    names = [a.name for a in accounts]
    fallback = default_account(led).name
    if mapping:
        fallback = getattr(account_for_source(accounts, f"mapping:{mapping}"), "name", fallback)
    if not names:  # a new ledger: its first account is made by the import
        st.caption(md(f"The rows go into {fallback}, your first account (the Accounts page adds more)."))
        return {"mapping_name": mapping}
    statements = statements_of(data, name, options)
    digest = hashlib.sha256(data).hexdigest()[:12]

    def pick(label: str, key: str, remembered: str) -> str:
        index = names.index(remembered) if remembered in names else 0
        help = "Remembered from the last import of this account's statements" if remembered != fallback else None
        return str(st.selectbox(label, names, index=index, key=f"imp_account_{digest}_{key}", help=help))

    keyed = [s for s in statements if s.key]
    if len(statements) > 1 and len(keyed) == len(statements):
        st.write(f"This file holds {len(statements)} accounts: which of yours is each?")
        cols = st.columns(len(statements))
        pairs = []
        for i, (col, stmt) in enumerate(zip(cols, statements, strict=True)):
            with col:
                remembered = getattr(account_for_source(accounts, stmt.key), "name", names[min(i, len(names) - 1)])
                pairs.append((stmt.key, pick(f"Statement of {stmt.label or stmt.key}", str(i), remembered)))
        return {"statement_accounts": tuple(pairs), "mapping_name": mapping}
    key = statements[0].key if statements else ""
    remembered = getattr(account_for_source(accounts, key), "name", fallback) if key else fallback
    return {"account": pick("Into account", "one", remembered), "mapping_name": mapping}


def describe_plan(plan: ImportPlan) -> str:
    """``CSV · sparkasse-camt layout · cp1252 · semicolon · decimal , · dates DD.MM.YY``."""
    return " · ".join([plan.kind.upper(), *plan.importer.describe(plan.details, quote=lambda v: f"“{v}”")])


def preview_frame(plan: ImportPlan) -> pd.DataFrame:
    """The rows as shown in the preview table (with an "Original" column, ``50.00 USD``, when a row has one)."""
    rows = []
    abroad = any(r.draft and r.draft.original_currency for r in plan.rows)
    for r in plan.rows:
        j = r.to_json()
        tx = r.draft
        original: dict[str, str] = {}
        if abroad:
            original["Original"] = (
                f"{format_plain(tx.original_amount_minor, tx.original_currency)} {tx.original_currency}"
                if tx is not None and tx.original_currency
                else ""
            )
        rows.append(
            {
                plan.unit.capitalize(): r.line,
                "Status": STATUS_LABELS.get(r.status, r.status) + (f" ({r.reason})" if r.reason else ""),
                "Date": j["date"] or "",
                "Type": j["type"] or "",
                "Amount": j["amount"] or "",
                "Currency": j["currency"] or "",
                **original,
                "Account": j["account"] or "",
                "Category": j["category"] or "",
                "From": r.category_source,
                "Description": r.description,
            }
        )
    return pd.DataFrame(rows)


def claim_opened(folder: Path, ident: str) -> tuple[bytes, str]:
    """The content and name of the file the desktop launcher stored under ``ident`` (:func:`tracker.opening.claim_pending`:
    once). Raises :class:`TrackerError` saying why nothing can be shown."""
    path = claim_pending(folder, ident)
    name = path.name
    limit = int(st.get_option("server.maxUploadSize")) * 1024 * 1024  # what an upload may have
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise TrackerError(f"{name} cannot be read: {exc.strerror or type(exc).__name__}.") from None
    if len(data) > limit:
        raise TrackerError(f"{name} is larger than the {limit // (1024 * 1024)} MB a file may have.")
    return data, name


def opened_file(led: Ledger) -> tuple[bytes, str] | None:
    """The file the desktop app was asked to open (``?open=<id>``), kept for the session's reruns, or None.

    The id is claimed on the run that sees it and dropped from the URL, so a refresh, a second tab or
    the next run does not open it again.
    """
    ident = st.query_params.get(QUERY_KEY)
    if ident is not None:
        del st.query_params[QUERY_KEY]
        st.session_state.pop(OPENED_KEY, None)
        try:
            st.session_state[OPENED_KEY] = claim_opened(led.location, ident)
        except TrackerError as exc:
            st.error(md(exc), icon=":material/error:")
    opened: tuple[bytes, str] | None = st.session_state.get(OPENED_KEY)
    return opened


def import_section(led: Ledger) -> None:
    """Upload (or a file opened with the app), options, preview, confirm."""
    st.write(
        "Bring in a statement from your bank (CSV, OFX/QFX or QIF) or a JSON export of this app. "
        "Nothing is saved until you confirm, and a file with a bad row imports nothing."
    )
    opened = opened_file(led)
    uploaded = st.file_uploader("Bank statement or export", type=UPLOAD_TYPES, key="imp_file")
    if uploaded is not None:
        st.session_state.pop(OPENED_KEY, None)  # an upload replaces the file opened with the app
        preview_file(led, uploaded.getvalue(), uploaded.name)
    elif opened is not None:
        c1, c2 = st.columns([5, 1], vertical_alignment="center")
        c1.caption(md(f"Opened with the app: {opened[1]}"))
        if c2.button("Close", key="imp_opened_close", icon=":material/close:"):
            st.session_state.pop(OPENED_KEY, None)
            st.rerun()
        preview_file(led, *opened)
    else:
        st.info("Choose a file to see a preview of its transactions.", icon=":material/upload_file:")


def preview_file(led: Ledger, data: bytes, name: str) -> None:
    """A file's type, columns and account, its preview, and the confirm (an upload and an opened file alike)."""
    kind_label = st.selectbox(
        "File type", (DETECT, *FORMATS), key="imp_kind", format_func=lambda k: k if k == DETECT else k.upper()
    )
    kind = "" if kind_label == DETECT else kind_label
    with_mapping = takes_mapping(name, data, kind)
    try:
        mapping, decimal, date_format = mapping_editor(led, data, name) if with_mapping else (CsvMapping(), "", "")
        chosen = st.session_state.get("imp_mapping", DETECT) if with_mapping else DETECT
        base = ImportOptions(kind=kind, mapping=mapping, date_format=date_format, decimal=decimal)
        accounts = account_choice(led, data, name, base, "" if chosen == DETECT else str(chosen))
        options = dataclasses.replace(base, **accounts)
        plan = compute_plan(led, data, name, options)
    except ImportFileError as exc:
        st.session_state["imp_failed"] = True
        st.error("Nothing was imported: " + md(exc), icon=":material/error:")
        if len(exc.problems) > 1:
            with st.expander(f"All {len(exc.problems)} problems"):
                st.markdown("\n".join(f"- {md(m)}" for m in exc.messages()))
        if with_mapping:
            st.caption("Fix the columns or formats above, or correct the file, and the preview updates.")
        return
    except TrackerError as exc:
        st.error(md(exc), icon=":material/error:")
        return
    st.session_state["imp_failed"] = False
    show_plan(led, plan)


def transfer_choice(plan: ImportPlan) -> list[int]:
    """The proposed transfers, each with a box to link it (ticked); returns the positions of those ticked."""
    proposed = plan.proposed_transfers
    if not proposed:
        return []
    st.write(
        f"{len(proposed)} row{'s' if len(proposed) != 1 else ''} look like money moved between your accounts: "
        "linked, they count in balances but not as income or spending."
    )
    accepted = []
    for i in proposed:
        row = plan.rows[i]
        j = row.to_json()
        label = f"{j['date']} {j['type']} {j['amount']} {j['currency']} “{row.description}” with {row.counter_account}"
        if st.checkbox(md(f"Link as a transfer: {label}"), value=True, key=f"imp_transfer_{row.line}"):
            accepted.append(i)
    return accepted


def show_plan(led: Ledger, plan: ImportPlan) -> None:
    """The preview and the confirm button."""
    st.caption("Read as " + md(describe_plan(plan)))
    for warning in plan.warnings:
        st.warning(md(warning), icon=":material/warning:")
    new, dups, skipped = len(plan.new), len(plan.duplicates), len(plan.skipped)
    c1, c2, c3 = st.columns(3)
    c1.metric("New", new)
    c2.metric("Duplicates", dups, help="Rows already in the ledger (or repeated in the file)")
    c3.metric("Skipped", skipped, help="Rows without money, and investment records")
    if plan.rows:
        st.dataframe(preview_frame(plan), hide_index=True, width="stretch", height=min(38 + 35 * len(plan.rows), 420))
    take_dups = False
    if dups:
        take_dups = st.checkbox(f"Also import the {dups} duplicate{'s' if dups != 1 else ''}", key="imp_take_dups")
    accepted = transfer_choice(plan)
    for b in statement_balances(led, plan, plan.drafts(take_dups, accepted)):
        said = f"{b['account']}: the statement's balance on {b['date']} is {b['statement_balance']} {b['currency']}"
        if b["agrees"]:
            st.success(md(f"{said}; after this import the app's is the same."), icon=":material/check_circle:")
        else:
            st.info(
                md(f"{said}; after this import the app's is {b['computed_balance']} (a difference of {b['difference']}). "
                   "An opening balance or rows from before this statement may be missing."),
                icon=":material/balance:",
            )  # fmt: skip
    save_as = ""
    if plan.importer.accepts_mapping:
        save_as = st.text_input(
            "Save this layout as (optional)", key="imp_save_name", placeholder="e.g. My bank"
        ).strip()
    count = len(plan.drafts(take_dups, accepted))
    if count == 0 and not save_as:
        st.info("Nothing new to import from this file.", icon=":material/info:")
        return
    label = f"Import {count} transaction{'s' if count != 1 else ''}"
    if st.button(label, type="primary", key="imp_confirm", icon=":material/download:"):
        with st.spinner("Saving…"):
            result = commit_plan(led, plan, include_duplicates=take_dups, save_mapping_as=save_as, transfers=accepted)
        message = f"Imported {len(result.added)} transaction{'s' if len(result.added) != 1 else ''} from {plan.file}."
        if result.linked:
            message += f" Linked {result.linked} transfer{'s' if result.linked != 1 else ''} with your other accounts."
        if len(result.added):
            message += " Undo removes them all at once."
        if result.mapping_saved:
            message += f" Saved the layout as “{result.mapping_saved}”."
        skipped_now = len(result.plan.duplicates) - len(plan.duplicates)
        if skipped_now > 0:
            message += f" {skipped_now} row(s) had been imported meanwhile and were left out."
        flash(message)
        st.rerun()


# -- export -----------------------------------------------------------------------------------------


def export_section(led: Ledger) -> None:
    """Downloads of the (optionally filtered) ledger in each format."""
    st.write(
        "Take your data with you. JSON restores everything exactly when imported; CSV and XLSX are for spreadsheets."
    )
    frame = led.frame()
    if frame.empty:
        st.info("There is nothing to export yet.", icon=":material/info:")
        return
    first, last = frame["date"].min().date(), frame["date"].max().date()
    c1, c2 = st.columns(2)
    span = c1.date_input("Dates", value=(first, last), key="exp_dates")
    categories = c2.multiselect("Categories", led.categories(), key="exp_categories", placeholder="All categories")
    days = [d for d in (span if isinstance(span, tuple | list) else (span,)) if isinstance(d, dt.date)]
    flt = Filter.build(
        start=min(days) if days else None, end=max(days) if days else None, categories=categories or None
    )
    count = len(select(led, flt)) if flt != Filter() else len(frame)
    st.caption(f"{count} transaction{'s' if count != 1 else ''} selected.")
    stamp = dt.date.today().isoformat()
    cols = st.columns(3)
    mimes = {
        "csv": "text/csv",
        "json": "application/json",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    for col, fmt in zip(cols, ("csv", "json", "xlsx"), strict=True):
        col.download_button(
            f"Download {fmt.upper()}",
            data=lambda fmt=fmt: render(select(led, flt), fmt, list_accounts(led)),
            file_name=f"expense-tracker-{stamp}.{fmt}",
            mime=mimes[fmt],
            key=f"exp_download_{fmt}",
            icon=":material/file_download:",
            on_click="ignore",
            disabled=count == 0,
        )


# -- rules and mappings -----------------------------------------------------------------------------


def rules_section(led: Ledger) -> None:
    """The ordered rules, adding and removing one, a try-out, and the saved CSV mappings."""
    st.write(
        "Imported rows without a category from the file get the category of the **first** rule whose pattern "
        "is in their description; otherwise the category you chose most often for similar descriptions; "
        "otherwise “Uncategorized”."
    )
    rules = RULES.read(led)
    if rules:
        st.dataframe(
            pd.DataFrame(
                [
                    {"#": n, "Pattern": r.pattern, "Match": "regex" if r.regex else "contains", "Category": r.category}
                    for n, r in enumerate(rules, 1)
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.info("No rules yet.", icon=":material/rule:")
    with st.form("imp_rule_form", clear_on_submit=True):
        c1, c2, c3 = st.columns([3, 2, 1])
        pattern = c1.text_input("Description contains", key="imp_rule_pattern", placeholder="e.g. REWE")
        category = c2.text_input("Category", key="imp_rule_category", placeholder="e.g. Groceries")
        position = c3.number_input(
            "Position", min_value=1, max_value=len(rules) + 1, value=len(rules) + 1, key="imp_rule_position"
        )
        regex = st.checkbox("The pattern is a regular expression", key="imp_rule_regex")
        if st.form_submit_button("Add rule", icon=":material/add:"):
            try:
                rule = Rule(pattern, category, regex)
                add_rule(led, rule, min(int(position), len(RULES.read(led)) + 1))
            except TrackerError as exc:
                st.error(md(exc), icon=":material/error:")
            else:
                flash(f"Rule added: “{rule.pattern}” → {rule.category}.")
                st.rerun()
    if rules:
        c1, c2 = st.columns([3, 1])
        labels = [f"{n}. {r.pattern} → {r.category}" for n, r in enumerate(rules, 1)]
        gone = c1.selectbox("Remove a rule", labels, key="imp_rule_remove")
        if c2.button("Remove", key="imp_rule_remove_button", icon=":material/delete:"):
            try:
                remove_rule(led, labels.index(gone) + 1)
            except TrackerError as exc:  # removed in another window meanwhile
                st.error(md(exc), icon=":material/error:")
            else:
                flash("Rule removed.")
                st.rerun()
    sample = st.text_input("Try a description", key="imp_rule_try", placeholder="e.g. REWE SAGT DANKE 4711")
    if sample.strip():
        view = LedgerView.of(led)
        found, source = categorise(sample, "", view.rules, view.history)
        st.write(
            f"→ **{md(found)}** ({'a rule' if source == 'rule' else 'your history' if source == 'history' else 'the default'})"
        )
    st.divider()
    st.subheader("Saved CSV mappings")
    saved = saved_mappings(led)
    if not saved:
        st.caption("None yet: type a name under “Save this layout as” when importing a CSV file.")
        return
    for name, mapping in sorted(saved.items()):
        c1, c2 = st.columns([5, 1])
        c1.markdown(f"**{md(name)}** · " + md(", ".join(f"{k}={v}" for k, v in mapping.to_dict().items())))
        if c2.button("Delete", key=f"imp_mapping_delete_{hashlib.sha1(name.encode()).hexdigest()[:8]}"):
            delete_mapping(led, name)
            flash(f"Deleted the mapping “{name}”.")
            st.rerun()


with guard("The Import & Export page"):
    led = session.ledger()
    led.refresh()  # cheap when nothing changed; the page may run without the router (tests)
    st.title("Import & Export")
    show_flash()
    tab_import, tab_export, tab_rules = st.tabs(["Import", "Export", "Rules & mappings"])
    with tab_import:
        import_section(led)
    with tab_export:
        export_section(led)
    with tab_rules:
        rules_section(led)
