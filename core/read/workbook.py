"""Workbooks (XLSX, XLS, ODS): sizes checked before parsing, values as Excel shows them."""

import html
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, datetime, time, timedelta
from typing import IO

import pandas as pd

from core.issues import UnusableFileError, column_index, issue
from core.read.hygiene import xls_error_values, xlsx_hygiene
from core.read.table import (
    MAX_CELL_CHARACTERS,
    MAX_COLUMNS,
    MAX_TEXT_RUN_BYTES,
    MAX_UNPACKED_BYTES,
    CellFinding,
    ReadOptions,
    Table,
    finish_table,
)


def _cell_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return "" if value is None else str(value)


def read_workbook(data: bytes, kind: str, options: ReadOptions) -> Table:
    import python_calamine  # a text file never needs the workbook reader

    archive = None
    if kind == "xlsx":
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            raise UnusableFileError.of("too-large", "unpacked", megabytes=unpacked / 2**20)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        visible = [
            m.name
            for m in workbook.sheets_metadata
            if m.visible == python_calamine.SheetVisibleEnum.Visible
        ]
        hidden = [m.name for m in workbook.sheets_metadata if m.name not in visible]
        if options.sheet is not None and options.sheet not in workbook.sheet_names:
            raise UnusableFileError.of(
                "unknown-sheet", sheet=options.sheet, sheets=", ".join(workbook.sheet_names)
            )
        sheet_name = options.sheet or (visible or workbook.sheet_names)[0]
        sheet_xml = _sheet_xml(archive, sheet_name) if archive is not None else b""
        if archive is not None:
            _check_sheet_size(archive, sheet_xml)
        rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except python_calamine.PasswordError as exc:
        raise UnusableFileError.of("unreadable-file", "workbook-password") from exc
    except (python_calamine.CalamineError, ValueError, KeyError, OSError) as exc:
        raise UnusableFileError.of("unreadable-file", "damaged-workbook") from exc
    findings = [issue("hidden-sheet", sheet=name) for name in hidden]
    skip = options.skip_rows or 0
    frame = pd.DataFrame([[_cell_text(v) for v in row] for row in rows[skip:]], dtype=object)
    if frame.empty:
        raise UnusableFileError.of("empty-file", "sheet", sheet=sheet_name)
    frame = frame.astype(str)
    cell_findings: list[CellFinding] = []
    if archive is not None:
        _pad_zeros(frame, _zero_padded_cells(archive, sheet_xml), skip)
        cell_findings = xlsx_hygiene(sheet_xml, frame.shape[1])
    else:
        if kind == "xls":
            cell_findings = xls_error_values(data, sheet_name)
        findings.append(issue("legacy-xls" if kind == "xls" else "unchecked-ods"))
    table = finish_table(
        frame, skip + 1, options, source=kind, findings=findings, cell_findings=cell_findings
    )
    table.sheet, table.sheets = sheet_name, list(workbook.sheet_names)
    return table


_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="(?:[A-Z]+\d+:)?([A-Z]+)(\d+)"')


# A reference of three or more letters lies beyond column ZZ.
_WIDE_REF = re.compile(rb'\br="([A-Z]{3,})(\d+)"')


_NUM_FMT = re.compile(rb'<(?:\w+:)?numFmt\b[^>]*?\bnumFmtId="(\d+)"[^>]*?\bformatCode="([^"]*)"')


_CELL_XFS = re.compile(rb"<(?:\w+:)?cellXfs\b[^>]*>(.*?)</(?:\w+:)?cellXfs>", re.DOTALL)


_XF_NUM_FMT = re.compile(rb'<(?:\w+:)?xf\b[^>]*?\bnumFmtId="(\d+)"')


_LONG_TEXT = re.compile(rb"[^<]{%d,}" % (MAX_TEXT_RUN_BYTES + 1))


def _sheet_path(archive: zipfile.ZipFile, sheet_name: str) -> str | None:
    workbook = ET.fromstring(archive.read("xl/workbook.xml"))
    rel_id = next(
        (
            s.get(_NS_REL)
            for s in workbook.iter()
            if s.tag.endswith("}sheet") and s.get("name") == sheet_name
        ),
        None,
    )
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next((r.get("Target") for r in rels if r.get("Id") == rel_id), None)
    if target is None:
        return None
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _sheet_xml(archive: zipfile.ZipFile, sheet_name: str) -> bytes:
    try:
        path = _sheet_path(archive, sheet_name)
        return archive.read(path) if path else b""
    except (KeyError, ET.ParseError):
        return b""


