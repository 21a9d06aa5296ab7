"""The import wizard's state and its six steps; the page only calls render_wizard()."""

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session

from core import export
from core.accounts import SignedInAccount
from core.fields import BUILTIN_FIELDS
from core.issues import UnusableFileError
from core.jobs import create_job
from core.mail import preview_message
from core.mapping import check_mapping, find_saved_mapping, mapping_from_saved, save_mapping
from core.options import MAX_KEEP_FILE_DAYS, ImportOptions
from core.pipeline import (
    ImportRequest,
    check_import_mapping,
    known_fields,
    preview_import,
    resolve_mapping,
)
from core.plan import Plan, RowPlan, describe_changes
from core.read import (
    DELIMITER_NAMES,
    ReadOptions,
    Table,
)
from core.settings import Settings
from core.source import PASTED, read_file, read_source
from core.validate import load_catalog
from core.worker import enqueue_import
from db import queries
from db.engine import session_scope
from ui.progress import COUNT_LABELS, job_progress
from ui.widgets import md

STEPS = ["Upload", "Map columns", "Options", "Preview", "Confirm", "Progress"]
PAGE_SIZE = 50
OUTCOME_LABELS = {
    "create": "Create",
    "update": "Update",
    "unchanged": "Unchanged",
    "skip": "Skip",
    "block": "Block",
    "unblock": "Unblock",
    "rename": "Rename",
    "error": "Rejected",
}


@dataclass
class Wizard:
    """Everything chosen so far; kept in session state so Back and Next lose nothing."""

    step: int = 0
    file_name: str = ""
    data: bytes = b""
    encoding: str | None = None
    delimiter: str | None = None
    # None: detected; False: no header row; a number: the header's row in the sheet.
    header_choice: int | bool | None = None
    sheet: str | None = None
    mapping: dict[int, str | None] | None = None
    mapping_note: str = ""
    options: ImportOptions = field(default_factory=ImportOptions)
    corrections: dict[int, dict[int, str]] = field(default_factory=dict)
    notify_me: bool = False
    job_id: int | None = None

    def read_options(self, settings: Settings) -> ReadOptions:
        choice = self.header_choice
        return ReadOptions(
            encoding=self.encoding,
            delimiter=self.delimiter,
            has_header=False if choice is False else None,
            header_row=choice if choice is not False else None,
            sheet=self.sheet,
            **settings.read_limits,
        )

    def key(self) -> str:
        """A fingerprint of every choice that changes the preview."""
        parts = (
            hashlib.sha256(self.data).hexdigest(),
            self.encoding,
            self.delimiter,
            self.header_choice,
            self.sheet,
            self.mapping,
            self.options,
            self.corrections,
        )
        return hashlib.sha256(repr(parts).encode()).hexdigest()


_GENERATION = "wizard_generation"
FIX_ROWS_SHOWN = 200


def get_wizard() -> Wizard:
    """The wizard of this browser session."""
    return st.session_state.setdefault("wizard", Wizard())


# Streamlit reruns the page on every click: the file is read once per reading choice.
_read = st.cache_data(max_entries=8, show_spinner="Reading the file…")(read_file)


def current_table(wizard: Wizard, settings: Settings) -> Table:
    """The file as read with the chosen options, with the corrections made in the preview."""
    options = wizard.read_options(settings)
    return read_source(wizard.data, wizard.file_name, options, wizard.corrections, read=_read)


def _nav(wizard: Wizard, *, next_label: str = "Next", can_next: bool = True) -> None:
    back, forward = st.columns([1, 5])
    if wizard.step > 0 and back.button("Back", key=f"back_{wizard.step}"):
        wizard.step -= 1
        st.rerun()
    if forward.button(next_label, type="primary", disabled=not can_next, key=f"next_{wizard.step}"):
        wizard.step += 1
        st.rerun()


