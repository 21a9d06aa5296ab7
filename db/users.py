"""Stored users: those an import is compared with (in a few set-based queries), and the
searches of the Users page and the export."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, String, Text, cast, func, or_, select, type_coerce
from sqlmodel import Session, col

from db.bulk import driver_rows, one_of
from db.models import Group, Level, User, UserGroup, UserLevel


@dataclass(slots=True)
class ExistingUser:
    """A user as stored, with the group and level names they have."""

    id: int
    email: str
    first_name: str
    name_insert: str
    last_name: str
    username: str | None
    role: str | None
    language: str | None
    kind: str
    status: str
    is_protected: bool
    password_hash: str | None
    profile: dict[str, str]
    activated: bool
    # Shared by every user with the same memberships (load_users), so never changed in place.
    groups: frozenset[str] = frozenset()
    levels: frozenset[str] = frozenset()


_USER_COLUMNS: tuple[Any, ...] = (
    User.id,
    User.email,
    User.first_name,
    User.name_insert,
    User.last_name,
    User.username,
    User.role,
    User.language,
    # As plain text: a member per row costs a call per value on a large import, and the
    # planner compares these with the vocabulary's members, which are text too.
    type_coerce(User.kind, String),
    type_coerce(User.status, String),
    User.is_protected,
    User.password_hash,
    # Text, parsed by orjson: PostgreSQL's driver parses JSON with the standard library, 5x
    # slower (0.5 s of a 100,000-row re-import).
    cast(User.profile, Text),
    col(User.activated_at).is_not(None),
)


@dataclass(frozen=True, slots=True)
class Member:
    """One user of a full list's population (a kind, protected users left out)."""

    id: int
    email: str
    name: str
    status: str


