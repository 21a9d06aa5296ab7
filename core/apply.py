"""Write a plan in the caller's transaction: bulk statements in batches, and what changed."""

import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import bcrypt
from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update
from sqlmodel import Session

from core.issues import Issue
from core.plan import MASK, Plan, RowPlan
from db.models import (
    Group,
    ImportChange,
    ImportIssue,
    Level,
    ProfileField,
    Term,
    User,
    UserGroup,
    UserLevel,
    utcnow,
)
from db.seed import EVERYONE

Progress = Callable[[int, int], None]
BATCH = 2000
USERS = User.__table__
WRITTEN_OUTCOMES = {"create", "update", "block", "unblock", "rename"}
# Imported passwords are hashed with a lower bcrypt cost than portal accounts: a file with
# thousands of passwords would otherwise take minutes; 10 rounds is still well above the
# OWASP minimum for bcrypt.
IMPORTED_PASSWORD_ROUNDS = 10


def _batches(items: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def bulk_insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows: COPY on PostgreSQL, executemany on SQLite.

    psycopg's executemany sends a statement per row (25 s for 100k users with their groups
    and change records) and compiling huge multi-row VALUES is slower still; COPY streams
    the rows in the same transaction. SQLite's executemany is already fast.
    """
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        for batch in _batches(rows):
            connection.execute(insert(table), batch)
        return
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(
                [
                    json.dumps(v) if isinstance(v, dict | list) else v
                    for v in (row[c] for c in columns)
                ]
            )


def _hash_passwords(rows: list[RowPlan]) -> dict[int, str]:
    with_password = [r for r in rows if r.password]
    if not with_password:
        return {}

    def hash_one(plan: RowPlan) -> str:
        salt = bcrypt.gensalt(IMPORTED_PASSWORD_ROUNDS)
        return bcrypt.hashpw(plan.password.encode("utf-8"), salt).decode("ascii")

    # bcrypt releases the GIL, so threads use every core.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return dict(
            zip((r.row for r in with_password), pool.map(hash_one, with_password), strict=True)
        )


def _ensure_names(session: Session, model: type, names: list[str]) -> dict[str, int]:
    if names:
        existing = set(session.execute(select(model.name).where(model.name.in_(names))).scalars())
        missing = [{"name": n, "created_at": utcnow()} for n in names if n not in existing]
        if missing:
            session.execute(insert(model.__table__), missing)
    return dict(session.execute(select(model.name, model.id)).all())


def _ensure_terms(session: Session, new_terms: dict[str, list[str]]) -> None:
    for key, names in new_terms.items():
        taxonomy_id = session.execute(
            select(ProfileField.taxonomy_id).where(ProfileField.key == key)
        ).scalar_one()
        session.execute(
            insert(Term.__table__), [{"taxonomy_id": taxonomy_id, "name": n} for n in names]
        )


def _change_record(job_id: int, plan: RowPlan, user_id: int | None) -> dict[str, Any]:
    before = {k: old for k, (old, _) in plan.changes.items()}
    after = {k: new for k, (_, new) in plan.changes.items()}
    if "password" in after:
        before["password"], after["password"] = MASK, "(changed)"
        if plan.outcome != "create":
            # A hash, never the password; keys starting with _ are never shown.
            before["_password_hash"] = plan.old_password_hash
    if plan.groups_add:
        after["groups_added"] = list(plan.groups_add)
    if plan.groups_remove:
        after["groups_removed"] = list(plan.groups_remove)
    if plan.levels_add:
        after["levels_added"] = list(plan.levels_add)
    return {
        "job_id": job_id,
        "user_id": user_id,
        "email": plan.email,
        "row": plan.row,
        "action": plan.outcome,
        "before": before,
        "after": after,
    }


def _insert_users(connection: Connection, values: list[dict[str, Any]]) -> dict[str, int]:
    """Insert new users and return their ids by email."""
    if connection.dialect.name != "postgresql":
        statement = insert(USERS).returning(USERS.c.id, USERS.c.email)
        return {email: user_id for user_id, email in connection.execute(statement, values)}
    # RETURNING over many rows is slow through psycopg; COPY and one look-up are not.
    for row in values:
        row["profile"] = row.get("profile") or {}
    bulk_insert(connection, USERS, values)
    query = select(USERS.c.email, USERS.c.id).where(USERS.c.email.in_([v["email"] for v in values]))
    return dict(connection.execute(query).all())


def apply_plan(
    *, session: Session, plan: Plan, job_id: int, progress: Progress | None = None
) -> None:
    """Write every change of plan, its change records and its issues; the caller commits."""
    # Core statements on the session's connection: same transaction, no ORM bookkeeping.
    connection = session.connection()
    written = [r for r in plan.rows if r.outcome in WRITTEN_OUTCOMES]
    total, done = len(written) + len(plan.deactivate), 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(done, total)

    needed_groups = sorted({g for r in written for g in r.groups_add} | {EVERYONE})
    group_ids = _ensure_names(
        session, Group, [g for g in needed_groups if g in plan.new_groups or g == EVERYONE]
    )
    level_ids = _ensure_names(session, Level, plan.new_levels)
    _ensure_terms(session, plan.new_terms)
    hashes = _hash_passwords(written)
    now = utcnow()

    user_ids: dict[str, int] = {}
    creates = [r for r in written if r.outcome == "create"]
    for batch in _batches(creates):
        values = [
            {
                **r.values,
                "password_hash": hashes.get(r.row),
                "is_protected": False,
                "created_at": now,
                "updated_at": now,
            }
            for r in batch
        ]
        user_ids.update(_insert_users(connection, values))
        advance(len(batch))

    by_columns: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
    for r in written:
        if r.outcome == "create" or r.user_id is None:
            continue
        values = dict(r.values)
        if r.row in hashes:
            values["password_hash"] = hashes[r.row]
        values["updated_at"] = now
        by_columns[frozenset(values)].append({"_id": r.user_id, **values})
    for columns, rows in by_columns.items():
        statement = (
            update(USERS)
            .where(USERS.c.id == bindparam("_id"))
            .values({c: bindparam(c) for c in columns})
        )
        for batch in _batches(rows):
            connection.execute(statement, batch)
            advance(len(batch))

    def user_id_of(r: RowPlan) -> int | None:
        return r.user_id if r.user_id is not None else user_ids.get(r.email)

    memberships = [
        {"user_id": user_id_of(r), "group_id": group_ids[g]} for r in written for g in r.groups_add
    ]
    levels = [
        {"user_id": user_id_of(r), "level_id": level_ids[lv]}
        for r in written
        for lv in r.levels_add
    ]
    for table, rows in ((UserGroup.__table__, memberships), (UserLevel.__table__, levels)):
        bulk_insert(connection, table, rows)
    removals = [r.user_id for r in written if r.groups_remove]
    for batch in _batches(removals):
        connection.execute(
            delete(UserGroup.__table__).where(
                UserGroup.user_id.in_(batch), UserGroup.group_id != group_ids[EVERYONE]
            )
        )

    for batch in _batches(plan.deactivate):
        connection.execute(
            update(USERS)
            .where(USERS.c.id.in_([d.user_id for d in batch]))
            .values(status="blocked", updated_at=now)
        )
        advance(len(batch))

    changes = [_change_record(job_id, r, user_id_of(r)) for r in written]
    changes += [
        {
            "job_id": job_id,
            "user_id": d.user_id,
            "email": d.email,
            "row": None,
            "action": "deactivate",
            "before": {"status": d.status},
            "after": {"status": "blocked"},
        }
        for d in plan.deactivate
    ]
    bulk_insert(connection, ImportChange.__table__, changes)
    write_issues(session=session, job_id=job_id, issues=plan.issues)


def write_issues(*, session: Session, job_id: int, issues: list[Issue]) -> None:
    """Store an import's issues; password values never leave the row they came from."""
    rows = [
        {
            "job_id": job_id,
            "row": i.row,
            "column": i.column,
            "field": i.field,
            "code": i.code,
            "severity": i.severity,
            "message": i.message,
            "value": MASK if i.field == "password" else i.value,
        }
        for i in issues
    ]
    bulk_insert(session.connection(), ImportIssue.__table__, rows)
