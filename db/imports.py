"""An import's writes: the catalogue it adds to, users in bulk, and its records."""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlmodel import Session, col

from db.bulk import batches, bulk_insert, insert_columns, new_user_ids
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
    table_of,
    utcnow,
)
from db.vocabulary import UserStatus

USERS = table_of(User)
# From this many rows, an import on PostgreSQL checks its memberships' foreign keys in one
# pass instead of one row at a time (2.2 s of a 100,000-row import's 6 s of writing).
LARGE_IMPORT_ROWS = 100_000
_MEMBERSHIPS = ("user_groups", "user_levels")


def ensure_names(
    *, session: Session, model: type[Group | Level], names: list[str]
) -> tuple[dict[str, int], list[str]]:
    """Every name's id, after adding the missing names; and the names added."""
    name, model_id = col(model.name), col(model.id)
    missing: list[str] = []
    if names:
        existing = set(session.execute(select(name).where(name.in_(names))).scalars())
        missing = [n for n in names if n not in existing]
        if missing:
            now = utcnow()
            session.execute(
                insert(table_of(model)), [{"name": n, "created_at": now} for n in missing]
            )
    return {n: i for n, i in session.execute(select(name, model_id))}, missing


def add_terms(*, session: Session, new_terms: dict[str, list[str]]) -> None:
    """Add terms to the taxonomies of the profile fields they were given for."""
    for key, names in new_terms.items():
        taxonomy_id = session.execute(
            select(col(ProfileField.taxonomy_id)).where(col(ProfileField.key) == key)
        ).scalar_one()
        session.execute(
            insert(table_of(Term)), [{"taxonomy_id": taxonomy_id, "name": n} for n in names]
        )


def reserve_user_ids(*, session: Session, count: int) -> list[int]:
    return new_user_ids(session.connection(), count)


def insert_users(
    *, session: Session, columns: dict[str, list[Any]], shared: dict[str, Any]
) -> None:
    """New users, given column by column, and the values they all share."""
    insert_columns(session.connection(), USERS, columns, shared)


def get_user_ids_by_email(*, session: Session, emails: list[str]) -> dict[str, int]:
    query = select(USERS.c.email, USERS.c.id).where(USERS.c.email.in_(emails))
    return {email: i for email, i in session.connection().execute(query)}


def update_users(*, session: Session, columns: Iterable[str], rows: list[dict[str, Any]]) -> None:
    """Set columns of many users in one statement; each row holds its user's id as _id."""
    statement = (
        update(USERS)
        .where(USERS.c.id == bindparam("_id"))
        .values({c: bindparam(c) for c in columns})
    )
    session.connection().execute(statement, rows)


def add_memberships(
    *,
    session: Session,
    groups: Sequence[tuple[int | None, int]],
    levels: Sequence[tuple[int | None, int]],
) -> None:
    """Users into groups and levels: (user id, group id) and (user id, level id) pairs."""
    for model, key, pairs in ((UserGroup, "group_id", groups), (UserLevel, "level_id", levels)):
        if pairs:
            user_ids, ids = zip(*pairs, strict=True)
            insert_columns(session.connection(), table_of(model), {"user_id": user_ids, key: ids})


def remove_from_groups(*, session: Session, user_ids: list[int]) -> None:
    """Take the users out of every group (but the one every user is in, never stored)."""
    for batch in batches(user_ids):
        session.connection().execute(
            delete(table_of(UserGroup)).where(col(UserGroup.user_id).in_(batch))
        )


def block_users(*, session: Session, user_ids: list[int], now: Any) -> None:
    session.connection().execute(
        update(USERS)
        .where(USERS.c.id.in_(user_ids))
        .values(status=UserStatus.BLOCKED, updated_at=now)
    )


def insert_changes(*, session: Session, records: list[dict[str, Any]]) -> None:
    """Record changes (of a revert or a SCIM call), a dict each."""
    bulk_insert(session.connection(), table_of(ImportChange), records)


def insert_import_changes(
    *, session: Session, columns: dict[str, list[Any]], shared: dict[str, Any]
) -> None:
    """Record an import's changes, given column by column, and the values they all share."""
    insert_columns(session.connection(), table_of(ImportChange), columns, shared)


def insert_issues(*, session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_insert(session.connection(), table_of(ImportIssue), rows)


def suspend_membership_keys(*, session: Session, rows: int) -> list[tuple[str, str, str]]:
    """Before a large import on PostgreSQL writes: drop the memberships' foreign keys.

    PostgreSQL's own advice for a bulk load ("Populating a Database"): adding a key back
    checks every row in one join. Until the import commits, the users, groups and levels
    are its own (other readers wait); on a rollback the keys are back as they were.
    Returns (table, name, definition) of each key dropped, for restore_membership_keys.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql" or rows < LARGE_IMPORT_ROWS:
        return []
    stored = connection.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('users')")
    ).scalar()
    if rows * 2 < (stored or 0):
        return []  # checking every stored membership again would cost more than it saves
    keys: list[tuple[str, str, str]] = []
    for table in _MEMBERSHIPS:
        found = connection.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = to_regclass(:table) AND contype = 'f' ORDER BY conname"
            ),
            {"table": table},
        ).all()
        if found:
            drops = ", ".join(f'DROP CONSTRAINT "{name}"' for name, _ in found)
            connection.execute(text(f'ALTER TABLE "{table}" {drops}'))
            keys += [(table, name, definition) for name, definition in found]
    return keys


def restore_membership_keys(*, session: Session, keys: list[tuple[str, str, str]]) -> None:
    """Add back the keys suspend_membership_keys dropped, checking every membership."""
    for table in _MEMBERSHIPS:
        adds = ", ".join(f'ADD CONSTRAINT "{n}" {d}' for t, n, d in keys if t == table)
        if adds:
            session.connection().execute(text(f'ALTER TABLE "{table}" {adds}'))
