"""The reads and writes of a revert: an import's changes, and putting its users back."""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlmodel import Session, col

from db.models import Group, ImportChange, ImportJob, Level, User, UserGroup, UserLevel


def get_reverting_job_id(*, session: Session, job_id: int) -> int | None:
    """The revert job that undid job_id, if one did."""
    query = select(col(ImportJob.id)).where(col(ImportJob.reverts_job_id) == job_id)
    return session.execute(query).scalars().first()


def list_users_changed_after(*, session: Session, job_id: int) -> set[int]:
    """The users a later import (or revert) changed."""
    query = select(col(ImportChange.user_id)).where(
        col(ImportChange.job_id) > job_id, col(ImportChange.user_id).is_not(None)
    )
    return set(session.execute(query).scalars())


def list_changes_newest_first(*, session: Session, job_id: int) -> Sequence[ImportChange]:
    """An import's changes, the last written first (the order a revert takes them back)."""
    query = (
        select(ImportChange)
        .where(col(ImportChange.job_id) == job_id)
        .order_by(col(ImportChange.id).desc())
    )
    return session.execute(query).scalars().all()


def get_name_ids(*, session: Session) -> dict[type[Group | Level], dict[str, int]]:
    """Group and level names -> their ids; not the group every user is in, which has no
    memberships to take back or restore."""
    groups = select(col(Group.name), col(Group.id)).where(~col(Group.everyone))
    levels = select(col(Level.name), col(Level.id))
    return {
        model: {name: i for name, i in session.execute(query)}
        for model, query in ((Group, groups), (Level, levels))
    }


def delete_user(*, session: Session, user_id: int) -> None:
    session.execute(delete(User).where(col(User.id) == user_id))


def update_user(*, session: Session, user_id: int, values: dict[str, Any]) -> None:
    session.execute(update(User).where(col(User.id) == user_id).values(values))


def remove_memberships(
    *, session: Session, user_id: int, group_ids: Iterable[int], level_ids: Iterable[int]
) -> None:
    """Take the user out of these groups and levels."""
    for link, column, ids in (
        (UserGroup, UserGroup.group_id, list(group_ids)),
        (UserLevel, UserLevel.level_id, list(level_ids)),
    ):
        if ids:
            session.execute(delete(link).where(col(link.user_id) == user_id, col(column).in_(ids)))


def add_to_groups(*, session: Session, user_id: int, group_ids: Iterable[int]) -> None:
    for group_id in group_ids:
        session.execute(insert(UserGroup).values(user_id=user_id, group_id=group_id))