def step_upload(wizard: Wizard, settings: Settings, engine: Engine) -> None:
    with Session(engine) as session:
        template = export.template_frame(session=session)
    left, right = st.columns([3, 1])
    with right:
        st.caption("Download template")
        st.download_button(
            "CSV template", export.to_csv_bytes(template), "instroom-template.csv", mime="text/csv"
        )
        st.download_button(
            "XLSX template", export.to_xlsx_bytes(template), "instroom-template.xlsx"
        )
    with left:
        # New keys after "Start over", so the uploader and the text box forget their content.
        generation = st.session_state.get(_GENERATION, 0)
        upload = st.file_uploader(
            "Choose a CSV, TSV, TXT, XLSX or XLS file",
            type=["csv", "tsv", "txt", "xlsx", "xlsm", "xls"],
            key=f"upload_{generation}",
        )
        pasted = st.text_area(
            "…or paste the rows here (with a header row)", height=120, key=f"paste_{generation}"
        )
    if upload is not None and (upload.name, upload.size) != (wizard.file_name, len(wizard.data)):
        _new_source(wizard, upload.name, upload.getvalue())
    elif pasted.strip() and pasted.encode() != wizard.data:
        _new_source(wizard, PASTED, pasted.encode("utf-8"))
    if not wizard.data:
        st.info("Upload a file or paste rows to begin.")
        return
    try:
        table = current_table(wizard, settings)
    except UnusableFileError as exc:
        st.error(md(f"{exc.message} ({exc.code})"))
        return
    _detected(wizard, table)
    st.dataframe(_with_headers(table, table.data.head(20)), hide_index=False)
    if table.findings:
        st.warning(f"{len(table.findings):,} things to check in this file:")
        st.dataframe(
            pd.DataFrame(
                [
                    {"Row": f.row, "Column": f.column, "Problem": f.message, "Severity": f.severity}
                    for f in table.findings
                ]
            ),
            hide_index=True,
        )
    _nav(wizard)


def _new_source(wizard: Wizard, name: str, data: bytes) -> None:
    """Another file starts from the defaults: nothing chosen for the last one carries over."""
    fresh = Wizard(step=wizard.step, file_name=name, data=data)
    for attr, value in vars(fresh).items():
        setattr(wizard, attr, value)


def _read_choice(
    container,
    wizard: Wizard,
    label: str,
    attr: str,
    choices: list,
    names: dict,
) -> None:
    """A control for one read option; its callback updates the wizard before the rerun."""
    key = f"read_{attr}"

    def sync() -> None:
        setattr(wizard, attr, st.session_state[key])
        wizard.mapping, wizard.corrections = None, {}

    current = getattr(wizard, attr)
    container.selectbox(
        label,
        choices,
        index=choices.index(current) if current in choices else 0,
        format_func=lambda c: names.get(c, str(c)),
        key=key,
        on_change=sync,
    )


def _detected(wizard: Wizard, table: Table) -> None:
    st.markdown(
        f"**{md(wizard.file_name)}**: {table.row_count:,} rows"
        + (f", sheet {md(table.sheet)}" if table.sheet else "")
        + (f", {table.encoding}" if table.encoding else "")
        + (
            f", {DELIMITER_NAMES.get(table.delimiter, repr(table.delimiter))}-separated"
            if table.delimiter
            else ""
        )
        + (f", header in row {table.header_row}" if table.has_header else ", no header")
    )
    columns = st.columns(4)
    if table.source in {"csv", "text"}:
        _read_choice(
            columns[0],
            wizard,
            "Delimiter",
            "delimiter",
            [None, *DELIMITER_NAMES],
            {None: "detected", **DELIMITER_NAMES},
        )
    if table.source == "csv":
        _read_choice(
            columns[1],
            wizard,
            "Encoding",
            "encoding",
            [None, "utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"],
            {None: "detected"},
        )
    if table.sheets:
        _read_choice(
            columns[1], wizard, "Sheet", "sheet", [None, *table.sheets], {None: "first visible"}
        )
    rows = [int(r) for r in table.data.index[:10]]
    header_rows = sorted({*range(1, (table.header_row or 0) + 1), *rows})[:20]
    _read_choice(
        columns[2],
        wizard,
        "Header row",
        "header_choice",
        [None, False, *header_rows],
        {None: "detected", False: "no header row", **{r: f"row {r}" for r in header_rows}},
    )


