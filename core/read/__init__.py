"""Read an uploaded file or pasted text into a table of strings, and say what was detected.

Every file is read in a child process with a memory and time cap (core.sandbox): text in
core.read.text, workbooks in core.read.workbook, their hygiene in core.read.hygiene.
"""

import io
import logging
import re
import zipfile
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from core.i18n import N_
from core.issues import UnusableFileError
from core.read.table import LIMIT_FIELDS, ReadOptions, Table, with_corrections
from core.read.text import DELIMITER_NAMES, decode_text, read_text
from core.read.workbook import read_workbook
from core.sandbox import LimitExceeded, run_limited

log = logging.getLogger(__name__)
BINARY_SIGNATURES = {
    b"\x89PNG": N_("a PNG image"),
    b"\xff\xd8\xff": N_("a JPEG image"),
    b"GIF8": N_("a GIF image"),
    b"%PDF": N_("a PDF document"),
    b"\x1f\x8b": N_("a gzip archive"),
    b"Rar!": N_("a RAR archive"),
    b"7z\xbc\xaf": N_("a 7-Zip archive"),
    b"MZ": N_("a Windows program"),
    b"\x7fELF": N_("a program"),
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
        if exc.limit == "crashed":
            log.warning("The reader stopped on a file: %s", exc.detail)
            raise UnusableFileError.of("damaged-file", "reader-stopped") from None
        raise UnusableFileError.of(
            "too-large", "memory", limit=exc.memory_bytes / 1_048_576
        ) from None


def _read_upload(data: bytes, filename: str, options: ReadOptions) -> Table:
    if not data.strip():
        raise UnusableFileError.of("empty-file", "file")
    kind = _detect_kind(data, filename)
    if kind == "encrypted":
        data = _open_with_excels_own_password(data)
        kind = "xlsx" if data.startswith(ZIP_SIGNATURE) else "xls"
    if kind in {"xlsx", "xlsb", "xls", "ods"}:
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
            raise UnusableFileError.of("damaged-file", "damaged-zip") from exc
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "xl/workbook.bin" in names:
            return "xlsb"
        if _declares_a_workbook(zipfile.ZipFile(io.BytesIO(data))):
            return "xlsx"  # a valid workbook whose parts sit outside xl/
        if "content.xml" in names and b"opendocument.spreadsheet" in data[:200]:
            return "ods"
        raise UnusableFileError.of("not-a-spreadsheet", "zip")
    if data.startswith(OLE_SIGNATURE):
        _check_ole_kind(data)
        # An Excel file saved with a password is an OLE container of encrypted streams.
        if "EncryptedPackage".encode("utf-16-le") in data or _is_encrypted_ole(data):
            return "encrypted"
        return "xls"
    if _HTML_START.match(data[:1024]):
        raise UnusableFileError.of("html-file", suffix=suffix or "otherwise")
    for pattern, what in OTHER_FORMATS:
        if pattern.match(data[:4096]):
            raise UnusableFileError.of("not-a-spreadsheet", "other-format", kind=what)
    for signature, what in BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise UnusableFileError.of("not-a-spreadsheet", "binary-kind", kind=what)
    if suffix in {".xlsx", ".xlsm"}:
        raise UnusableFileError.of("damaged-file", "not-workbook", suffix=suffix)
    return "text"


# What an OLE container holds when it is not an Excel workbook, by its streams.
OLE_KINDS = {
    "WordDocument": ("binary-kind", N_("a Word document")),
    "PowerPoint Document": ("binary-kind", N_("a PowerPoint presentation")),
    "__nameid_version1.0": ("binary-kind", N_("an Outlook message")),
    "NativeContent_MAIN": ("other-format", N_("a Quattro Pro spreadsheet")),
}
# The password Excel uses when a workbook is only write-protected: it opens without asking.
EXCELS_OWN_PASSWORD = "VelvetSweatshop"
_XML_START = rb"\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*>\s*(?:<\?mso-application[^>]*>\s*)?"
OTHER_FORMATS = [
    (
        re.compile(_XML_START + rb"<(?:\w+:)?Workbook\b[^>]*urn:schemas-microsoft-com:office:"),
        N_("an Excel 2003 XML spreadsheet (SpreadsheetML)"),
    ),
    (
        re.compile(_XML_START + rb"<office:document\b", re.IGNORECASE),
        N_("a flat OpenDocument spreadsheet (.fods)"),
    ),
    (re.compile(rb"\AID;P"), N_("a SYLK spreadsheet (.slk)")),
    (re.compile(rb"\ATABLE\r?\n0,1\r?\n"), N_("a DIF spreadsheet (.dif)")),
]


_WORKBOOK_PART = re.compile(rb"spreadsheetml\.sheet\.main\+xml|spreadsheetml\.template\.main")


def _declares_a_workbook(archive: zipfile.ZipFile) -> bool:
    """Whether the package's content types name a workbook part, wherever it lies."""
    try:
        return bool(_WORKBOOK_PART.search(archive.read("[Content_Types].xml")[:1_000_000]))
    except (KeyError, zipfile.BadZipFile, OSError):
        return False


def _check_ole_kind(data: bytes) -> None:
    """Refuse an Office file that is not a workbook (a Word document saved as .xls) by name."""
    import olefile  # comes with msoffcrypto-tool; only OLE files need it

    try:
        with olefile.OleFileIO(data) as container:
            streams = {"/".join(path) for path in container.listdir()}
    except Exception:  # not an OLE container it can list: the workbook reader judges it
        return
    if streams & {"Workbook", "Book", "EncryptedPackage"}:
        return
    for stream, (variant, what) in OLE_KINDS.items():
        if stream in streams:
            raise UnusableFileError.of("not-a-spreadsheet", variant, kind=what)


def _open_with_excels_own_password(data: bytes) -> bytes:
    """The workbook opened with Excel's own default password, as Excel itself does."""
    import msoffcrypto

    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        office.load_key(password=EXCELS_OWN_PASSWORD)
        out = io.BytesIO()
        office.decrypt(out)
    except Exception:  # a password the owner chose: only they can remove it
        raise UnusableFileError.of("password-protected") from None
    return out.getvalue()


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
