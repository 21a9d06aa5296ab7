"""What an import reads: an upload, pasted text or a kept file, with the admin's corrections.

The wizard and the worker read a source the same way, so the worker imports exactly the
table the administrator previewed.
"""

from collections.abc import Callable

from core.read import ReadOptions, Table, read_pasted, read_upload, with_corrections

# The name a pasted list is recorded under instead of a file name.
PASTED = "(pasted text)"
# Corrections: spreadsheet row -> column index -> the value the administrator typed.
Corrections = dict[int, dict[int, str]]
Reader = Callable[[bytes, str, ReadOptions], Table]


def read_file(data: bytes, name: str, options: ReadOptions) -> Table:
    """The table of an uploaded file, or of pasted text when name is PASTED."""
    if name == PASTED:
        return read_pasted(data.decode("utf-8"), options)
    return read_upload(data, name, options)


def read_source(
    data: bytes,
    name: str,
    options: ReadOptions,
    corrections: Corrections,
    *,
    read: Reader = read_file,
) -> Table:
    """The table as previewed: read (by a caching reader, if given), then corrected."""
    return with_corrections(read(data, name, options), corrections)


def corrections_to_json(corrections: Corrections | None) -> dict[str, dict[str, str]]:
    """Corrections as a job keeps them (JSON keys are text)."""
    return {
        str(r): {str(c): v for c, v in cells.items()} for r, cells in (corrections or {}).items()
    }


def corrections_from_json(kept: dict[str, dict[str, str]]) -> Corrections:
    """The corrections a job kept."""
    return {int(r): {int(c): v for c, v in cells.items()} for r, cells in kept.items()}
