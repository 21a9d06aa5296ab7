"""Spreadsheet hygiene: formulas, error values, merged cells, hidden rows and columns and
hyperlinks, found in a sheet's XML in one pass."""

import re
from typing import IO

from core.issues import column_index, column_letter
from core.read.table import CellFinding

FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


_HIDDEN_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\bhidden="(?:1|true)"[^>]*>')


_HIDDEN_COL = re.compile(rb"<(?:\w+:)?col\b[^>]*>")


_HYPERLINK = re.compile(rb'<(?:\w+:)?hyperlink\b[^>]*\bref="([A-Z]+)(\d+)')


_ATTR = re.compile(rb'\b(\w+)="([^"]*)"')


_XML_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)


_ERROR_CELL = re.compile(
    rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]+)(\d+)"[^>]*?\bt="e"[^>]*>.*?<(?:\w+:)?v>([^<]*)<',
    re.DOTALL,
)


# A cell by its spreadsheet row (1 = first) and 0-based column.
Cell = tuple[int, int]


def _error_value(cell: str, error: str, row: int, column: int) -> CellFinding:
    return CellFinding("error-value", row, column, {"cell": cell, "error": error})


def xls_cells(data: bytes, sheet_name: str) -> tuple[list[CellFinding], dict[Cell, str]]:
    """Excel error values in an .xls sheet (the fast reader shows them as empty cells), and
    the number format of every number cell, so its digits are shown as Excel shows them."""
    import xlrd  # only for the legacy format, whose sheets are at most 65,536 rows

    found, formats = [], {}
    # xlrd is stricter than the reader that read the values: a file it chokes on (struct,
    # CompDoc, decoding or assertion errors) is still read, only without this scan.
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, formatting_info=True)
        sheet = book.sheet_by_name(sheet_name)
        for row in range(sheet.nrows):
            for column, kind in enumerate(sheet.row_types(row)):
                if kind == xlrd.XL_CELL_ERROR:
                    error = xlrd.error_text_from_code.get(sheet.cell_value(row, column), "#?")
                    ref = f"{column_letter(column)}{row + 1}"
                    found.append(_error_value(ref, error, row + 1, column))
                elif kind == xlrd.XL_CELL_NUMBER:
                    key = book.xf_list[sheet.cell_xf_index(row, column)].format_key
                    code = book.format_map[key].format_str if key in book.format_map else ""
                    if "0" in code:
                        formats[(row + 1, column)] = code
    except Exception:
        return [], {}
    return found, formats


def xlsx_hygiene(xml: bytes, width: int) -> list[CellFinding]:
    """Formulas, merged cells, hidden rows and columns, hyperlinks, read from the sheet's XML.

    Every scan is one pass over the XML, so time grows with the sheet, not its square.
    """
    if b"<!--" in xml:
        xml = _XML_COMMENT.sub(b"", xml)
    found: list[CellFinding] = []
    cell, searched = None, 0
    for match in FORMULA.finditer(xml):
        # Look back only as far as the previous formula: each byte is looked at once.
        at = match.start()
        start = max(xml.rfind(b"<c ", searched, at), xml.rfind(b":c ", searched, at))
        searched = match.end()
        if start < 0:
            continue  # a second formula tag in the same cell, or one outside any cell
        ref = CELL_REF.search(xml, start, at)
        if ref is None or ref.group(0) == cell:
            continue
        cell = ref.group(0)
        found.append(
            CellFinding(
                "formula",
                int(ref.group(2)),
                column_index(ref.group(1).decode()),
                {"cell": (ref.group(1) + ref.group(2)).decode()},
            )
        )
    if b't="e"' in xml:
        for match in _ERROR_CELL.finditer(xml):
            cell_ref = (match.group(1) + match.group(2)).decode()
            column = column_index(match.group(1).decode())
            found.append(
                _error_value(cell_ref, match.group(3).decode(), int(match.group(2)), column)
            )
    for match in _MERGE.finditer(xml):
        first = (match.group(1) + match.group(2)).decode()
        last = (match.group(3) + match.group(4)).decode() if match.group(3) else first
        found.append(
            CellFinding(
                "merged-cell",
                int(match.group(2)),
                column_index(match.group(1).decode()),
                {"first": first, "last": last},
            )
        )
    if b'hidden="' in xml:
        for match in _HIDDEN_ROW.finditer(xml):
            attrs = dict(_ATTR.findall(match.group(0)))
            if b"r" in attrs:
                row_number = int(attrs[b"r"])
                found.append(CellFinding("hidden-row", row_number, None, {}))
        for match in _HIDDEN_COL.finditer(xml):
            attrs = dict(_ATTR.findall(match.group(0)))
            if attrs.get(b"hidden") in {b"1", b"true"}:
                # A range may name millions of columns; only those the sheet has matter.
                first_col = int(attrs.get(b"min", 1)) - 1
                last_col = min(int(attrs.get(b"max", 1)), width)
                for index in range(first_col, last_col):
                    found.append(
                        CellFinding("hidden-column", None, index, {"letter": column_letter(index)})
                    )
    for match in _HYPERLINK.finditer(xml):
        found.append(
            CellFinding(
                "hyperlink",
                int(match.group(2)),
                column_index(match.group(1).decode()),
                {"cell": (match.group(1) + match.group(2)).decode()},
            )
        )
    return found


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_ODS_NUMBERS = {"float", "percentage", "currency"}


def ods_shown_digits(content: IO[bytes], sheet_name: str) -> dict[Cell, str]:
    """(row, column) -> the digits an OpenDocument sheet shows for a number cell, where its
    format adds leading zeros (14 shown as 000014); the reader gives only the number."""
    import xml.etree.ElementTree as ET

    shown: dict[Cell, str] = {}
    in_sheet, row = False, 0
    for event, element in ET.iterparse(content, events=("start", "end")):
        tag = element.tag
        if tag == f"{_ODS_TABLE}table" and event == "start":
            in_sheet, row = element.get(f"{_ODS_TABLE}name") == sheet_name, 0
        elif tag == f"{_ODS_TABLE}table-row" and event == "end":
            if in_sheet:
                row += 1
                column = 0
                for cell in element:
                    repeat = int(cell.get(f"{_ODS_TABLE}number-columns-repeated", "1"))
                    value = cell.get(f"{_ODS_OFFICE}value")
                    text = "".join(cell.itertext()).strip()
                    kind = cell.get(f"{_ODS_OFFICE}value-type")
                    if kind in _ODS_NUMBERS and value and _pads(text, value):
                        for offset in range(min(repeat, 702)):
                            shown[(row, column + offset)] = text
                    column += repeat
                row += int(element.get(f"{_ODS_TABLE}number-rows-repeated", "1")) - 1
            element.clear()
    return shown


def _pads(text: str, value: str) -> bool:
    """Whether text shows the whole number value with zeros (or fixed signs) before it."""
    try:
        number = float(value)
    except ValueError:
        return False
    digits = "".join(c for c in text if c.isdigit())
    return (
        number.is_integer()
        and number >= 0
        and text[:1] == "0"
        and digits.lstrip("0") == str(int(number)).lstrip("0")
        and len(digits) > len(str(int(number)))
    )
