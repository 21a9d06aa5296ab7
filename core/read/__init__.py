"""Read an uploaded file or pasted text into a table of strings, and say what was detected.

Every file is read in a child process with a memory and time cap (core.sandbox): text in
core.read.text, workbooks in core.read.workbook, their hygiene in core.read.hygiene.
"""

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from core.issues import UnusableFileError
from core.read.table import LIMIT_FIELDS, ReadOptions, Table, with_corrections
from core.read.text import DELIMITER_NAMES, decode_text, read_text
from core.read.workbook import read_workbook
from core.sandbox import LimitExceeded, run_limited

BINARY_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"MZ": "a Windows program",
    b"\x7fELF": "a program",
}


OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


ZIP_SIGNATURE = b"PK\x03\x04"


_HTML_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*<(?:!doctype\s+html|html|table|head|body)\b", re.IGNORECASE
)


def read_upload(data: bytes, filename: str, options: ReadOptions | None = None) -> Table:
    """Read an uploaded file: CSV, TSV, TXT, XLSX or XLS, recognised by content and name."""
    options = options or ReadOptions()
    if len(data) > options.max_bytes:
        raise UnusableFileError.of(
            "too-large",
            "file",
            megabytes=len(data) / 1_048_576,
            limit=options.max_bytes / 1_048_576,
        )
    return _guarded(_read_upload, data, filename, options)


def read_pasted(text: str, options: ReadOptions | None = None) -> Table:
    """Read text pasted from a spreadsheet or typed by hand."""
    options = options or ReadOptions()
    if len(text) > options.max_bytes:
        raise UnusableFileError.of(
            "too-large", "pasted", characters=len(text), limit=options.max_bytes
        )
    return _guarded(_read_pasted, text, options)


def _guarded(reader: Callable[..., Table], *args: Any) -> Table:
    """Run a reader in a child process, so no file can exhaust the server's memory or time."""
    options: ReadOptions = args[-1]
    try:
        return run_limited(
            reader, *args, memory_bytes=options.max_memory_bytes, seconds=options.max_seconds
        )
    except LimitExceeded as exc:
        if exc.limit == "time":
            raise UnusableFileError.of("too-large", "time", limit=options.max_seconds) from None
        raise UnusableFileError.of(
            "too-large", "memory", limit=options.max_memory_bytes / 1_048_576
        ) from None


def _read_upload(data: bytes, filename: str, options: ReadOptions) -> Table:
    if not data.strip():
        raise UnusableFileError.of("empty-file", "file")
    kind = _detect_kind(data, filename)
    if kind in {"xlsx", "xls", "ods"}:
        return read_workbook(data, kind, options)
    text, encoding = decode_text(data, options.encoding)
    return read_text(text, options, source="csv", encoding=encoding)


def _read_pasted(text: str, options: ReadOptions) -> Table:
    if not text.strip():
        raise UnusableFileError.of("empty-file", "pasted")
    return read_text(text.lstrip("\ufeff"), options, source="text", encoding=None)


def _detect_kind(data: bytes, filename: str) -> str:
    suffix = PurePosixPath(filename.lower()).suffix
    if data.startswith(ZIP_SIGNATURE):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise UnusableFileError.of("unreadable-file", "damaged-zip") from exc
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "content.xml" in names and b"opendocument.spreadsheet" in data[:200]:
            return "ods"
        raise UnusableFileError.of("unreadable-file", "zip")
    if data.startswith(OLE_SIGNATURE):
        # An Excel file saved with a password is an OLE container of encrypted streams.
        if "EncryptedPackage".encode("utf-16-le") in data or _is_encrypted_ole(data):
            raise UnusableFileError.of("password-protected")
        return "xls"
    if _HTML_START.match(data[:1024]):
        raise UnusableFileError.of("html-file", suffix=suffix or "otherwise")
    for signature, what in BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise UnusableFileError.of("unreadable-file", "binary-kind", kind=what)
    if suffix in {".xlsx", ".xlsm"}:
        raise UnusableFileError.of("unreadable-file", "not-workbook", suffix=suffix)
    return "text"


def _is_encrypted_ole(data: bytes) -> bool:
    import msoffcrypto  # only for OLE files, which are rare

    try:
        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:  # not an Office file it knows: let the workbook reader judge it
        return False


__all__ = [
    "DELIMITER_NAMES",
    "LIMIT_FIELDS",
    "ReadOptions",
    "Table",
    "read_pasted",
    "read_upload",
    "with_corrections",
]
