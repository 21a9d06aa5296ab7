"""Finding users, and creating one user through the same rules as an import."""

from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, or_, select
from sqlmodel import Session

from core.jobs import ImportResult, run_import
from core.options import ImportOptions
from core.read import Table
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


def _holders(link: type, model: type) -> Any:
    """The ids of users in a membership table, joined to its groups or levels."""
    target = getattr(link, f"{model.__name__.lower()}_id")
    return select(link.user_id).join(model, model.id == target)


def search_users(
    *,
    session: Session,
    text: str = "",
    group: str | None = None,
    level: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 1000,
) -> pd.DataFrame:
    """Users matching a search on name or email and the filters, as a table."""
    query = select(User).order_by(User.email).limit(limit)
    for word in text.split():
        pattern = f"%{word.lower()}%"
        query = query.where(
            or_(
                *(
                    func.lower(c).like(pattern)
                    for c in (User.email, User.first_name, User.last_name, User.username)
                )
            )
        )
    if status:
        query = query.where(User.status == status)
    if kind:
        query = query.where(User.kind == kind)
    for link, model, name in ((UserGroup, Group, group), (UserLevel, Level, level)):
        if name:
            query = query.where(User.id.in_(_holders(link, model).where(model.name == name)))
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
    return pd.DataFrame(
        rows, columns=["Id", "Email", "Name", "Username", "Status", "Kind", "Protected"]
    )


def get_user_detail(*, session: Session, user_id: int) -> dict[str, Any] | None:
    """One user's profile, groups and levels."""
    user = session.get(User, user_id)
    if user is None:
        return None
    groups = session.execute(
        select(Group.name)
        .join(UserGroup, UserGroup.group_id == Group.id)
        .where(UserGroup.user_id == user_id)
        .order_by(Group.name)
    ).scalars()
    levels = session.execute(
        select(Level.name)
        .join(UserLevel, UserLevel.level_id == Level.id)
        .where(UserLevel.user_id == user_id)
        .order_by(Level.name)
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
        table=table,
        mapping=dict(enumerate(headers)),
        options=options,
        file_name="(single user form)",
        file_bytes=b"",
        created_by=created_by,
    )
