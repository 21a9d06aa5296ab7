"""Portal accounts are invited by mail: a one-time link to choose their own password."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from core.accounts import AccountError, create_account, load_account
from core.config import Settings
from core.mail import invitation_link, queue_invitation
from core.one_time_links import start_invitation
from db.models import Account


@dataclass(frozen=True)
class Invitation:
    """How an account gets its password link: mailed, or shown once to the admin."""

    username: str
    email: str
    # Set only when no mail server is configured: the admin passes the link on once.
    link: str | None = None
    expires_at: datetime | None = None

    @property
    def mailed(self) -> bool:
        """Whether the link goes out by mail (it is made when the mail is sent)."""
        return self.link is None


def invite_account(
    *,
    session: Session,
    settings: Settings,
    username: str,
    email: str,
    role: str,
    name: str = "",
    language: str = "nl",
) -> Invitation:
    """Add a portal account without a password and send it a link to choose one."""
    account = create_account(
        session=session,
        username=username,
        email=email,
        role=role,
        password=None,
        name=name,
        language=language,
    )
    return _send_link(session, settings, account)


def send_password_link(*, session: Session, settings: Settings, username: str) -> Invitation:
    """A new link for an account to choose a (new) password; the old password works until then."""
    account = load_account(session, username)
    if account.is_disabled:
        raise AccountError.of("account-refused", "disabled-invitation")
    return _send_link(session, settings, account)


def _send_link(session: Session, settings: Settings, account: Account) -> Invitation:
    if settings.smtp_configured:
        queue_invitation(session=session, account=account)
        return Invitation(account.username, account.email)
    token, expires = start_invitation(account, days=settings.activation_days)
    session.add(account)
    return Invitation(account.username, account.email, invitation_link(settings, token), expires)
