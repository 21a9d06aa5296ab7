"""The mail queue's SQL that core/mail.py asks for by name."""

from datetime import datetime

from sqlmodel import Session, col, update

from db.models import EmailMessage


def release_lost_messages(
    *, session: Session, claimed_before: datetime, last_attempt: int, error: str
) -> int:
    """Messages still "sending" since before claimed_before, whose sender died: failed when
    they had their last attempt, else queued for exactly one more; how many there were."""
    lost = (col(EmailMessage.status) == "sending") & (
        col(EmailMessage.claimed_at).is_(None) | (col(EmailMessage.claimed_at) < claimed_before)
    )
    failed = session.execute(
        update(EmailMessage)
        .where(lost, col(EmailMessage.attempts) >= last_attempt)
        .values(status="failed", error=error)
    )
    again = session.execute(
        update(EmailMessage).where(lost).values(status="queued", attempts=last_attempt, error=None)
    )
    return int(getattr(failed, "rowcount", 0) or 0) + int(getattr(again, "rowcount", 0) or 0)
