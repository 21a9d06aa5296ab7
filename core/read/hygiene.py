"""Spreadsheet hygiene: formulas, error values, merged cells, hidden rows and columns and
hyperlinks, found in a sheet's XML in one pass."""

import re

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


def _error_value(cell: str, error: str, row: int, column: int) -> CellFinding:
    return CellFinding("error-value", row, column, {"cell": cell, "error": error})


def xls_error_values(data: bytes, sheet_name: str) -> list[CellFinding]:
    """Excel error values in an .xls sheet (the fast reader shows them as empty cells)."""
    import xlrd  # only for the legacy format, whose sheets are at most 65,536 rows

    try:
        sheet = xlrd.open_workbook(file_contents=data, on_demand=True).sheet_by_name(sheet_name)
    except xlrd.XLRDError:
        return []
    found = []
    for row in range(sheet.nrows):
        for column, kind in enumerate(sheet.row_types(row)):
            if kind == xlrd.XL_CELL_ERROR:
                error = xlrd.error_text_from_code.get(sheet.cell_value(row, column), "#?")
                ref = f"{column_letter(column)}{row + 1}"
                found.append(_error_value(ref, error, row + 1, column))
    return found


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