def _too_wide(letters: bytes, row: bytes) -> UnusableFileError:
    cell = (letters + row).decode()
    return UnusableFileError.of(
        "too-large",
        "sheet-width",
        cell=cell,
        columns=column_index(letters.decode()) + 1,
        limit=MAX_COLUMNS,
    )


def _check_sheet_size(archive: zipfile.ZipFile, sheet_xml: bytes) -> None:
    """Refuse a sheet that asks for more columns or longer cells than a user list has."""
    dimension = _DIMENSION.search(sheet_xml, 0, 4096)
    if dimension and column_index(dimension.group(1).decode()) >= MAX_COLUMNS:
        raise _too_wide(dimension.group(1), dimension.group(2))
    wide = _WIDE_REF.search(sheet_xml)
    if wide:
        raise _too_wide(wide.group(1), wide.group(2))
    longest = _longest_text_run(sheet_xml)
    if "xl/sharedStrings.xml" in archive.namelist():
        with archive.open("xl/sharedStrings.xml") as strings:
            longest = max(longest, _longest_text_run(strings))
    if longest > MAX_TEXT_RUN_BYTES:
        raise UnusableFileError.of("too-large", "cell", length=longest, limit=MAX_CELL_CHARACTERS)


def _longest_text_run(source: bytes | IO[bytes]) -> int:
    """The longest stretch without a tag, read in slices so a huge string is never held."""
    if isinstance(source, bytes):
        found = _LONG_TEXT.search(source)
        return len(found.group(0)) if found else 0
    longest = carried = 0
    while block := source.read(8 * 1024 * 1024):
        cut = block.find(b"<")
        if cut < 0:
            carried += len(block)
            longest = max(longest, carried)
            continue
        longest = max(longest, carried + cut)
        found = _LONG_TEXT.search(block, cut)
        if found:
            longest = max(longest, len(found.group(0)))
        carried = len(block) - block.rfind(b"<") - 1
    return longest


def _zero_padded_cells(archive: zipfile.ZipFile, sheet_xml: bytes) -> dict[tuple[int, int], int]:
    """(row, column) -> digits, for number cells whose format shows leading zeros.

    Excel shows 612345678 formatted "0#########" as 0612345678 and 14 formatted "000000"
    as 000014; the admin sees those, so those are what is imported.
    """
    try:
        styles = archive.read("xl/styles.xml")
    except KeyError:
        return {}
    codes = {int(m.group(1)): html.unescape(m.group(2).decode()) for m in _NUM_FMT.finditer(styles)}
    cell_xfs = _CELL_XFS.search(styles)
    widths = {}
    for index, xf in enumerate(_XF_NUM_FMT.finditer(cell_xfs.group(1) if cell_xfs else b"")):
        width = _padded_width(codes.get(int(xf.group(1)), ""))
        if width > 1:
            widths[str(index).encode()] = width
    if not widths:
        return {}
    styled = re.compile(
        rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]+)(\d+)"[^>]*?\bs="(' + b"|".join(widths) + rb')"'
    )
    return {
        (int(m.group(2)), column_index(m.group(1).decode())): widths[m.group(3)]
        for m in styled.finditer(sheet_xml)
    }


def _padded_width(code: str) -> int:
    """How many digits a number format always shows: "0#########" 10, "000000" 6, "0" 1."""
    code = code.split(";")[0].replace("\\", "").replace('"', "")
    if not code or set(code) - {"0", "#"} or "0" not in code:
        return 0
    return len(code) - code.index("0")


def _pad_zeros(frame: pd.DataFrame, cells: dict[tuple[int, int], int], skip: int) -> None:
    for (row, column), width in cells.items():
        position = row - 1 - skip
        if 0 <= position < len(frame) and column < frame.shape[1]:
            value = frame.iat[position, column]
            if value.isdigit() and len(value) < width:
                frame.iat[position, column] = value.zfill(width)