def _with_headers(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with the file's headers; a repeated header gets its number ("Naam (2)")."""
    shown, seen = frame.copy(), Counter[str]()
    names = []
    for i in range(frame.shape[1]):
        name = table.column_name(i)
        seen[name] += 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    shown.columns = names
    return shown


def step_map(wizard: Wizard, settings: Settings, engine: Engine, account: SignedInAccount) -> None:
    table = current_table(wizard, settings)
    with Session(engine) as session:
        catalog = load_catalog(session=session)
        if wizard.mapping is None:
            saved = find_saved_mapping(session=session, headers=table.headers)
            wizard.mapping = resolve_mapping(
                table, catalog, saved=mapping_from_saved(saved) if saved else None
            )
            wizard.mapping_note = f"Applied the saved mapping {saved.name!r}." if saved else ""
    suggestions = resolve_mapping(table, catalog)
    fields = [None, *known_fields(catalog)]
    labels = {**BUILTIN_FIELDS, **catalog.importable_profile_fields, None: "— leave out —"}
    if wizard.mapping_note:
        st.info(wizard.mapping_note)
    for index in range(len(table.headers)):
        header, samples = table.column_name(index), table.data[index].head(3).tolist()
        name, sample_col, pick = st.columns([2, 3, 2])
        name.markdown(f"**{md(header)}**")
        sample_col.caption(" · ".join(md(v) for v in samples if v) or "(empty)")
        suggested = suggestions.get(index)
        wizard.mapping[index] = pick.selectbox(
            f"Field for {header}",
            fields,
            index=fields.index(wizard.mapping.get(index)),
            format_func=lambda f, s=suggested: labels[f] + (" (suggested)" if f and f == s else ""),
            key=f"map_{index}",
            label_visibility="collapsed",
        )
    check = check_mapping(table.headers, wizard.mapping, known_fields(catalog))
    for issue in check.issues:
        st.error(md(issue.message))
    if check.ignored_columns:
        st.caption("Left out: " + md(", ".join(check.ignored_columns)))
    with st.form("save_mapping", clear_on_submit=True):
        name = st.text_input(
            "Save this mapping as",
            help="Files with the same headers get it automatically next time.",
        )
        if st.form_submit_button("Save mapping") and name.strip():
            with session_scope(engine) as session:
                save_mapping(
                    session=session,
                    name=name,
                    headers=table.headers,
                    mapping=wizard.mapping,
                    created_by=account.username,
                )
            st.success(md(f"Saved the mapping {name.strip()!r}."))
    _nav(wizard, can_next=check.ok)


def step_options(wizard: Wizard, settings: Settings, engine: Engine) -> None:
    with Session(engine) as session:
        groups = [g.name for g in queries.list_groups(session=session)]
        levels = [lv.name for lv in queries.list_levels(session=session)]
        roles = [r.name for r in queries.list_roles(session=session)]
        languages = [lang.code for lang in queries.list_languages(session=session)]
    o = wizard.options
    modes = {
        "upsert": "Create and update",
        "create": "Only create new users",
        "update": "Only update existing users",
    }
    mode = st.radio(
        "What to do",
        list(modes),
        format_func=modes.get,
        index=list(modes).index(o.mode),
        horizontal=True,
        help="Rows are matched with existing users; choose which of them to handle.",
    )
    match = st.radio(
        "Match users on",
        ["email", "username"],
        index=["email", "username"].index(o.match),
        horizontal=True,
        help="How a row is recognised as an existing user.",
    )
    fill_missing = st.checkbox(
        "Only fill empty fields",
        o.fill_missing,
        help="Leave values that are already filled in as they are.",
    )
    left, right = st.columns(2)
    group_choice = left.multiselect(
        "Add every row to these groups",
        sorted(set(groups) | set(o.groups)),
        list(o.groups),
        help="Groups are added; existing memberships stay.",
        accept_new_options=True,
    )
    level_choice = right.multiselect(
        "Give every row these levels",
        sorted(set(levels) | set(o.levels)),
        list(o.levels),
        help="Levels are only ever added; existing levels stay.",
        accept_new_options=True,
    )
    create_groups = left.checkbox(
        "Create groups that do not exist yet",
        o.create_groups,
        help="Otherwise an unknown group rejects its row.",
    )
    create_levels = right.checkbox(
        "Create levels that do not exist yet",
        o.create_levels,
        help="Otherwise an unknown level rejects its row.",
    )
    create_terms = left.checkbox(
        "Create unknown taxonomy terms",
        o.create_terms,
        help="Otherwise an unknown term rejects its row.",
    )
    role = left.selectbox(
        "Role for new users",
        [None, *roles],
        index=[None, *roles].index(o.role) if o.role in roles else 0,
        help="Used when the file gives none.",
    )
    language = right.selectbox(
        "Language for new users",
        [None, *languages],
        index=[None, *languages].index(o.language) if o.language in languages else 0,
        help="Chooses the language of their emails.",
    )
    kind = right.radio(
        "Kind of new users",
        ["employee", "contact"],
        index=["employee", "contact"].index(o.kind),
        horizontal=True,
        help="Also the kind a full-list import covers.",
    )
    full_list = st.checkbox(
        "This file is the full list",
        o.full_list,
        help="Users of this kind who are not in the file get blocked.",
    )
    max_deactivate = st.text_input(
        "Block at most",
        o.max_deactivate or "10%",
        help="A number or a percentage; above it nothing is done.",
        disabled=not full_list,
    )
    st.markdown("**Emails**")
    welcome_new = st.checkbox(
        "Send new users a welcome email", o.welcome_new, help="With a link to set their password."
    )
    notify_updated = st.checkbox("Tell updated users what changed", o.notify_updated)
    notify_admin = st.checkbox("Email me when the import is done", wizard.notify_me)
    strict = st.radio(
        "When rows are rejected",
        [False, True],
        index=int(o.strict),
        format_func=lambda s: (
            "All or nothing: import nothing"
            if s
            else "Import the valid rows; give me the rejected ones to fix"
        ),
        help="Rejected rows come back as a file to correct and upload again.",
    )
    empty_action = o.empty_action
    if "action" in (wizard.mapping or {}).values():
        empty_action = st.radio(
            "An empty code in the action column means",
            ["block", "none"],
            index=["block", "none"].index(o.empty_action),
            format_func=lambda a: (
                "Block the user (as AFAS Profit: code 0)" if a == "block" else "No action"
            ),
            horizontal=True,
        )
    keep_days = st.number_input(
        "Keep the uploaded file for (days)",
        0,
        MAX_KEEP_FILE_DAYS,
        o.keep_file_days,
        help="0: the file is deleted as soon as the import has run. A kept file can be "
        "downloaded from the history until then.",
    )
    try:
        wizard.options = ImportOptions(
            mode=mode,
            match=match,
            fill_missing=fill_missing,
            groups=tuple(group_choice),
            levels=tuple(level_choice),
            create_groups=create_groups or bool(set(group_choice) - set(groups)),
            create_levels=create_levels or bool(set(level_choice) - set(levels)),
            create_terms=create_terms,
            role=role,
            language=language,
            kind=kind,
            full_list=full_list,
            max_deactivate=max_deactivate if full_list else None,
            welcome_new=welcome_new,
            notify_updated=notify_updated,
            notify_admin=None,
            strict=strict,
            keep_file_days=int(keep_days),
            empty_action=empty_action,
        )
        wizard.notify_me = notify_admin
    except ValueError as exc:
        st.error(md(str(exc)))
        return
    _nav(wizard)


def current_plan(wizard: Wizard, settings: Settings, engine: Engine) -> Plan:
    """The preview, computed once per set of choices; its first rows show while it grows."""
    cached = st.session_state.get("wizard_plan")
    if cached and cached[0] == wizard.key():
        return cached[1]
    table = current_table(wizard, settings)
    total, early = table.row_count, None
    with Session(engine) as session:
        request = ImportRequest(table, wizard.mapping, wizard.options)
        for plan in preview_import(session=session, request=request):
            done = plan.outcomes.total()
            if done < total:
                # A large file: show what is known while the rest is checked.
                early = early if early is not None else st.empty()
                with early.container():
                    st.progress(done / total, text=f"Checked {done:,} of {total:,} rows…")
                    _count_tiles(plan)
                    st.dataframe(_rows_table(plan.rows[:PAGE_SIZE]), hide_index=True)
    if early is not None:
        early.empty()
    st.session_state["wizard_plan"] = (wizard.key(), plan)
    return plan


def _count_tiles(plan: Plan) -> None:
    counts = plan.counts
    for tile, key in zip(st.columns(5) * 2, COUNT_LABELS, strict=False):
        tile.metric(key.capitalize(), f"{counts[key]:,}")


def _rows_table(rows: list[RowPlan]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Row": r.row,
                "Email": r.email,
                "Outcome": OUTCOME_LABELS.get(r.outcome, r.outcome),
                "Changes": describe_changes(r),
            }
            for r in rows
        ],
        columns=["Row", "Email", "Outcome", "Changes"],
    )


