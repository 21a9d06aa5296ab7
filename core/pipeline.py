"""The one import pipeline: map -> validate -> plan -> [apply], chunk by chunk.

The wizard's preview, a dry run, an import run now or by the worker, and the benchmark
all run this loop; only `write` tells whether the plan is applied.
"""

import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlmodel import Session

from core.apply import Progress, apply_plan
from core.fields import BUILTIN_FIELDS
from core.gc_pause import collector_paused
from core.issues import ERROR, UnusableFileError
from core.mail import queue_import_emails
from core.mapping import check_mapping, normalise, suggest_mapping
from core.options import ImportOptions, OptionsError
from core.plan import CHUNK_ROWS, Plan, UserStore, plan_chunks
from core.read import Table
from core.validate import KnownNames, load_known_names, validate_rows
from db.users import StoredUsers

# The preview plans small chunks, so its first screen comes after a few thousand rows.
PREVIEW_CHUNK_ROWS = 5_000


@dataclass(frozen=True)
class ImportRequest:
    """What one import is asked to do: the file as read, its mapping and the options."""

    table: Table
    mapping: dict[int, str | None]
    options: ImportOptions


@dataclass
class Stopwatch:
    """Seconds spent in each phase of the pipeline, for the benchmark."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Add the time the block takes to the named phase."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - start


def known_fields(known_names: KnownNames) -> list[str]:
    """Every field key a column can be mapped to in this portal."""
    return [*BUILTIN_FIELDS, *known_names.importable_profile_fields]


def resolve_mapping(
    table: Table,
    known_names: KnownNames,
    overrides: Sequence[tuple[str, str | None]] = (),
    saved: dict[int, str | None] | None = None,
) -> dict[int, str | None]:
    """Suggestions (or a saved mapping), then the caller's `Header=field` overrides."""
    samples = [table.data[i].head(20).tolist() for i in range(len(table.headers))]
    mapping = (
        saved
        if saved is not None
        else suggest_mapping(table.headers, known_names.importable_profile_fields, samples)
    )
    mapping = dict(mapping)
    for header, field_key in overrides:
        matches = [
            i
            for i in range(len(table.headers))
            if normalise(table.column_name(i)) == normalise(header)
        ]
        if not matches:
            names = ", ".join(repr(table.column_name(i)) for i in range(len(table.headers)))
            raise UnusableFileError.of("unknown-column", header=header, columns=names)
        for index in matches:
            mapping[index] = field_key or None
    return mapping


def check_options(*, known_names: KnownNames, options: ImportOptions) -> None:
    """Raise OptionsError when the role or language for new users, or a field given a term
    for every row, is not in the catalogue."""
    for what, value, known in (
        ("role", options.role, known_names.roles),
        ("language", options.language, known_names.languages),
    ):
        if value and value.casefold() not in known:
            raise OptionsError.of(
                "invalid-option",
                "unknown-choice",
                kind=what,
                value=value,
                choices=", ".join(known.values()),
            )
    taxonomies = {k for k, f in known_names.profile_fields.items() if f.type == "taxonomy"}
    for key in options.term_for_every_row():
        if key not in taxonomies:
            raise OptionsError.of(
                "invalid-option",
                "unknown-taxonomy-field",
                value=key,
                choices=", ".join(sorted(taxonomies)) or "—",
            )


def check_import_mapping(
    *, known_names: KnownNames, table: Table, mapping: dict[int, str | None]
) -> None:
    """Raise UnusableFileError when the mapping cannot be imported (nothing is written then)."""
    check = check_mapping(table.headers, mapping, known_fields(known_names))
    errors = [i for i in check.issues if i.severity == ERROR]
    if errors:
        raise UnusableFileError.of_issues(errors)


def is_written(plan: Plan, options: ImportOptions) -> bool:
    """Whether a plan may be written: not refused, and not a strict import with errors."""
    return not (plan.refused or (options.strict and plan.error_rows))


def run_pipeline(
    *,
    session: Session,
    request: ImportRequest,
    write: bool = False,
    job_id: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
    keep_rows: bool = False,
    progress: Progress | None = None,
    stopwatch: Stopwatch | None = None,
    users: UserStore | None = None,
) -> Iterator[Plan]:
    """The plan of every row so far, after each chunk; with write, each chunk is applied.

    Every chunk yields the same plan object; when the iteration ends it is complete, rows
    and issues in row order, and a write has queued its completion mail. Without
    keep_rows it holds counts, issues and rejected rows only (a million rows). A write
    happens in the caller's transaction; a strict import that meets an error after writing
    chunks rolls it back, and the final plan says so through is_written.
    """
    table, mapping, options = request.table, request.mapping, request.options
    clock = stopwatch or Stopwatch()
    known_names = load_known_names(session=session)
    check_import_mapping(known_names=known_names, table=table, mapping=mapping)
    with clock.phase("validate"), collector_paused():
        validated = validate_rows(table, mapping, options, known_names)
    writing = write and not (options.strict and validated.error_rows)
    wrote, done = False, 0
    chunks = plan_chunks(
        users=users or StoredUsers(session), validated=validated, options=options, size=chunk_rows
    )
    plan = Plan.empty()
    while True:
        with collector_paused():
            with clock.phase("plan"):
                chunk = next(chunks, None)
            if chunk is None:
                break
            plan.add(chunk, keep_rows=keep_rows)
            writing = writing and is_written(plan, options)
            if writing:
                assert job_id is not None, "a written import is recorded as a job first"
                with clock.phase("apply"):
                    apply_plan(
                        session=session,
                        plan=chunk,
                        job_id=job_id,
                        progress=_chunk_progress(progress, done, len(chunk.rows), table.row_count),
                    )
                    queue_import_emails(
                        session=session,
                        job_id=job_id,
                        plan=chunk,
                        options=options,
                        completion=False,
                    )
                wrote = True
            done += len(chunk.rows)
            if writing and progress is not None:
                # Every row of the chunk is handled now, also those with nothing to write
                # (the bar stopped at 86% when the last rows were unchanged).
                progress(done, table.row_count)
        yield plan
    if writing:
        assert job_id is not None
        queue_import_emails(
            session=session, job_id=job_id, plan=Plan.empty(), options=options, completion=True
        )
    elif wrote:
        session.rollback()
    plan.rows.sort(key=lambda r: r.row)
    plan.issues.sort(key=lambda i: (i.row or 0, i.code))


def _chunk_progress(
    progress: Progress | None, offset: int, rows: int, total: int
) -> Progress | None:
    """Report a chunk's written share as rows of the whole file."""
    if progress is None:
        return None
    return lambda written, of: progress(offset + (rows * written // of if of else rows), total)


def preview_import(
    *,
    session: Session,
    request: ImportRequest,
    chunk_rows: int = PREVIEW_CHUNK_ROWS,
    keep_rows: bool = True,
) -> Iterator[Plan]:
    """The preview as it grows, so a screen can show the first rows while the rest is
    checked; the last plan is complete. Writes nothing."""
    return run_pipeline(
        session=session, request=request, chunk_rows=chunk_rows, keep_rows=keep_rows
    )


def prepare_import(*, session: Session, request: ImportRequest) -> Plan:
    """The whole preview at once. Writes nothing."""
    *_, plan = preview_import(session=session, request=request, chunk_rows=CHUNK_ROWS)
    return plan