class StoredUsers:
    """The stored users an import's planner reads, each time through the caller's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_email(self, emails: Iterable[str]) -> dict[str, ExistingUser]:
        return load_users(session=self.session, column=User.email, keys=emails)

    def by_username(self, usernames: Iterable[str]) -> dict[str, ExistingUser]:
        """Keyed by the username folded to lower case."""
        return load_users(session=self.session, column=User.username, keys=usernames)

    def everyone_group(self) -> str | None:
        return get_everyone_group_name(session=self.session)

    def population(self, kind: str) -> list[Member]:
        """The users of a kind a full list may block: every one not protected."""
        query = select(
            col(User.id),
            col(User.email),
            col(User.first_name),
            col(User.name_insert),
            col(User.last_name),
            type_coerce(User.status, String),
        ).where(col(User.kind) == kind, ~col(User.is_protected))
        return [
            Member(user_id, email, " ".join(p for p in (first, insert, last) if p), status)
            for user_id, email, first, insert, last, status in self.session.execute(query)
        ]


def load_users(*, session: Session, column: Any, keys: Iterable[Any]) -> dict[str, ExistingUser]:
    """Users whose column (email or username) is one of keys, with groups and levels: keyed."""
    # Core rows, not ORM objects: a large import reads many thousands of users.
    connection = session.connection()
    found: dict[str, ExistingUser] = {}
    folded = column is User.username
    wanted = sorted({k.casefold() if folded else k for k in keys if k})
    if not wanted:
        return found
    condition = one_of(func.lower(column) if folded else column, wanted, connection)
    if folded:  # the index of lowered usernames holds only the users that have one
        condition = condition & col(column).is_not(None)
    for row in driver_rows(connection, select(*_USER_COLUMNS).where(condition)):
        user = ExistingUser(*row)
        # The driver's own values: SQLite gives 0 and 1 for these.
        user.is_protected, user.activated = bool(user.is_protected), bool(user.activated)
        # Read as text and parsed here: SQLAlchemy's JSON processing is several times slower.
        profile = user.profile
        user.profile = orjson.loads(profile) if isinstance(profile, str) else dict(profile or {})
        found[(user.username or "").casefold() if folded else user.email] = user
    by_id = {u.id: u for u in found.values()}
    everyone = get_everyone_group_name(session=session)
    # Every user is in the everyone group, stored or not.
    implicit = (everyone,) if everyone is not None else ()
    alone = frozenset(implicit)
    for user in by_id.values():
        user.groups = alone
    for link, model, attribute in ((UserGroup, Group, "groups"), (UserLevel, Level, "levels")):
        if not by_id:
            break
        query_names = select(col(model.id), col(model.name))
        names: dict[str, str] = {str(i): n for i, n in connection.execute(query_names)}
        key = getattr(link, f"{model.__name__.lower()}_id")
        # One row per user with its ids joined: a third of the rows of one per membership.
        ids = func.aggregate_strings(cast(key, String), ",")
        query = (
            select(col(link.user_id), ids)
            .where(one_of(link.user_id, list(by_id), connection))
            .group_by(col(link.user_id))
        )
        # Users share a few combinations of groups: each joined list is turned into names once.
        shared: dict[str, frozenset[str]] = {}
        also = implicit if attribute == "groups" else ()
        for user_id, joined in driver_rows(connection, query):
            held = shared.get(joined)
            if held is None:
                named = map(names.__getitem__, joined.split(","))
                held = shared[joined] = frozenset((*also, *named))
            setattr(by_id[user_id], attribute, held)
    return found


def get_everyone_group_name(*, session: Session) -> str | None:
    """The name of the group every user is in without a stored membership."""
    return session.execute(select(col(Group.name)).where(col(Group.everyone))).scalar()


def load_user_by_id(*, session: Session, user_id: int) -> ExistingUser | None:
    """One user as the planner reads them."""
    return next(iter(load_users(session=session, column=User.id, keys=[user_id]).values()), None)


def _holders(link: type[UserGroup | UserLevel], model: type[Group | Level]) -> Select[Any]:
    """The ids of users in a membership table, joined to its groups or levels."""
    target = getattr(link, f"{model.__name__.lower()}_id")
    return select(col(link.user_id)).join(model, col(model.id) == target)


def matching_user_ids(
    *,
    words: Sequence[str] = (),
    status: str | None = None,
    kind: str | None = None,
    group: str | None = None,
    level: str | None = None,
) -> Select[Any]:
    """The ids of the users whose email, names or username hold every word, and who have
    the status, kind, group and level asked for: a query to count, page or export by."""
    query: Select[Any] = select(col(User.id))
    for word in words:
        pattern = f"%{word.lower()}%"
        searched = (User.email, User.first_name, User.last_name, User.username)
        query = query.where(or_(*(func.lower(col(c)).like(pattern) for c in searched)))
    if status:
        query = query.where(col(User.status) == status)
    if kind:
        query = query.where(col(User.kind) == kind)
    for link, model, name in ((UserGroup, Group, group), (UserLevel, Level, level)):
        if name:
            holders = _holders(link, model).where(col(model.name) == name)
            condition: ColumnElement[bool] = col(User.id).in_(holders)
            if model is Group:
                everyone = select(col(Group.id)).where(col(Group.name) == name, col(Group.everyone))
                condition = or_(condition, everyone.exists())
            query = query.where(condition)
    return query


def count_selected_users(*, session: Session, user_ids: Select[Any]) -> int:
    """How many users a query of ids selects."""
    selected = user_ids.subquery()
    count: int = session.execute(select(func.count()).select_from(selected)).scalar_one()
    return count


def list_selected_users(
    *,
    session: Session,
    user_ids: Select[Any] | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> Sequence[User]:
    """The users a query of ids selects (every user without one), by email."""
    query = select(User).order_by(col(User.email)).offset(offset).limit(limit)
    if user_ids is not None:
        query = query.where(col(User.id).in_(user_ids))
    return session.execute(query).scalars().all()


def list_user_memberships(*, session: Session, user_id: int) -> tuple[list[str], list[str]]:
    """The names of one user's groups and of their levels."""
    groups = session.execute(
        select(col(Group.name))
        .join(UserGroup, col(UserGroup.group_id) == Group.id)
        .where(col(UserGroup.user_id) == user_id)
        .order_by(col(Group.name))
    ).scalars()
    levels = session.execute(
        select(col(Level.name))
        .join(UserLevel, col(UserLevel.level_id) == Level.id)
        .where(col(UserLevel.user_id) == user_id)
        .order_by(col(Level.name))
    ).scalars()
    everyone = get_everyone_group_name(session=session)
    return sorted({*groups, *([everyone] if everyone else [])}), list(levels)


def list_all_memberships(
    *, session: Session
) -> tuple[dict[int, list[str]], dict[int, list[str]], str | None]:
    """User id -> the names of their stored groups, and of their levels, each by name; and
    the group every user is in besides."""
    found: tuple[dict[int, list[str]], dict[int, list[str]]] = ({}, {})
    for target, link, model in ((found[0], UserGroup, Group), (found[1], UserLevel, Level)):
        column = getattr(link, f"{model.__name__.lower()}_id")
        names = select(col(link.user_id), col(model.name)).join(model, col(model.id) == column)
        for user_id, name in session.execute(names.order_by(col(model.name))):
            target.setdefault(user_id, []).append(name)
    return *found, get_everyone_group_name(session=session)