def _page(count: int, key: str) -> slice:
    """The positions of the page chosen under key; only these rows are formatted and sent."""
    pages = max(1, -(-count // PAGE_SIZE))
    page = st.number_input(f"Page (of {pages:,})", 1, pages, 1, key=key) if pages > 1 else 1
    return slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE)


def _rows_page(plan: Plan, outcome: str) -> None:
    rows = [r for r in plan.rows if r.outcome == outcome]
    shown = _rows_table(rows[_page(len(rows), f"page_{outcome}")])
    st.dataframe(shown.drop(columns="Outcome"), hide_index=True)


def _paged(frame: pd.DataFrame, key: str) -> None:
    st.dataframe(frame.iloc[_page(len(frame), key)], hide_index=True)


def step_preview(wizard: Wizard, settings: Settings, engine: Engine) -> None:
    table = current_table(wizard, settings)
    try:
        plan = current_plan(wizard, settings, engine)
    except UnusableFileError as exc:
        st.error(md(exc.message))
        _nav(wizard, can_next=False)
        return
    _count_tiles(plan)
    if plan.refused:
        st.error(md(plan.refused))
    present = [o for o in OUTCOME_LABELS if plan.outcomes[o]]
    if present:
        for tab, outcome in zip(
            st.tabs([OUTCOME_LABELS[o] for o in present]), present, strict=True
        ):
            with tab:
                _rows_page(plan, outcome)
    if plan.issues:
        st.subheader("Issues")
        frame = pd.DataFrame(
            [
                {
                    "Row": i.row,
                    "Column": i.column,
                    "Code": i.code,
                    "Severity": i.severity,
                    "Problem and what to do": i.message,
                }
                for i in plan.issues
            ]
        )
        chosen = st.multiselect("Show only", sorted(frame["Code"].unique()))
        _paged(frame[frame["Code"].isin(chosen)] if chosen else frame, "page_issues")
    if plan.error_rows:
        _corrections_editor(wizard, table, plan)
    if plan.deactivate:
        st.subheader(f"Would be blocked: {len(plan.deactivate):,} users not in the file")
        _paged(
            pd.DataFrame([{"Email": d.email, "Name": d.name} for d in plan.deactivate]),
            "page_deactivate",
        )
    _emails(wizard, settings, engine, plan)
    _nav(wizard, can_next=not plan.refused and (plan.writes_anything or bool(plan.error_rows)))


def _corrections_editor(wizard: Wizard, table: Table, plan: Plan) -> None:
    st.subheader("Fix rejected rows")
    st.caption("Correct the cells below and revalidate; no need to upload the file again.")
    rows = sorted(plan.error_rows)[:FIX_ROWS_SHOWN]
    if len(plan.error_rows) > FIX_ROWS_SHOWN:
        st.caption(
            f"The first {FIX_ROWS_SHOWN} of {len(plan.error_rows):,} rejected rows; fix the others "
            "in the file of rejected rows after the import, or in the file itself."
        )
    edited = st.data_editor(
        _with_headers(table, table.data.loc[rows]), key="corrections", disabled=False
    )
    if st.button("Revalidate"):
        for row in rows:
            for index in range(table.data.shape[1]):
                value = str(edited.iloc[rows.index(row), index])
                if value != table.data.at[row, index]:
                    wizard.corrections.setdefault(row, {})[index] = value
        st.rerun()
    with st.form("correct_cell"):
        st.caption("Or correct one cell:")
        row_col, column_col, value_col = st.columns(3)
        row = row_col.selectbox("Row", rows)
        column = column_col.selectbox(
            "Column", range(table.data.shape[1]), format_func=table.column_name
        )
        value = value_col.text_input("New value")
        if st.form_submit_button("Correct and revalidate"):
            wizard.corrections.setdefault(row, {})[column] = value.strip()
            st.rerun()


def _emails(wizard: Wizard, settings: Settings, engine: Engine, plan: Plan) -> None:
    if not (plan.welcome or plan.notify or wizard.notify_me):
        return
    st.subheader("Emails")
    st.write(f"Welcome emails: {len(plan.welcome):,}; change notices: {len(plan.notify):,}.")
    recipients = [{"To": e, "Message": "welcome"} for e in plan.welcome]
    recipients += [{"To": e, "Message": "change notice"} for e in plan.notify]
    if wizard.notify_me:
        recipients.append({"To": "you", "Message": "import finished"})
    _paged(pd.DataFrame(recipients, columns=["To", "Message"]), "page_emails")
    if not settings.smtp_configured:
        st.warning(
            "No mail server is configured, so these emails will be kept as not sent. "
            "Set INSTROOM_SMTP_HOST to send them."
        )
    language = st.radio("Preview the message in", ["nl", "en"], horizontal=True)
    rows = {r.email: r for r in plan.rows}
    with Session(engine) as session:
        for template, recipients in (("welcome", plan.welcome), ("updated", plan.notify)):
            if recipients and recipients[0] in rows:
                subject, body = preview_message(
                    session=session,
                    template=template,
                    language=language,
                    row=rows[recipients[0]],
                    settings=settings,
                )
                more = f" and {len(recipients) - 1:,} more" if len(recipients) > 1 else ""
                with st.expander(f"{md(subject)} → {md(recipients[0])}{more}"):
                    st.text(body)


def confirmation_text(plan: Plan) -> str:
    """The question an administrator confirms, with the counts that matter."""
    counts = plan.counts
    parts = [
        f"{verb} {counts[key]:,}"
        for key, verb in (
            ("created", "create"),
            ("updated", "update"),
            ("blocked", "block"),
            ("unblocked", "unblock"),
            ("renamed", "rename"),
            ("deactivated", "deactivate"),
        )
        if counts[key]
    ]
    text = (
        ", ".join(parts[:-1]) + " and " + parts[-1]
        if len(parts) > 1
        else (parts[0] if parts else "change nothing for")
    )
    question = f"{text[0].upper()}{text[1:]} users?"
    if counts["errors"]:
        question += f" {counts['errors']:,} rejected rows will not be imported."
    return question


def step_confirm(
    wizard: Wizard, settings: Settings, engine: Engine, account: SignedInAccount
) -> None:
    plan = current_plan(wizard, settings, engine)
    st.subheader(confirmation_text(plan))
    if wizard.options.strict and plan.error_rows:
        st.warning(
            "All or nothing is chosen and rows are rejected: the import will change "
            "nothing. Go back to fix the rows, or choose to import the valid ones."
        )
    back, start = st.columns([1, 5])
    if back.button("Back"):
        wizard.step -= 1
        st.rerun()
    if start.button("Start the import", type="primary"):
        table = current_table(wizard, settings)
        options = replace(wizard.options, notify_admin=account.email if wizard.notify_me else None)
        with session_scope(engine) as session:
            check_import_mapping(
                catalog=load_catalog(session=session), table=table, mapping=wizard.mapping
            )
            job = create_job(
                session=session,
                request=ImportRequest(table, wizard.mapping, options),
                file_name=wizard.file_name,
                file_bytes=wizard.data,
                created_by=account.username,
                status="queued",
            )
            wizard.job_id = enqueue_import(
                session=session,
                job=job,
                file_bytes=wizard.data,
                read_options=wizard.read_options(settings),
                corrections=wizard.corrections,
            )
        st.query_params["job"] = str(wizard.job_id)
        wizard.step += 1
        st.rerun()


def render_wizard(account: SignedInAccount, settings: Settings, engine: Engine) -> None:
    """The wizard at its current step; an import started earlier is shown by its job id."""
    wizard = get_wizard()
    job_param = st.query_params.get("job")
    if job_param and job_param.isdigit() and wizard.job_id is None:
        wizard.job_id, wizard.step = int(job_param), len(STEPS) - 1
    progress, restart = st.columns([6, 1], vertical_alignment="bottom")
    progress.progress(
        (wizard.step + 1) / len(STEPS),
        text=f"Step {wizard.step + 1} of {len(STEPS)}: {STEPS[wizard.step]}",
    )
    if wizard.data and wizard.step < len(STEPS) - 1:
        restart.button("Start over", on_click=_start_over, help="Forget this file and its choices.")
    if wizard.step == 0:
        step_upload(wizard, settings, engine)
    elif wizard.step == 1:
        step_map(wizard, settings, engine, account)
    elif wizard.step == 2:
        step_options(wizard, settings, engine)
    elif wizard.step == 3:
        step_preview(wizard, settings, engine)
    elif wizard.step == 4:
        step_confirm(wizard, settings, engine, account)
    else:
        job_progress(engine, wizard.job_id)
        st.button("Start another import", on_click=_start_over)


def _start_over() -> None:
    st.query_params.clear()
    st.session_state["wizard"] = Wizard()
    st.session_state.pop("wizard_plan", None)
    st.session_state[_GENERATION] = st.session_state.get(_GENERATION, 0) + 1
