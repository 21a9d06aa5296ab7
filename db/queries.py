"""Query helpers: verb-first, keyword arguments, the caller owns the session."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

import orjson
from sqlalchemy import Text, cast, delete, func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from db.bulk import driver_rows
from db.models import (
    WITHOUT_FILE,
    Account,
    AppSetting,
    EmailMessage,
    Group,
    ImportChange,
    ImportIssue,
    ImportJob,
    Language,
    Level,
    Link,
    LinkRun,
    LoginEvent,
    MailTemplate,
    ProfileField,
    Role,
    SavedMapping,
    Taxonomy,
    Term,
    User,
    id_of,
)

T = TypeVar("T")


def count_accounts(*, session: Session) -> int:
    return session.exec(select(func.count()).select_from(Account)).one()


def get_account_by_username(*, session: Session, username: str) -> Account | None:
    return session.exec(select(Account).where(Account.username == username.strip().lower())).first()


def get_account_by_identity(*, session: Session, identity: str) -> Account | None:
    return session.exec(select(Account).where(Account.identity == identity)).first()


def add_login_event(*, session: Session, event: LoginEvent) -> None:
    session.add(event)


def delete_login_events_before(*, session: Session, moment: datetime) -> None:
    session.execute(delete(LoginEvent).where(col(LoginEvent.at) < moment))


def list_login_events(*, session: Session, limit: int) -> Sequence[LoginEvent]:
    """The latest sign-in attempts, newest first."""
    query = select(LoginEvent).order_by(col(LoginEvent.id).desc()).limit(limit)
    return session.exec(query).all()


def get_account_by_email(*, session: Session, email: str) -> Account | None:
    return session.exec(select(Account).where(Account.email == email.strip().lower())).first()


def get_account_by_invitation(*, session: Session, token_hash: str) -> Account | None:
    return session.exec(select(Account).where(Account.invite_token_hash == token_hash)).first()


def get_user_by_activation(*, session: Session, token_hash: str) -> User | None:
    return session.exec(select(User).where(User.activation_token_hash == token_hash)).first()


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


def get_saved_mapping_by_name(*, session: Session, name: str) -> SavedMapping | None:
    return session.exec(select(SavedMapping).where(SavedMapping.name == name)).first()


def get_newest_saved_mapping(*, session: Session, headers_key: str) -> SavedMapping | None:
    query = select(SavedMapping).where(SavedMapping.headers_key == headers_key)
    return session.exec(query.order_by(col(SavedMapping.id).desc())).first()


def count_emails_by_status(*, session: Session, job_id: int) -> dict[str, int]:
    rows = session.exec(
        select(EmailMessage.status, func.count())
        .where(EmailMessage.job_id == job_id)
        .group_by(EmailMessage.status)
    ).all()
    return {status: count for status, count in rows}


def find_job(*, session: Session, job_id: int, without_file: bool = False) -> ImportJob | None:
    """A recorded job, or None; without_file leaves its kept file unread."""
    return session.get(ImportJob, job_id, options=[WITHOUT_FILE] if without_file else [])


def find_user(*, session: Session, user_id: int | None) -> User | None:
    return session.get(User, user_id) if user_id is not None else None


def find_account(*, session: Session, account_id: int | None) -> Account | None:
    return session.get(Account, account_id) if account_id is not None else None


def find_email_message(*, session: Session, message_id: int) -> EmailMessage | None:
    return session.get(EmailMessage, message_id)


def find_setting(*, session: Session, key: str) -> AppSetting | None:
    return session.get(AppSetting, key)


def find_link(*, session: Session, link_id: int) -> Link | None:
    return session.get(Link, link_id)


def find_link_run(*, session: Session, run_id: int) -> LinkRun | None:
    return session.get(LinkRun, run_id)


def find_entry(*, session: Session, model: type[T], entry_id: int | None) -> T | None:
    """A catalogue entry (group, level, role, taxonomy, term, language, field) by its id."""
    return session.get(model, entry_id) if entry_id is not None else None


def get_job(*, session: Session, job_id: int) -> ImportJob:
    """A recorded job; LookupError when there is none with that id."""
    job = session.get(ImportJob, job_id)
    if job is None:
        raise LookupError(f"There is no job {job_id}.")
    return job


def list_jobs_filtered(
    *,
    session: Session,
    statuses: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    created_by: str | None = None,
    limit: int = 500,
) -> Sequence[ImportJob]:
    """Jobs newest first (without their files), narrowed by status, time and who started them."""
    query = select(ImportJob).options(WITHOUT_FILE).order_by(col(ImportJob.id).desc()).limit(limit)
    if statuses:
        query = query.where(col(ImportJob.status).in_(statuses))
    if since is not None:
        query = query.where(col(ImportJob.created_at) >= since)
    if until is not None:
        query = query.where(col(ImportJob.created_at) <= until)
    if created_by:
        query = query.where(col(ImportJob.created_by) == created_by)
    return session.exec(query).all()


def list_job_starters(*, session: Session) -> list[str]:
    """Everyone who started a job, by name."""
    query = select(col(ImportJob.created_by)).distinct().order_by(col(ImportJob.created_by))
    return [p for p in session.exec(query).all() if p]


def count_jobs_by_day_and_status(*, session: Session) -> list[tuple[str, str, int]]:
    """(day, status, number of jobs) for every day a job was started."""
    day, status = func.date(ImportJob.created_at), col(ImportJob.status)
    query = select(day, status, func.count()).group_by(day, status)
    return [(str(d), s, n) for d, s, n in session.exec(query).all()]


def list_job_issues(*, session: Session, job_id: int) -> Sequence[ImportIssue]:
    """A job's issues in row order."""
    query = (
        select(ImportIssue)
        .where(col(ImportIssue.job_id) == job_id)
        .order_by(col(ImportIssue.row), col(ImportIssue.id))
    )
    return session.exec(query).all()


