"""Text files and pasted lists: encoding, delimiter, preamble lines and parsing."""

import csv
import io
import re

import pandas as pd

from core.i18n import N_
from core.issues import Issue, UnusableFileError, issue
from core.read.table import ReadOptions, Table, check_width, finish_table

DELIMITERS = (";", ",", "\t", "|")


DELIMITER_NAMES = {";": N_("semicolon"), ",": N_("comma"), "\t": N_("tab"), "|": N_("pipe")}


FALLBACK_ENCODINGS = ("utf-8", "cp1252", "latin-1")


_UNCLOSED_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


# Characters that belong inside values (addresses, names), never taken for a delimiter.
_IN_VALUES = set(" @.-_'\"()")


_LONE_CR = re.compile(r"\r(?!\n)")
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\r?\n)+")


SEP_LINE = re.compile(r"^\s*sep=(.)\s*$", re.IGNORECASE)


ENTRA_VERSION_LINE = re.compile(r"^\s*version\s*:\s*v?\d+(\.\d+)*[\s,;\t|]*$", re.IGNORECASE)


def decode_text(data: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            return data.decode(encoding).lstrip("\ufeff"), encoding
        except LookupError as exc:
            raise UnusableFileError.of(
                "unreadable-encoding", "unknown-encoding", encoding=encoding
            ) from exc
        except UnicodeDecodeError as exc:
            raise UnusableFileError.of(
                "unreadable-encoding", "wrong-encoding", encoding=encoding, byte=exc.start + 1
            ) from exc
    for bom, name in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(name).lstrip("\ufeff"), name
            except UnicodeDecodeError as exc:
                raise UnusableFileError.of("damaged-file", "damaged-text", encoding=name) from exc
    sample = data[:8192]
    control = sum(1 for byte in sample if byte < 32 and byte not in b"\t\n\r")
    if control > len(sample) // 20:
        raise UnusableFileError.of("not-a-spreadsheet", "binary")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="replace")
    if not _looks_western(text):
        return _detected_encoding(data)
    for name in FALLBACK_ENCODINGS[1:]:
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")


def _looks_western(text: str) -> bool:
    """Whether cp1252 reads the text as a Western language: its other characters are mostly
    letters (é, ë, ß), not the symbol soup a Chinese or Cyrillic file becomes ('³¯¤j¤å')."""
    other = [c for c in text[:65536] if ord(c) > 127]
    odd = sum(1 for c in other if not c.isalpha())
    return odd < 4 or odd * 2 <= len(other)


def _detected_encoding(data: bytes) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000]).best()
    if best is None or best.encoding in {"cp1252", "latin_1", "iso8859_15"}:
        raise UnusableFileError.of("unreadable-encoding", "unrecognised-encoding")
    try:
        return data.decode(best.encoding), best.encoding
    except UnicodeDecodeError as exc:
        raise UnusableFileError.of(
            "unreadable-encoding", "misread-encoding", encoding=best.encoding
        ) from exc


