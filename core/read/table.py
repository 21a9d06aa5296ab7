"""The table a file is read into, its reading options, and how its header is found."""

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pandas as pd

from core.issues import Issue, UnusableFileError, column_letter, issue

# A workbook that unpacks to more than this is refused before it is parsed (zip bombs).
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024


# Columns A to ZZ: no list of users is wider, and a wider sheet is how a small file asks
# for gigabytes (a single cell at XFD1048576 spans 17 billion cells).
MAX_COLUMNS = 702


# Excel itself keeps at most this many characters in a cell.
MAX_CELL_CHARACTERS = 32_767


# In the XML a character takes up to 6 bytes (an escaped "&quot;"); text runs between tags.
MAX_TEXT_RUN_BYTES = 6 * MAX_CELL_CHARACTERS


# Fields of ReadOptions that are limits of the installation, not choices about one file.
LIMIT_FIELDS = frozenset({"max_rows", "max_bytes", "max_memory_bytes", "max_seconds"})


EMAIL_LIKE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file; None means detect it."""

    encoding: str | None = None
    delimiter: str | None = None
    has_header: bool | None = None
    # The spreadsheet row (1 = first) that holds the header; None: found by itself.
    header_row: int | None = None
    sheet: str | None = None
    skip_rows: int | None = None
    max_rows: int = 1_000_000
    max_bytes: int = 200 * 1024 * 1024
    # Reading happens in a child process with these caps, whatever the file asks for.
    max_memory_bytes: int = 4096 * 1024 * 1024
    max_seconds: float = 300.0

    def choices(self) -> dict[str, Any]:
        """What a job or link keeps of how to read its file; the limits come from Settings."""
        return {k: v for k, v in asdict(self).items() if k not in LIMIT_FIELDS}


@dataclass
class Table:
    """A file's cells as strings; `data` has positional columns and spreadsheet row numbers."""

    headers: list[str]
    data: pd.DataFrame
    source: str
    has_header: bool
    header_row: int | None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    skipped_lines: list[str] = field(default_factory=list)
    findings: list[Issue] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        """How many data rows the file has (blank rows not counted)."""
        return len(self.data)

    def column_name(self, index: int) -> str:
        """The column as the user wrote it, or its letter when it has no header."""
        header = self.headers[index] if index < len(self.headers) else ""
        return header or f"Column {column_letter(index)}"


@dataclass(frozen=True)
class CellFinding:
    """An issue of one cell, row or column, found before the table's columns are named."""

    code: str
    row: int | None
    col: int | None
    params: dict[str, str]


def with_corrections(table: Table, corrections: dict[int, dict[int, str]]) -> Table:
    """The table with the administrator's corrected cells; a corrected cell is the admin's
    value, so what the file said about that cell (a formula, an error value) no longer holds."""
    if not corrections:
        return table
    data = table.data.copy()
    corrected = set()
    for row, cells in corrections.items():
        for column, value in cells.items():
            data.at[int(row), int(column)] = value
            corrected.add((int(row), table.column_name(int(column))))
    findings = [f for f in table.findings if (f.row, f.column) not in corrected]
    return replace(table, data=data, findings=findings)


def check_width(columns: int, variant: str) -> None:
    if columns > MAX_COLUMNS:
        raise UnusableFileError.of("too-large", variant, columns=columns, limit=MAX_COLUMNS)


def finish_table(
    frame: pd.DataFrame,
    first_row: int,
    options: ReadOptions,
    *,
    source: str,
    findings: list[Issue],
    cell_findings: Sequence[CellFinding] = (),
) -> Table:
    """Find the header, drop blank rows and columns, number the rows, check the limits."""
    frame = frame.reset_index(drop=True)
    frame.columns = range(frame.shape[1])
    frame.index = range(first_row, first_row + len(frame))
    blank = (
        frame.apply(lambda column: column.str.strip() == "").all(axis=1)
        if len(frame.columns)
        else pd.Series(True, index=frame.index)
    )
    non_blank = blank[~blank]
    if non_blank.empty:
        raise UnusableFileError.of("empty-file", "no-values")
    first = _header_row(frame, non_blank.index, options)
    has_header = options.has_header if options.header_row is None else True
    if has_header is None:
        has_header = not any(EMAIL_LIKE.match(str(v).strip()) for v in frame.loc[first])
    if not has_header:
        first = non_blank.index[0]
    above = [row for row in non_blank.index if row < first]
    if above:
        findings.append(_rows_above_header(frame, above, first))
    if has_header:
        headers = [str(v).strip() for v in frame.loc[first]]
        data = frame.loc[(frame.index > first) & ~blank]
        header_row: int | None = first
    else:
        headers = [""] * frame.shape[1]
        data = frame.loc[(frame.index >= first) & ~blank]
        header_row = None
    # Trailing columns with neither a header nor a value are spreadsheet leftovers.
    width = len(headers)
    while width and not headers[width - 1] and (data[width - 1].str.strip() == "").all():
        width -= 1
    headers, data = headers[:width], data.iloc[:, :width]
    findings.extend(_repeated_headers(headers))
    if data.empty:
        raise UnusableFileError.of("empty-file", "header-only")
    if len(data) > options.max_rows:
        raise UnusableFileError.of("too-large", "rows", rows=len(data), limit=options.max_rows)
    table = Table(
        headers=headers,
        data=data,
        source=source,
        has_header=has_header,
        header_row=header_row,
        findings=findings,
    )
    for cell in cell_findings:
        if cell.col is not None and cell.col >= width:
            continue
        if cell.row is None or cell.row in data.index or cell.row == header_row:
            column = table.column_name(cell.col) if cell.col is not None else None
            table.findings.append(issue(cell.code, row=cell.row, column=column, **cell.params))
    return table


def _header_row(frame: pd.DataFrame, non_blank: pd.Index, options: ReadOptions) -> int:
    """The header's row: as chosen, else the first row about as wide as the table.

    A title above the header ("Personeelslijst 2026", often merged) fills one or two cells;
    the header names most columns. Only the first ten rows with values are considered.
    """
    if options.header_row is not None:
        if options.header_row not in frame.index:
            raise UnusableFileError.of(
                "unknown-header-row",
                row=options.header_row,
                first=frame.index[0],
                last=frame.index[-1],
            )
        return options.header_row
    candidates = list(non_blank[:10])
    filled = {row: int((frame.loc[row].str.strip() != "").sum()) for row in candidates}
    widest = max(filled.values())
    needed = max(min(2, widest), (widest + 1) // 2)
    return int(next(row for row in candidates if filled[row] >= needed))


def _rows_above_header(frame: pd.DataFrame, rows: list[int], header: int) -> Issue:
    texts = [" ".join(v.strip() for v in frame.loc[row] if v.strip()) for row in rows]
    shown = "; ".join(repr(t[:60]) for t in texts[:3]) + ("; …" if len(texts) > 3 else "")
    return issue(
        "rows-above-header",
        "one" if len(rows) == 1 else "many",
        first=rows[0],
        last=rows[-1],
        header=header,
        texts=shown,
    )


def _repeated_headers(headers: list[str]) -> list[Issue]:
    seen: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        if header:
            seen.setdefault(" ".join(header.casefold().split()), []).append(index)
    return [
        issue(
            "duplicate-header",
            column=headers[columns[0]],
            letters=", ".join(column_letter(i) for i in columns),
            header=headers[columns[0]],
        )
        for columns in seen.values()
        if len(columns) > 1
    ]
