"""Portal accounts: creation, passwords, and the credentials the login form checks."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt
from sqlmodel import Session

from core.settings import Settings, check_cookie_key
from db import queries
from db.models import Account, utcnow

ROLES = ("admin", "support")
MIN_PASSWORD_LENGTH = 10
# bcrypt only looks at the first 72 bytes; a longer password would be silently truncated.
MAX_PASSWORD_BYTES = 72
USERNAME_PATTERN = re.compile(r"^[a-z0-9_.-]{2,50}$")
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
COOKIE_KEY_SETTING = "cookie_key"


class AccountError(Exception):
    """An account change was refused; the message says why and what to do."""


@dataclass(frozen=True)
class SignedInAccount:
    """The account behind the current login, as the pages need it."""

    username: str
    name: str
    email: str
    role: str


def hash_password(password: str) -> str:
    """A bcrypt hash of password."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    """Whether password matches the bcrypt hash."""
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))
    except ValueError:
        return False


def check_password_strength(password: str) -> None:
    """Refuse passwords that are too short, too long for bcrypt, or one repeated character."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise AccountError(f"The password must be at most {MAX_PASSWORD_BYTES} bytes long.")
    if len(set(password)) < 4:
        raise AccountError("The password needs at least 4 different characters.")


def create_account(
    *, session: Session, username: str, email: str, role: str, password: str, name: str = ""
) -> Account:
    """Add a portal account after checking every field."""
    # The login form lower-cases what is typed, so usernames are stored that way.
    username = username.strip().lower()
    email = email.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise AccountError(
            "The username must be 2-50 characters: letters, digits, dot, dash or underscore."
        )
    if role not in ROLES:
        raise AccountError(f"The role must be one of: {', '.join(ROLES)}.")
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise AccountError("Enter a valid email address, such as name@example.org.")
    if queries.get_account_by_username(session=session, username=username) is not None:
        raise AccountError(f"An account named {username!r} already exists; choose another name.")
    check_password_strength(password)
    account = Account(
        username=username,
        email=email,
        name=name.strip() or username,
        role=role,
        password_hash=hash_password(password),
    )
    session.add(account)
    session.flush()
    return account


def _require_account(session: Session, username: str) -> Account:
    account = queries.get_account_by_username(session=session, username=username)
    if account is None:
        raise AccountError(f"There is no account named {username!r}.")
    return account


def _count_active_admins(session: Session) -> int:
    return sum(
        1 for a in queries.list_accounts(session=session) if a.role == "admin" and not a.is_disabled
    )


def reset_password(*, session: Session, username: str, password: str) -> None:
    """Give an account a new password."""
    account = _require_account(session, username)
    check_password_strength(password)
    account.password_hash = hash_password(password)
    account.failed_logins, account.locked_until = 0, None
    session.add(account)


def set_account_disabled(*, session: Session, username: str, disabled: bool) -> None:
    """Disable or re-enable an account; the last active administrator cannot be disabled."""
    account = _require_account(session, username)
    last_admin = account.role == "admin" and _count_active_admins(session) <= 1
    if disabled and not account.is_disabled and last_admin:
        raise AccountError("This is the last active administrator; add another one first.")
    account.is_disabled = disabled
    session.add(account)


def authenticator_credentials(*, session: Session) -> dict[str, dict[str, dict[str, object]]]:
    """The credentials dictionary streamlit-authenticator expects, without disabled accounts."""
    users: dict[str, dict[str, object]] = {}
    for account in queries.list_accounts(session=session):
        if account.is_disabled:
            continue
        users[account.username] = {
            "email": account.email,
            "name": account.name,
            "password": account.password_hash,
            "roles": [account.role],
        }
    return {"usernames": users}


def get_signed_in_account(*, session: Session, username: str) -> SignedInAccount | None:
    """The enabled account for username, read fresh so a disabled account loses access at once."""
    account = queries.get_account_by_username(session=session, username=username)
    if account is None or account.is_disabled:
        return None
    return SignedInAccount(account.username, account.name, account.email, account.role)


def locked_until(*, session: Session, username: str) -> datetime | None:
    """Until when an account is locked after too many failed logins, or None."""
    account = queries.get_account_by_username(session=session, username=username)
    if account is None or account.locked_until is None or account.locked_until <= utcnow():
        return None
    return account.locked_until


def record_login(*, session: Session, username: str) -> None:
    """Remember a successful login; the count of failures starts again."""
    account = queries.get_account_by_username(session=session, username=username)
    if account is not None:
        account.last_login_at = utcnow()
        account.failed_logins, account.locked_until = 0, None
        session.add(account)


def record_failed_login(*, session: Session, username: str) -> datetime | None:
    """Count a wrong password; the fifth in a row locks the account for a while."""
    account = queries.get_account_by_username(session=session, username=username)
    if account is None:
        return None
    account.failed_logins += 1
    if account.failed_logins >= MAX_FAILED_LOGINS:
        account.locked_until = utcnow() + timedelta(minutes=LOCK_MINUTES)
        account.failed_logins = 0
    session.add(account)
    return account.locked_until


def resolve_cookie_key(*, session: Session, settings: Settings) -> str:
    """The configured cookie secret, or one generated once and kept in the database."""
    if settings.cookie_key:
        return settings.cookie_key
    stored = queries.get_setting(session=session, key=COOKIE_KEY_SETTING)
    if stored is None:
        stored = secrets.token_urlsafe(48)
        queries.set_setting(session=session, key=COOKIE_KEY_SETTING, value=stored)
        session.flush()
    check_cookie_key(stored)
    return stored
