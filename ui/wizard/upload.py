"""Step 1: a file or a pasted list, and how it was read (encoding, delimiter, header, sheet)."""

from collections import Counter

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session

from core import export
from core.config import Settings
from core.i18n import N_, NP_
from core.issues import UnusableFileError
from core.read import (
    DELIMITER_NAMES,
    Table,
)
from core.source import PASTED, source_words
from ui.text import _, counted, current_language
from ui.widgets import md
from ui.wizard.state import GENERATION_KEY, Wizard, current_table, step_buttons

# Encodings by the names Excel and Notepad give them, not Python's codec names.
ENCODING_NAMES = {
    "utf-8": N_("UTF-8"),
    "utf-8-sig": N_("UTF-8 with BOM (Excel's CSV UTF-8)"),
    "utf-16": N_("UTF-16 (Excel's Unicode text)"),
    "cp1252": N_("Windows-1252 (Excel's plain CSV)"),
    "latin-1": N_("Latin-1 (ISO-8859-1)"),
}


def step_upload(wizard: Wizard, settings: Settings, engine: Engine) -> None:
    with Session(engine) as session:
        template = export.template_frame(session=session, language=current_language())
    left, right = st.columns([3, 1])
    with right:
        st.caption(_("Download template"))
        st.download_button(
            _("CSV template"),
            export.to_csv_bytes(template),
            "instroom-template.csv",
            mime="text/csv",
            on_click="ignore",
        )
        st.download_button(
            _("XLSX template"),
            export.to_xlsx_bytes(template),
            "instroom-template.xlsx",
            on_click="ignore",
        )
    with left:
        # New keys after "Start over", so the uploader and the text box forget their content.
        generation = st.session_state.get(GENERATION_KEY, 0)
        upload = st.file_uploader(
            _("Choose a CSV, TSV, TXT, XLSX, XLSB, XLS or ODS file"),
            type=["csv", "tsv", "txt", "xlsx", "xlsm", "xlsb", "xls", "ods"],
            key=f"upload_{generation}",
        )
        pasted = st.text_area(
            _("…or paste the rows here (with a header row)"), height=120, key=f"paste_{generation}"
        )
    if upload is not None and (upload.name, upload.size) != (wizard.file_name, len(wizard.data)):
        _new_source(wizard, upload.name, upload.getvalue())
    elif pasted.strip() and pasted.encode() != wizard.data:
        _new_source(wizard, PASTED, pasted.encode("utf-8"))
    if not wizard.data:
        st.info(_("Upload a file or paste rows to begin."))
        return
    try:
        table = current_table(wizard, settings)
    except UnusableFileError as exc:
        st.error(md(exc.text(current_language())))
        return
    _detected(wizard, table)
    st.dataframe(with_headers(table, table.data.head(20)), hide_index=False)
    if table.findings:
        st.warning(
            counted(
                NP_(
                    "{count} thing to check in this file:", "{count} things to check in this file:"
                ),
                len(table.findings),
            )
        )
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        # A finding about the whole file has no row or column: empty, not None.
                        _("Row"): "" if f.row is None else str(f.row),
                        _("Column"): f.column or "",
                        _("Problem"): f.text(current_language()),
                        _("Severity"): _(f.severity),
                    }
                    for f in table.findings
                ]
            ),
            hide_index=True,
            placeholder="",
        )
    step_buttons(wizard)


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
        f"**{md(source_words(wizard.file_name, current_language()))}**: "
        + counted(NP_("{count} row", "{count} rows"), table.row_count)
        + (_(", sheet {sheet}").format(sheet=md(table.sheet)) if table.sheet else "")
        + (f", {_(ENCODING_NAMES.get(table.encoding, table.encoding))}" if table.encoding else "")
        + (
            _(", {delimiter}-separated").format(delimiter=_delimiter_name(table.delimiter))
            if table.delimiter
            else ""
        )
        + (
            _(", header in row {row}").format(row=table.header_row)
            if table.has_header
            else _(", no header")
        )
    )
    columns = st.columns(4)
    if table.source in {"csv", "text"}:
        _read_choice(
            columns[0],
            wizard,
            _("Delimiter"),
            "delimiter",
            [None, *DELIMITER_NAMES],
            {None: _("detected"), **{k: _(v) for k, v in DELIMITER_NAMES.items()}},
        )
    if table.source == "csv":
        _read_choice(
            columns[1],
            wizard,
            _("Encoding"),
            "encoding",
            [None, *ENCODING_NAMES],
            {None: _("detected")} | {code: _(name) for code, name in ENCODING_NAMES.items()},
        )
    if table.sheets:
        _read_choice(
            columns[1],
            wizard,
            _("Sheet"),
            "sheet",
            [None, *table.sheets],
            {None: _("first visible")},
        )
    rows = [int(r) for r in table.data.index[:10]]
    header_rows = sorted({*range(1, (table.header_row or 0) + 1), *rows})[:20]
    _read_choice(
        columns[2],
        wizard,
        _("Header row"),
        "header_choice",
        [None, False, *header_rows],
        {
            None: _("detected"),
            False: _("no header row"),
            **{r: _("row {row}").format(row=r) for r in header_rows},
        },
    )


def _delimiter_name(delimiter: str) -> str:
    name = DELIMITER_NAMES.get(delimiter)
    return _(name) if name else repr(delimiter)


def with_headers(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with the file's headers; a repeated header gets its number ("Naam (2)")."""
    shown, seen = frame.copy(), Counter[str]()
    names = []
    for i in range(frame.shape[1]):
        name = table.column_name(i)
        seen[name] += 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    shown.columns = names
    return shown
