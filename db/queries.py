"""Query helpers: verb-first, keyword arguments, the caller owns the session."""

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.models import (
    WITHOUT_FILE,
    Account,
    EmailMessage,
    Group,
    ImportJob,
    Language,
    Level,
    ProfileField,
    Role,
    Taxonomy,
    Term,
    User,
)


def count_accounts(*, session: Session) -> int:
    return session.exec(select(func.count()).select_from(Account)).one()


def get_account_by_username(*, session: Session, username: str) -> Account | None:
    return session.exec(select(Account).where(Account.username == username.strip().lower())).first()


def list_accounts(*, session: Session) -> Sequence[Account]:
    return session.exec(select(Account).order_by(Account.username)).all()


def get_user_by_email(*, session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def list_profile_fields(*, session: Session) -> Sequence[ProfileField]:
    return session.exec(
        select(ProfileField).order_by(col(ProfileField.position), col(ProfileField.id))
    ).all()


def list_groups(*, session: Session) -> Sequence[Group]:
    return session.exec(select(Group).order_by(Group.name)).all()


def list_levels(*, session: Session) -> Sequence[Level]:
    return session.exec(select(Level).order_by(Level.name)).all()


def list_roles(*, session: Session) -> Sequence[Role]:
    return session.exec(select(Role).order_by(Role.name)).all()


def list_languages(*, session: Session) -> Sequence[Language]:
    return session.exec(select(Language).order_by(Language.code)).all()


def list_taxonomies(*, session: Session) -> Sequence[Taxonomy]:
    return session.exec(select(Taxonomy).order_by(Taxonomy.name)).all()


def list_terms(*, session: Session, taxonomy_id: int) -> Sequence[Term]:
    return session.exec(
        select(Term).where(Term.taxonomy_id == taxonomy_id).order_by(Term.name)
    ).all()


def list_protected_users(*, session: Session) -> Sequence[User]:
    return session.exec(select(User).where(User.is_protected).order_by(User.email)).all()


def count_users_by_status(*, session: Session) -> dict[str, int]:
    rows = session.exec(select(User.status, func.count()).group_by(User.status)).all()
    return {status: count for status, count in rows}


def list_recent_jobs(*, session: Session, limit: int = 10) -> Sequence[ImportJob]:
    return session.exec(
        select(ImportJob).options(WITHOUT_FILE).order_by(col(ImportJob.id).desc()).limit(limit)
    ).all()


def count_emails_by_status(*, session: Session, job_id: int) -> dict[str, int]:
    rows = session.exec(
        select(EmailMessage.status, func.count())
        .where(EmailMessage.job_id == job_id)
        .group_by(EmailMessage.status)
    ).all()
    return {status: count for status, count in rows}


def get_job(*, session: Session, job_id: int) -> ImportJob:
    """A recorded job; LookupError when there is none with that id."""
    job = session.get(ImportJob, job_id)
    if job is None:
        raise LookupError(f"There is no job {job_id}.")
    return job
