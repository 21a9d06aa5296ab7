"""The SQL of SCIM: connections, the day's job, and lookups answered by indexed queries."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col

from db.locks import is_postgresql, lock_imports
from db.models import Group, ImportIssue, ImportJob, ScimConnection, User, UserGroup, utcnow

# The largest id a column holds on both databases (a 32-bit integer).
MAX_ID = 2**31 - 1


def is_id(value: str) -> bool:
    """Whether a provider's id can be one of Instroom's (digits, within a column's range)."""
    return value.isascii() and value.isdigit() and int(value) <= MAX_ID


# The users a provider sees: all but those it removed.
_SEEN = col(User.scim_removed_at).is_(None)


class ImportsBusy(Exception):
    """An import or revert holds the users longer than a SCIM call may wait."""


@contextmanager
def scim_write(engine: Engine, *, wait_seconds: float) -> Iterator[Session]:
    """One SCIM call's transaction, after any running import; ImportsBusy when that takes
    longer than wait_seconds (the provider is then asked to come back)."""
    milliseconds = int(wait_seconds * 1000)
    postgresql = is_postgresql(engine)
    with engine.connect() as connection:
        if not postgresql:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={milliseconds}")
            connection.commit()
        try:
            with Session(bind=connection) as session:
                try:
                    if postgresql:
                        session.execute(text(f"SET LOCAL lock_timeout = '{milliseconds}ms'"))
                    lock_imports(session)
                except OperationalError as exc:
                    raise ImportsBusy from exc
                yield session
                session.commit()
                connection.commit()
        finally:
            if not postgresql:
                connection.exec_driver_sql("PRAGMA busy_timeout=30000")


def get_connection_by_token_hash(*, session: Session, token_hash: str) -> ScimConnection | None:
    return session.execute(
        select(ScimConnection).where(col(ScimConnection.token_hash) == token_hash)
    ).scalar_one_or_none()


def get_connection(*, session: Session, connection_id: int) -> ScimConnection:
    connection = session.get(ScimConnection, connection_id)
    assert connection is not None, "connections are revoked, never removed"
    return connection


def get_connection_by_name(*, session: Session, name: str) -> ScimConnection | None:
    return session.execute(
        select(ScimConnection).where(func.lower(ScimConnection.name) == name.casefold())
    ).scalar_one_or_none()


def list_connections(*, session: Session) -> list[ScimConnection]:
    return list(session.execute(select(ScimConnection).order_by(ScimConnection.name)).scalars())


def touch_connection(*, session: Session, connection_id: int) -> None:
    """Remember that the connection's token was just used."""
    session.execute(
        update(ScimConnection)
        .where(col(ScimConnection.id) == connection_id)
        .values(last_used_at=utcnow())
    )


def get_day_job(*, session: Session, day_key: str) -> ImportJob | None:
    return session.execute(
        select(ImportJob).where(col(ImportJob.day_key) == day_key)
    ).scalar_one_or_none()


def find_user_ids(
    *, session: Session, attribute: str, value: str, removed: bool | None = False
) -> list[int]:
    """Users whose attribute (email, username, external_id, id) equals value; by index.

    removed: False for the users a provider sees, True for those it removed, None for all.
    """
    column: Any = {
        "email": User.email,
        "username": func.lower(User.username),
        "external_id": User.external_id,
        "user_name": func.lower(User.scim_user_name),
        "id": User.id,
    }[attribute]
    if attribute in {"username", "user_name"}:
        value = value.casefold()
    if attribute == "id":
        if not is_id(value):
            return []
        wanted: Any = int(value)
    else:
        wanted = value
    query = select(col(User.id)).where(column == wanted)
    if attribute in {"username", "user_name"}:  # their indexes hold only users with a name
        named = User.username if attribute == "username" else User.scim_user_name
        query = query.where(col(named).is_not(None))
    if removed is not None:
        query = query.where(col(User.scim_removed_at).is_not(None) if removed else _SEEN)
    return list(session.execute(query).scalars())


def count_users(*, session: Session) -> int:
    """The users a provider sees."""
    return int(session.execute(select(func.count()).select_from(User).where(_SEEN)).scalar_one())


def list_user_ids(*, session: Session, offset: int, limit: int) -> list[int]:
    query = select(col(User.id)).where(_SEEN).order_by(col(User.id)).offset(offset).limit(limit)
    return list(session.execute(query).scalars())


def set_removed(*, session: Session, user_id: int, removed: bool) -> None:
    """Hide the user from the providers (their DELETE), or show them again (a new POST)."""
    values = {"scim_removed_at": utcnow() if removed else None}
    session.execute(update(User).where(col(User.id) == user_id).values(values))


def get_users(*, session: Session, user_ids: Sequence[int], seen_only: bool = True) -> list[User]:
    """The users (those a provider sees, or all), in the order of user_ids."""
    query = select(User).where(col(User.id).in_(user_ids))
    if seen_only:
        query = query.where(_SEEN)
    found = {u.id: u for u in session.execute(query).scalars()}
    return [found[i] for i in user_ids if i in found]


def list_group_names_of(*, session: Session, user_ids: Sequence[int]) -> dict[int, list[Group]]:
    """Each user's groups."""
    query = (
        select(col(UserGroup.user_id), Group)
        .join(Group, col(Group.id) == UserGroup.group_id)
        .where(col(UserGroup.user_id).in_(user_ids))
        .order_by(col(Group.name))
    )
    found: dict[int, list[Group]] = {i: [] for i in user_ids}
    for user_id, group in session.execute(query):
        found[user_id].append(group)
    everyone = session.execute(select(Group).where(col(Group.everyone))).scalar()
    if everyone is not None:
        for groups in found.values():
            if everyone not in groups:
                groups.append(everyone)
                groups.sort(key=lambda g: g.name)
    return found


def get_group(*, session: Session, group_id: int) -> Group | None:
    return session.get(Group, group_id)


def find_group_ids(*, session: Session, attribute: str, value: str, owner: int | None) -> list[int]:
    """Groups whose displayName, externalId or id equals value (an owner's only, if given)."""
    column: Any = {
        "name": func.lower(Group.name),
        "external_id": Group.external_id,
        "id": Group.id,
    }[attribute]
    if attribute == "id":
        if not is_id(value):
            return []
        wanted: Any = int(value)
    else:
        wanted = value.casefold() if attribute == "name" else value
    query = select(col(Group.id)).where(column == wanted).order_by(col(Group.id))
    if owner is not None:
        query = query.where(col(Group.scim_connection_id) == owner)
    return list(session.execute(query).scalars())


def count_groups(*, session: Session, owner: int | None) -> int:
    query = select(func.count()).select_from(Group)
    if owner is not None:
        query = query.where(col(Group.scim_connection_id) == owner)
    return int(session.execute(query).scalar_one())


def list_group_ids(*, session: Session, offset: int, limit: int, owner: int | None) -> list[int]:
    query = select(col(Group.id)).order_by(col(Group.id)).offset(offset).limit(limit)
    if owner is not None:
        query = query.where(col(Group.scim_connection_id) == owner)
    return list(session.execute(query).scalars())


def list_member_ids(*, session: Session, group_id: int, seen_only: bool = False) -> list[int]:
    """The group's members; seen_only: those a provider sees."""
    group = session.get(Group, group_id)
    if group is not None and group.everyone:
        query = select(col(User.id))
    else:
        query = select(col(UserGroup.user_id)).where(col(UserGroup.group_id) == group_id)
        query = query.join(User, col(User.id) == UserGroup.user_id)
    if seen_only:
        query = query.where(_SEEN)
    return sorted(session.execute(query).scalars())


def remove_from_group(*, session: Session, group_id: int, user_ids: Sequence[int]) -> None:
    session.execute(
        delete(UserGroup).where(
            col(UserGroup.group_id) == group_id, col(UserGroup.user_id).in_(user_ids)
        )
    )


def delete_group(*, session: Session, group_id: int) -> None:
    session.execute(delete(Group).where(col(Group.id) == group_id))


def set_provider_keys(*, session: Session, user_id: int, keys: dict[str, Any]) -> None:
    """Keep the provider's externalId, userName and address type as its last call gave them."""
    session.execute(update(User).where(col(User.id) == user_id).values(keys))


def list_issue_values(*, session: Session, job_id: int, code: str) -> set[str]:
    """The values a job's issues of this code name."""
    query = select(col(ImportIssue.value)).where(
        col(ImportIssue.job_id) == job_id, col(ImportIssue.code) == code
    )
    return {v for v in session.execute(query).scalars() if v}


def close_day_job(*, session: Session, day_key: str) -> None:
    """Pause the connection of a day's job, and let its next call start a new job."""
    connection_id = int(day_key.split(":")[1])
    session.execute(
        update(ScimConnection).where(col(ScimConnection.id) == connection_id).values(paused=True)
    )
    session.execute(update(ImportJob).where(col(ImportJob.day_key) == day_key).values(day_key=None))
