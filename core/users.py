"""Finding users, and creating one user through the same rules as an import."""

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Select, func, or_, select
from sqlmodel import Session, col

from core.issues import InstroomError
from core.jobs import ImportResult, run_import
from core.options import ImportOptions
from core.pipeline import ImportRequest
from core.read import Table
from db import queries
from db.models import Group, Level, User, UserGroup, UserLevel

SINGLE_USER_FIELDS = (
    "email",
    "first_name",
    "name_insert",
    "last_name",
    "username",
    "groups",
    "role",
    "language",
    "kind",
)


def _holders(link: type[UserGroup | UserLevel], model: type[Group | Level]) -> Select[Any]:
    """The ids of users in a membership table, joined to its groups or levels."""
    target = getattr(link, f"{model.__name__.lower()}_id")
    return select(col(link.user_id)).join(model, col(model.id) == target)


# Each word adds a condition; a search pasted from a document (thousands of words) would
# exceed SQLite's expression depth. More words than this are refused with the count.
MAX_SEARCH_WORDS = 20
PAGE_SIZE = 50
_USER_COLUMNS = ["Id", "Email", "Name", "Username", "Status", "Kind", "Protected"]


@dataclass(frozen=True)
class UserChoices:
    """The values the Users page offers in its filters and its single-user form."""

    groups: list[str]
    levels: list[str]
    roles: list[str]
    languages: list[str]


def list_user_choices(*, session: Session) -> UserChoices:
    """Every group, level, role and language, by name."""
    return UserChoices(
        groups=[g.name for g in queries.list_groups(session=session)],
        levels=[lv.name for lv in queries.list_levels(session=session)],
        roles=[r.name for r in queries.list_roles(session=session)],
        languages=[lang.code for lang in queries.list_languages(session=session)],
    )


class SearchError(InstroomError, ValueError):
    """The search cannot be run as typed; the message says why."""


@dataclass(frozen=True)
class UserSearch:
    """A search on name, email or username and the filters of the Users page."""

    text: str = ""
    group: str | None = None
    level: str | None = None
    status: str | None = None
    kind: str | None = None

    def matching_ids(self) -> Select[Any]:
        """The ids of every matching user, as a query to count, page or export by."""
        words = self.text.split()
        if len(words) > MAX_SEARCH_WORDS:
            raise SearchError(
                f"The search has {len(words):,} words; Instroom searches with at most "
                f"{MAX_SEARCH_WORDS}. Use fewer, more telling words."
            )
        query: Select[Any] = select(col(User.id))
        for word in words:
            pattern = f"%{word.lower()}%"
            query = query.where(
                or_(
                    *(
                        func.lower(col(c)).like(pattern)
                        for c in (User.email, User.first_name, User.last_name, User.username)
                    )
                )
            )
        if self.status:
            query = query.where(col(User.status) == self.status)
        if self.kind:
            query = query.where(col(User.kind) == self.kind)
        for link, model, name in ((UserGroup, Group, self.group), (UserLevel, Level, self.level)):
            if name:
                holders = _holders(link, model).where(col(model.name) == name)
                query = query.where(col(User.id).in_(holders))
        return query


def count_users(*, session: Session, search: UserSearch) -> int:
    """How many users match, all of them."""
    ids = search.matching_ids().subquery()
    count: int = session.execute(select(func.count()).select_from(ids)).scalar_one()
    return count


def search_users(
    *, session: Session, search: UserSearch, offset: int = 0, limit: int = PAGE_SIZE
) -> pd.DataFrame:
    """One page of the matching users, by email, as a table."""
    query = (
        select(User)
        .where(col(User.id).in_(search.matching_ids()))
        .order_by(col(User.email))
        .offset(offset)
        .limit(limit)
    )
    rows = [
        {
            "Id": u.id,
            "Email": u.email,
            "Name": " ".join(p for p in (u.first_name, u.name_insert, u.last_name) if p),
            "Username": u.username or "",
            "Status": u.status,
            "Kind": u.kind,
            "Protected": u.is_protected,
        }
        for u in session.execute(query).scalars()
    ]
    return pd.DataFrame(rows, columns=_USER_COLUMNS)


def get_user_detail(*, session: Session, user_id: int) -> dict[str, Any] | None:
    """One user's profile, groups and levels."""
    user = session.get(User, user_id)
    if user is None:
        return None
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
    return {"user": user, "groups": list(groups), "levels": list(levels)}


def create_single_user(
    *, engine: Engine, values: dict[str, str], welcome: bool, created_by: str
) -> ImportResult:
    """Create one user from a form: a one-row import, so every rule applies to it too."""
    headers = list(SINGLE_USER_FIELDS)
    data = pd.DataFrame([[str(values.get(k) or "") for k in headers]], index=[2], dtype=object)
    table = Table(headers=headers, data=data, source="form", has_header=True, header_row=1)
    options = ImportOptions(mode="create", welcome_new=welcome)
    return run_import(
        engine=engine,
        request=ImportRequest(table, dict(enumerate(headers)), options),
        file_name="(single user form)",
        file_bytes=b"",
        created_by=created_by,
    )