class ChangeRecord(NamedTuple):
    """A stored change as the history shows it."""

    job_id: int
    row: int | None
    email: str
    action: str
    before: dict[str, Any]
    after: dict[str, Any]


def list_job_changes(*, session: Session, job_id: int) -> list[ChangeRecord]:
    """What a job changed, user by user, in the order it wrote them."""
    # Plain rows, their values parsed by orjson: as ORM objects the 20,000 records of one
    # import took 0.35 s, every time History opened it.
    query = (
        select_columns(
            col(ImportChange.job_id),
            col(ImportChange.row),
            col(ImportChange.email),
            col(ImportChange.action),
            cast(col(ImportChange.before), Text),
            cast(col(ImportChange.after), Text),
        )
        .where(col(ImportChange.job_id) == job_id)
        .order_by(col(ImportChange.id))
    )
    return [
        ChangeRecord(job, row, email, action, orjson.loads(before), orjson.loads(after))
        for job, row, email, action, before, after in driver_rows(session.connection(), query)
    ]


def list_job_emails(*, session: Session, job_id: int) -> Sequence[EmailMessage]:
    """A job's messages in the order they were queued."""
    query = select(EmailMessage).where(col(EmailMessage.job_id) == job_id)
    return session.exec(query.order_by(col(EmailMessage.id))).all()


def list_user_changes(*, session: Session, user_id: int) -> Sequence[ImportChange]:
    """Every change jobs made to one user, newest first."""
    query = select(ImportChange).where(col(ImportChange.user_id) == user_id)
    return session.exec(query.order_by(col(ImportChange.id).desc())).all()


def list_jobs_by_id(*, session: Session, job_ids: Sequence[int]) -> dict[int, ImportJob]:
    """These jobs (without their files), by id."""
    query = select(ImportJob).options(WITHOUT_FILE).where(col(ImportJob.id).in_(job_ids))
    return {id_of(job): job for job in session.exec(query).all()}


def get_mail_template(*, session: Session, kind: str, language: str) -> MailTemplate | None:
    return session.exec(
        select(MailTemplate).where(MailTemplate.kind == kind, MailTemplate.language == language)
    ).first()


def list_app_settings(*, session: Session, keys: Sequence[str]) -> dict[str, str]:
    found = session.exec(select(AppSetting).where(col(AppSetting.key).in_(keys)))
    return {setting.key: setting.value for setting in found}
