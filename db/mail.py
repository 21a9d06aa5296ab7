"""The mail queue's SQL that core/mail.py asks for by name."""

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select, update

from db.bulk import bulk_insert
from db.models import EmailMessage, ImportChange, User, table_of
from db.vocabulary import EmailStatus


def release_lost_messages(
    *, session: Session, claimed_before: datetime, last_attempt: int, error: str
) -> int:
    """Messages still "sending" since before claimed_before, whose sender died: failed when
    they had their last attempt, else queued for exactly one more; how many there were."""
    lost = (col(EmailMessage.status) == EmailStatus.SENDING) & (
        col(EmailMessage.claimed_at).is_(None) | (col(EmailMessage.claimed_at) < claimed_before)
    )
    failed = session.execute(
        update(EmailMessage)
        .where(lost, col(EmailMessage.attempts) >= last_attempt)
        .values(status=EmailStatus.FAILED, error=error)
    )
    again = session.execute(
        update(EmailMessage)
        .where(lost)
        .values(status=EmailStatus.QUEUED, attempts=last_attempt, error=None)
    )
    return int(getattr(failed, "rowcount", 0) or 0) + int(getattr(again, "rowcount", 0) or 0)


def get_recipients(
    *, session: Session, emails: list[str]
) -> dict[str, tuple[int | None, str | None]]:
    """Email -> the user's id and language, for the users with these addresses."""
    found: dict[str, tuple[int | None, str | None]] = {}
    for start in range(0, len(emails), 5000):
        chunk = emails[start : start + 5000]
        query = select(col(User.email), col(User.id), col(User.language)).where(
            col(User.email).in_(chunk)
        )
        found.update({email: (uid, lang) for email, uid, lang in session.execute(query)})
    return found


def queue_messages(*, session: Session, rows: list[dict[str, Any]]) -> None:
    bulk_insert(session.connection(), table_of(EmailMessage), rows)


def get_change_of(*, session: Session, job_id: int | None, user_id: int | None) -> Any:
    """What an import changed of one user (its change record's after), if anything."""
    query = select(col(ImportChange.after)).where(
        col(ImportChange.job_id) == job_id, col(ImportChange.user_id) == user_id
    )
    return session.execute(query).scalar()


def list_queued_message_ids(*, session: Session, job_id: int | None = None) -> list[int]:
    """The queued messages (of one job, or all), oldest first."""
    query = select(col(EmailMessage.id)).where(col(EmailMessage.status) == EmailStatus.QUEUED)
    if job_id is not None:
        query = query.where(col(EmailMessage.job_id) == job_id)
    return list(session.execute(query.order_by(col(EmailMessage.id))).scalars())


def claim_message(*, session: Session, message_id: int, now: datetime) -> bool:
    """Mark a queued message as being sent; False when another sender claimed it first."""
    claim = session.execute(
        update(EmailMessage)
        .where(col(EmailMessage.id) == message_id, col(EmailMessage.status) == EmailStatus.QUEUED)
        .values(status=EmailStatus.SENDING, claimed_at=now)
    )
    return bool(getattr(claim, "rowcount", 0))


def record_message(*, session: Session, message_id: int, values: dict[str, Any]) -> None:
    session.execute(update(EmailMessage).where(col(EmailMessage.id) == message_id).values(values))


def requeue_unsent(*, session: Session, message_ids: list[int]) -> int:
    """Failed or skipped messages back in the queue; how many."""
    result = session.execute(
        update(EmailMessage)
        .where(
            col(EmailMessage.id).in_(message_ids),
            col(EmailMessage.status).in_((EmailStatus.FAILED, EmailStatus.SKIPPED)),
        )
        .values(status=EmailStatus.QUEUED, error=None, attempts=0)
    )
    return int(getattr(result, "rowcount", 0) or 0)
