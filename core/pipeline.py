"""The one import pipeline: map -> validate -> plan -> [apply], chunk by chunk.

The wizard's preview, a dry run, an import run now or by the worker, and the benchmark
all run this loop; only `write` tells whether the plan is applied.
"""

import functools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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
from db.imports import restore_membership_keys, suspend_membership_keys
from db.locks import is_postgresql
from db.users import ExistingUser, Member, StoredUsers

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
    happens in the caller's transaction, which is not used by anything else until the
    iteration ends (a chunk may still be written in the background between yields); a strict
    import that meets an error after writing chunks rolls it back, and the final plan says
    so through is_written.
    """
    table, mapping, options = request.table, request.mapping, request.options
    clock = stopwatch or Stopwatch()
    known_names = load_known_names(session=session)
    check_import_mapping(known_names=known_names, table=table, mapping=mapping)
    with clock.phase("validate"), collector_paused():
        validated = validate_rows(table, mapping, options, known_names)
    writing = write and not (options.strict and validated.error_rows)
    wrote, done = False, 0
    suspended: list[tuple[str, str, str]] = []
    # More than one chunk to write on PostgreSQL: each is written while the next is planned.
    # Not on SQLite: its writes hand Python's lock back and forth once a row, and with the
    # planner wanting it too a 100,000-row import took 0.3 s longer, not less.
    background = writing and table.row_count > chunk_rows and is_postgresql(session.get_bind())
    writer = ChunkWriter(clock, background=background)
    store = users or StoredUsers(session)
    chunks = plan_chunks(
        users=writer.after_writes(store), validated=validated, options=options, size=chunk_rows
    )
    plan = Plan.empty()
    try:
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
                    if not wrote:
                        suspended = suspend_membership_keys(session=session, rows=table.row_count)
                    writer.write(
                        functools.partial(
                            _write_chunk,
                            session=session,
                            chunk=chunk,
                            job_id=job_id,
                            options=options,
                            progress=progress,
                            rows=(done, table.row_count),
                        )
                    )
                    wrote = True
                done += len(chunk.rows)
                # The writer holds the chunk until it is written; planning the next one
                # does not need it.
                del chunk
            yield plan
        writer.wait()
    finally:
        writer.close()
    if writing:
        assert job_id is not None
        restore_membership_keys(session=session, keys=suspended)
        queue_import_emails(
            session=session, job_id=job_id, plan=Plan.empty(), options=options, completion=True
        )
    elif wrote:
        session.rollback()
    plan.rows.sort(key=lambda r: r.row)
    plan.issues.sort(key=lambda i: (i.row or 0, i.code))


def _write_chunk(
    *,
    session: Session,
    chunk: Plan,
    job_id: int,
    options: ImportOptions,
    progress: Progress | None,
    rows: tuple[int, int],
) -> None:
    """Apply one chunk and queue its mail; then every row of it is handled."""
    offset, total = rows
    apply_plan(
        session=session,
        plan=chunk,
        job_id=job_id,
        progress=_chunk_progress(progress, offset, len(chunk.rows), total),
    )
    queue_import_emails(
        session=session, job_id=job_id, plan=chunk, options=options, completion=False
    )
    if progress is not None:
        # Every row of the chunk is handled now, also those with nothing to write
        # (the bar stopped at 86% when the last rows were unchanged).
        progress(offset + len(chunk.rows), total)


class ChunkWriter:
    """Writes chunks in order, in a thread of its own when asked, one chunk at a time.

    With two cores, the database (or SQLite's C code, which lets go of Python's lock)
    writes one chunk while Python plans the next. The session is never used by both at
    once: every read of the planner waits for the write before it (after_writes).
    """

    def __init__(self, clock: Stopwatch, *, background: bool) -> None:
        self.clock = clock
        self.pool = ThreadPoolExecutor(1, "instroom-write") if background else None
        self.pending: Future[None] | None = None

    def write(self, step: Callable[[], None]) -> None:
        """Run step after the writes before it; in the background when there is a thread."""
        self.wait()
        if self.pool is None:
            with self.clock.phase("apply"):
                step()
        else:
            self.pending = self.pool.submit(step)

    def wait(self, *, planning: bool = False) -> None:
        """Wait for the pending write; its error is raised here."""
        if self.pending is None:
            return
        pending, self.pending = self.pending, None
        start = time.perf_counter()
        try:
            pending.result()
        finally:
            # Waiting for a write is writing, also when the planner waits, in the phases.
            waited = time.perf_counter() - start
            if planning:
                self.clock.seconds["plan"] -= waited
            self.clock.seconds["apply"] += waited

    def close(self) -> None:
        """Let a pending write finish (on an error too, before the transaction is undone)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True)

    def after_writes(self, store: UserStore) -> UserStore:
        """store, each of whose reads waits for the pending write first."""
        return _AfterWrites(store, functools.partial(self.wait, planning=True))


@dataclass(frozen=True)
class _AfterWrites:
    store: UserStore
    wait: Callable[[], None]

    def by_email(self, emails: Iterable[str]) -> dict[str, ExistingUser]:
        self.wait()
        return self.store.by_email(emails)

    def by_username(self, usernames: Iterable[str]) -> dict[str, ExistingUser]:
        self.wait()
        return self.store.by_username(usernames)

    def population(self, kind: str) -> list[Member]:
        self.wait()
        return self.store.population(kind)

    def everyone_group(self) -> str | None:
        self.wait()
        return self.store.everyone_group()


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
