"""Finding users, and creating one user through the same rules as an import."""

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Select
from sqlmodel import Session

from core.issues import InstroomError
from core.jobs import ImportResult, run_import
from core.options import ImportOptions
from core.pipeline import ImportRequest
from core.read import Table
from core.source import SINGLE_USER_FORM
from db import queries
from db.users import (
    count_selected_users,
    list_selected_users,
    list_user_memberships,
    matching_user_ids,
)
from db.vocabulary import Mode

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
        return matching_user_ids(
            words=words, status=self.status, kind=self.kind, group=self.group, level=self.level
        )


def count_users(*, session: Session, search: UserSearch) -> int:
    """How many users match, all of them."""
    return count_selected_users(session=session, user_ids=search.matching_ids())


def search_users(
    *, session: Session, search: UserSearch, offset: int = 0, limit: int = PAGE_SIZE
) -> pd.DataFrame:
    """One page of the matching users, by email, as a table."""
    found = list_selected_users(
        session=session, user_ids=search.matching_ids(), offset=offset, limit=limit
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
        for u in found
    ]
    return pd.DataFrame(rows, columns=_USER_COLUMNS)


def get_user_detail(*, session: Session, user_id: int) -> dict[str, Any] | None:
    """One user's profile, groups and levels."""
    user = queries.find_user(session=session, user_id=user_id)
    if user is None:
        return None
    groups, levels = list_user_memberships(session=session, user_id=user_id)
    return {"user": user, "groups": groups, "levels": levels}


def create_single_user(
    *, engine: Engine, values: dict[str, str], welcome: bool, created_by: str
) -> ImportResult:
    """Create one user from a form: a one-row import, so every rule applies to it too."""
    headers = list(SINGLE_USER_FIELDS)
    data = pd.DataFrame([[str(values.get(k) or "") for k in headers]], index=[2], dtype=object)
    table = Table(headers=headers, data=data, source="form", has_header=True, header_row=1)
    options = ImportOptions(mode=Mode.CREATE, welcome_new=welcome)
    return run_import(
        engine=engine,
        request=ImportRequest(table, dict(enumerate(headers)), options),
        file_name=SINGLE_USER_FORM,
        file_bytes=b"",
        created_by=created_by,
    )
