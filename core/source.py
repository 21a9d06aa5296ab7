"""What an import reads: an upload, pasted text or a kept file, with the admin's corrections.

The wizard and the worker read a source the same way, so the worker imports exactly the
table the administrator previewed.
"""

from collections.abc import Callable
from dataclasses import asdict

import orjson
import pandas as pd

from core.i18n import N_, gettext, render
from core.issues import Issue
from core.passwords import sealed_cells
from core.read import ReadOptions, Table, read_pasted, read_upload, with_corrections
from db.models import ImportJob

# The names a pasted list and the single-user form are recorded under instead of a file name.
PASTED = N_("(pasted text)")
SINGLE_USER_FORM = N_("(single user form)")
# Corrections: spreadsheet row -> column index -> the value the administrator typed.
Corrections = dict[int, dict[int, str]]
Reader = Callable[[bytes, str, ReadOptions], Table]
# The fields a password may not contain, checked again when a stored table is imported.
PERSONAL_FIELDS = frozenset({"email", "username", "first_name", "last_name", "full_name"})
# A job's stored table (its passwords hashed) starts with this; no file a person saves does.
SNAPSHOT = b"\x00instroom-table/1\n"


def source_words(name: str, language: str) -> str:
    """A source's name as the reader calls it: a file's own name, or "pasted text" in words."""
    return gettext(name, language) if name in (PASTED, SINGLE_USER_FORM) else name


def job_file_words(job: ImportJob, language: str) -> str:
    """The file an import read, in the reader's words; a revert names the import it undid."""
    name = source_words(job.file_name, language) if job.file_name else "—"
    if job.reverts_job_id is None:
        return name
    return render(
        N_("undoing import {job} ({file})"), language, {"job": job.reverts_job_id, "file": name}
    )


def read_file(data: bytes, name: str, options: ReadOptions) -> Table:
    """The table of an uploaded file, of pasted text when name is PASTED, or of a snapshot."""
    if data.startswith(SNAPSHOT):
        return _from_snapshot(data)
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


def storable_source(
    data: bytes, table: Table, mapping: dict[int, str | None], corrections: Corrections
) -> tuple[bytes, Corrections]:
    """What a job may keep of its file, and of the corrections, to read it again later.

    Without a password column, the file as it came. With one, nothing that holds a typed
    password is ever written, not even until the job has run: the corrected table is kept
    with each password already hashed, and the password corrections are left out.
    """
    secret = {i for i, f in mapping.items() if f == "password"}
    if not secret:
        return data, corrections
    frame = with_corrections(table, corrections).data.copy()
    own = [i for i, f in mapping.items() if f in PERSONAL_FIELDS]
    personal = frame[own].values.tolist() if own else [[] for _ in range(len(frame))]
    for column in secret:
        frame[column] = sealed_cells(frame[column].tolist(), personal)
    kept = {
        r: c
        for r, cells in corrections.items()
        if (c := {k: v for k, v in cells.items() if k not in secret})
    }
    snapshot = {
        "headers": table.headers,
        "rows": frame.index.tolist(),
        "values": frame.values.tolist(),
        "columns": frame.columns.tolist(),
        "meta": {
            k: getattr(table, k)
            for k in ("source", "has_header", "header_row", "encoding", "delimiter", "sheet")
        }
        | {"sheets": table.sheets, "skipped_lines": table.skipped_lines},
        "findings": [asdict(f) for f in table.findings],
    }
    return SNAPSHOT + orjson.dumps(snapshot), kept


def _from_snapshot(data: bytes) -> Table:
    kept = orjson.loads(data[len(SNAPSHOT) :])
    frame = pd.DataFrame(kept["values"], index=kept["rows"], columns=kept["columns"], dtype=str)
    return Table(
        headers=kept["headers"],
        data=frame,
        findings=[Issue(**f) for f in kept["findings"]],
        **kept["meta"],
    )