def sniff_delimiter(sample: str) -> str:
    """The delimiter of a text sample: ; , tab or |, with a comma when nothing tells."""
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        found = csv.Sniffer().sniff("\n".join(lines), delimiters="".join(DELIMITERS)).delimiter
        if found in DELIMITERS:
            return found
    except csv.Error:
        pass
    # Count over every line, not the first: a title line above the header has none.
    counts = {d: sum(line.count(d) for line in lines) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _foreign_delimiter(sample: str) -> str | None:
    """A character that splits every line into the same number of parts, though it is none
    of the delimiters Instroom detects (a file separated by ':' or '+')."""
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    if len(lines) < 2 or any(d in lines[0] for d in DELIMITERS):
        return None
    for char in dict.fromkeys(c for c in lines[0] if not c.isalnum() and c not in _IN_VALUES):
        if len({line.count(char) for line in lines}) == 1:
            return char
    return None


def _strip_preamble(text: str, options: ReadOptions) -> tuple[str, str | None, list[str], int]:
    """Remove a `sep=;` line (Excel hides it) and Entra's `version:v1.0` line (Excel shows it)."""
    delimiter, skipped, counted = options.delimiter, [], 0
    first = text[: text.find("\n")] if "\n" in text[:65536] else text[:65536]
    sep = SEP_LINE.match(first.rstrip("\r"))
    if sep and options.skip_rows is None:
        skipped.append(first.rstrip("\r"))
        text = text.partition("\n")[2]
        first = text[: text.find("\n")] if "\n" in text[:65536] else text[:65536]
        delimiter = delimiter or sep.group(1)
    blank = _LEADING_BLANK_LINES.match(text) if options.skip_rows is None else None
    if blank:
        # Blank lines above the header are rows in Excel too: counted, not read.
        counted += blank.group(0).count("\n")
        text = text[blank.end() :]
        first = text[: text.find("\n")] if "\n" in text[:65536] else text[:65536]
    if options.skip_rows is not None:
        lines = text.split("\n", options.skip_rows)
        skipped += [line.rstrip("\r") for line in lines[: options.skip_rows]]
        text = lines[options.skip_rows] if len(lines) > options.skip_rows else ""
        counted += options.skip_rows
    elif ENTRA_VERSION_LINE.match(first.rstrip("\r")):
        skipped.append(first.rstrip("\r"))
        text = text.partition("\n")[2]
        counted += 1
    return text, delimiter, skipped, counted


def _parse_delimited(
    text: str, delimiter: str, skip_initial_space: bool, first_row: int
) -> pd.DataFrame:
    try:
        # UTF-8 bytes, not a StringIO: StringIO keeps four bytes a character (a 100 MB file
        # took 400 MB more while it was parsed).
        return pd.read_csv(
            io.BytesIO(text.encode("utf-8")),
            encoding="utf-8",
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            quotechar='"',
            doublequote=True,
            skipinitialspace=skip_initial_space,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except pd.errors.ParserError as exc:
        unclosed = _UNCLOSED_QUOTE.search(str(exc))
        if unclosed:
            row = first_row + int(unclosed.group(1))
            raise UnusableFileError.of("unclosed-quote", row=row) from exc
        # Rows with more values than the first row: read them all and pad, so nothing is lost.
        rows = list(
            csv.reader(
                io.StringIO(text, newline=""),
                delimiter=delimiter,
                skipinitialspace=skip_initial_space,
            )
        )
        width = max((len(r) for r in rows), default=0)
        check_width(width, "row-width")
        return pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=str)


def read_text(text: str, options: ReadOptions, *, source: str, encoding: str | None) -> Table:
    findings: list[Issue] = []
    if "\x00" in text:
        findings.append(issue("nul-characters"))
        text = text.replace("\x00", "")
    if "\r" in text:
        # Old Mac exports end lines with CR alone; every reader here splits at LF.
        text = _LONE_CR.sub("\n", text)
    text, delimiter, skipped, counted = _strip_preamble(text, options)
    sample = text[:65536]
    if delimiter is None and (foreign := _foreign_delimiter(sample)):
        findings.append(issue("unknown-delimiter", delimiter=foreign))
    delimiter = delimiter or sniff_delimiter(sample)
    if delimiter not in DELIMITERS and len(delimiter) != 1:
        raise UnusableFileError.of("invalid-delimiter")
    first_line = sample.partition("\n")[0]
    # The parser makes a column for every value of the first row before it reads any row.
    check_width(text[: text.find("\n")].count(delimiter) + 1, "first-row-width")
    skip_space = delimiter != " " and first_line.count(delimiter + " ") >= max(
        1, first_line.count(delimiter) // 2
    )
    frame = _parse_delimited(text, delimiter, skip_space, counted + 1)
    table = finish_table(frame, counted + 1, options, source=source, findings=findings)
    if encoding in {"cp1252", "latin-1"}:
        table.findings.extend(_mixed_encoding_findings(table, encoding))
    table.encoding, table.delimiter, table.skipped_lines = encoding, delimiter, skipped
    return table


def _looks_like_utf8(value: str, encoding: str) -> bool:
    """Whether a cell read as cp1252/latin-1 was really UTF-8 ('JosÃ©' for 'José')."""
    try:
        return value.encode(encoding).decode("utf-8") != value
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False


def _mixed_encoding_findings(table: Table, encoding: str) -> list[Issue]:
    """Rows of a cp1252 or latin-1 file that are UTF-8: the file mixes two encodings."""
    found = []
    for index in range(table.data.shape[1]):
        column = table.data[index]
        for row in column.index[column.str.contains(_NON_ASCII, regex=True)]:
            if _looks_like_utf8(column[row], encoding):
                found.append(
                    issue(
                        "mixed-encoding",
                        row=row,
                        column=table.column_name(index),
                        encoding=encoding,
                        text=column[row][:40],
                    )
                )
    return found
