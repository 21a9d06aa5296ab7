"""The stored users an import is compared with, loaded in a few set-based queries."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import String, cast, func, select, type_coerce
from sqlmodel import Session, col

from db.bulk import one_of
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
    groups: set[str] = field(default_factory=set)
    levels: set[str] = field(default_factory=set)


_USER_COLUMNS: tuple[Any, ...] = (
    User.id,
    User.email,
    User.first_name,
    User.name_insert,
    User.last_name,
    User.username,
    User.role,
    User.language,
    User.kind,
    User.status,
    User.is_protected,
    User.password_hash,
    type_coerce(User.profile, String),
    col(User.activated_at).is_not(None),
)


def load_users(*, session: Session, column: Any, keys: Iterable[str]) -> dict[str, ExistingUser]:
    """Users whose column (email or username) is one of keys, with groups and levels: keyed."""
    # Core rows, not ORM objects: a large import reads many thousands of users.
    connection = session.connection()
    found: dict[str, ExistingUser] = {}
    folded = column is User.username
    wanted = sorted({k.casefold() if folded else k for k in keys if k})
    if not wanted:
        return found
    condition = one_of(func.lower(column) if folded else column, wanted, connection)
    for row in connection.execute(select(*_USER_COLUMNS).where(condition)):
        user = ExistingUser(*row)
        # Read as text and parsed here: SQLAlchemy's JSON processing is several times slower.
        profile = user.profile
        user.profile = orjson.loads(profile) if isinstance(profile, str) else dict(profile or {})
        found[(user.username or "").casefold() if folded else user.email] = user
    by_id = {u.id: u for u in found.values()}
    for link, model, attribute in ((UserGroup, Group, "groups"), (UserLevel, Level, "levels")):
        if not by_id:
            break
        query_names = select(col(model.id), col(model.name))
        names: dict[int | None, str] = {i: n for i, n in connection.execute(query_names)}
        key = getattr(link, f"{model.__name__.lower()}_id")
        # One row per user with its ids joined: a third of the rows of one per membership.
        ids = func.aggregate_strings(cast(key, String), ",")
        query = (
            select(col(link.user_id), ids)
            .where(one_of(link.user_id, list(by_id), connection))
            .group_by(col(link.user_id))
        )
        for user_id, joined in connection.execute(query):
            getattr(by_id[user_id], attribute).update(names[int(i)] for i in joined.split(","))
    return found
