"""The links' SQL: reading links and their runs, and claiming a due link exactly once."""

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from db.engine import session_scope
from db.locks import is_postgresql
from db.models import ImportJob, Link, LinkRun, id_of
from db.vocabulary import RunStatus


def get_link_by_name(*, session: Session, name: str) -> Link | None:
    return session.exec(select(Link).where(Link.name == name.strip())).first()


def list_links(*, session: Session) -> Sequence[Link]:
    return session.exec(select(Link).order_by(Link.name)).all()


def list_link_runs(*, session: Session, link_id: int, limit: int = 20) -> Sequence[LinkRun]:
    return session.exec(
        select(LinkRun)
        .where(LinkRun.link_id == link_id)
        .order_by(col(LinkRun.id).desc())
        .limit(limit)
    ).all()


def claim_due_link(
    engine: Engine, *, now: datetime, next_run: Callable[[Link], datetime | None]
) -> int | None:
    """Move the most overdue link's next run on (to next_run(link)) and return its id.

    The move and the claim are one transaction, so each due run is claimed once: on
    PostgreSQL a second worker skips the locked row (FOR UPDATE SKIP LOCKED) and then sees
    the new time; SQLite has one writer. Runs missed while nothing ran are claimed once.
    """
    due = (
        select(Link)
        .where(
            col(Link.paused).is_(False),
            col(Link.next_run_at).is_not(None),
            col(Link.next_run_at) <= now,
        )
        .order_by(col(Link.next_run_at), col(Link.id))
        .limit(1)
    )
    if is_postgresql(engine):
        due = due.with_for_update(skip_locked=True)
    with session_scope(engine) as session:
        link = session.exec(due).first()
        if link is None:
            return None
        # Only if no other process moved it since it was read (SQLite reads take no lock).
        moved = session.execute(
            update(Link)
            .where(col(Link.id) == link.id, col(Link.next_run_at) == link.next_run_at)
            .values(next_run_at=next_run(link))
        )
        return id_of(link) if getattr(moved, "rowcount", 0) == 1 else None


def list_running_link_runs(engine: Engine) -> list[tuple[LinkRun, str | None]]:
    """Link runs not recorded as ended, with the status of their import (None: none yet)."""
    query = (
        select(LinkRun, ImportJob.status)
        .outerjoin(ImportJob, col(ImportJob.id) == col(LinkRun.job_id))
        .where(col(LinkRun.status) == RunStatus.RUNNING)
    )
    with Session(engine) as session:
        rows = session.exec(query).all()
        for run, _status in rows:
            session.expunge(run)
        return [(run, status) for run, status in rows]
