"""Portal accounts: creation, passwords, and the credentials the login form checks."""

import hashlib
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import bcrypt
import jwt
from sqlmodel import Session

from core.i18n import LANGUAGES, N_
from core.issues import Explained
from core.vocabulary import AccountRole, values
from db import queries
from db.models import Account, utcnow

ROLES = values(AccountRole)
MIN_PASSWORD_LENGTH = 10
# bcrypt only looks at the first 72 bytes; a longer password would be silently truncated.
MAX_PASSWORD_BYTES = 72
USERNAME_PATTERN = re.compile(r"^[a-z0-9_.-]{2,50}$")
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
# One answer for an unknown name, a wrong password and a locked account alike.
LOGIN_REFUSED = N_(
    "The username or password is incorrect, or the account is locked for 15 minutes after "
    "five wrong passwords. Check both and try again, or ask an administrator to reset the "
    "password."
)


class AccountError(Explained):
    """An account change was refused; the message says why and what to do."""


@dataclass(frozen=True)
class SignedInAccount:
    """The account behind the current login, as the pages need it."""

    username: str
    name: str
    email: str
    role: str
    session_version: int = 0
    # The language the portal speaks to this account (nl or en).
    language: str = "nl"


def hash_password(password: str) -> str:
    """A bcrypt hash of password."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    """Whether password matches the bcrypt hash."""
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))
    except ValueError:
        return False


@cache
def _dummy_hash() -> str:
    """A hash to check against when there is no account to check, at the same cost."""
    return hash_password(secrets.token_urlsafe(16))


def token_hash(token: str) -> str:
    """One-time link tokens are stored only as this hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_invitation(account: Account, *, days: int) -> tuple[str, datetime]:
    """A new one-time token for account's password link, and when it expires.

    Only the token's hash is kept, so each new link makes the previous one stop working.
    """
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=days)
    account.invite_token_hash, account.invite_expires_at = token_hash(token), expires
    return token, expires


def check_password_strength(password: str) -> None:
    """Refuse passwords that are too short, too long for bcrypt, or one repeated character."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            N_("The password must be at least {limit} characters long."), limit=MIN_PASSWORD_LENGTH
        )
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise AccountError(
            N_("The password must be at most {limit} bytes long."), limit=MAX_PASSWORD_BYTES
        )
    if len(set(password)) < 4:
        raise AccountError(N_("The password needs at least 4 different characters."))


def create_account(
    *,
    session: Session,
    username: str,
    email: str,
    role: str,
    password: str | None,
    name: str = "",
    language: str = "nl",
) -> Account:
    """Add a portal account after checking every field; without a password it is invited."""
    # The login form lower-cases what is typed, so usernames are stored that way.
    username = username.strip().lower()
    email = email.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise AccountError(
            N_("The username must be 2-50 characters: letters, digits, dot, dash or underscore.")
        )
    if role not in ROLES:
        raise AccountError(N_("The role must be one of: {roles}."), roles=", ".join(ROLES))
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise AccountError(N_("Enter a valid email address, such as name@example.org."))
    if queries.get_account_by_username(session=session, username=username) is not None:
        raise AccountError(
            N_("An account named {username!r} already exists; choose another name."),
            username=username,
        )
    if password is not None:
        check_password_strength(password)
    account = Account(
        username=username,
        email=email,
        name=name.strip() or username,
        role=role,
        password_hash=hash_password(password) if password is not None else "",
        language=language if language in LANGUAGES else "nl",
    )
    session.add(account)
    session.flush()
    return account


def set_account_language(*, session: Session, username: str, language: str) -> None:
    """The language the portal speaks to an account from now on."""
    if language not in LANGUAGES:
        raise AccountError(
            N_("The language must be one of: {languages}."), languages=", ".join(LANGUAGES)
        )
    account = load_account(session, username)
    account.language = language
    session.add(account)


def load_account(session: Session, username: str) -> Account:
    """The account named username, or a refusal that says there is none."""
    account = queries.get_account_by_username(session=session, username=username)
    if account is None:
        raise AccountError(N_("There is no account named {username!r}."), username=username)
    return account


def _count_active_admins(session: Session) -> int:
    return sum(
        1 for a in queries.list_accounts(session=session) if a.role == "admin" and not a.is_disabled
    )


def reset_password(*, session: Session, username: str, password: str) -> None:
    """Give an account a new password."""
    account = load_account(session, username)
    check_password_strength(password)
    _set_password(account, password)
    session.add(account)


def _set_password(account: Account, password: str) -> None:
    """The new password; the lock, any open password link and every login before it end."""
    account.password_hash = hash_password(password)
    account.failed_logins, account.locked_until = 0, None
    account.invite_token_hash, account.invite_expires_at = None, None
    account.session_version += 1


def find_account_by_invitation(*, session: Session, token: str) -> Account:
    """The account a password link belongs to, while the link still works."""
    account = queries.get_account_by_invitation(session=session, token_hash=token_hash(token))
    if account is None:
        raise AccountError(
            N_(
                "This link is not valid or has already been used. Ask an administrator of the "
                "portal to send you a new one."
            )
        )
    if account.invite_expires_at is None or account.invite_expires_at < utcnow():
        raise AccountError(
            N_("This link has expired. Ask an administrator of the portal to send you a new one.")
        )
    if account.is_disabled:
        raise AccountError(N_("This account is disabled. Ask an administrator of the portal."))
    return account


def accept_invitation(*, session: Session, token: str, password: str, repeat: str) -> Account:
    """Set the password an invited account chose; the link then stops working."""
    account = find_account_by_invitation(session=session, token=token)
    if password != repeat:
        raise AccountError(N_("The two passwords differ; type the same password twice."))
    check_password_strength(password)
    _set_password(account, password)
    session.add(account)
    session.flush()
    return account


def set_account_disabled(*, session: Session, username: str, disabled: bool) -> None:
    """Disable or re-enable an account; the last active administrator cannot be disabled."""
    account = load_account(session, username)
    last_admin = account.role == "admin" and _count_active_admins(session) <= 1
    if disabled and not account.is_disabled and last_admin:
        raise AccountError(N_("This is the last active administrator; add another one first."))
    account.is_disabled = disabled
    if disabled:
        account.session_version += 1
    session.add(account)


def end_sessions(*, session: Session, username: str) -> None:
    """Log an account out everywhere: every login cookie issued so far stops working."""
    account = queries.get_account_by_username(session=session, username=username)
    if account is not None:
        account.session_version += 1
        session.add(account)


def _signed_in(account: Account) -> SignedInAccount:
    return SignedInAccount(
        account.username,
        account.name,
        account.email,
        account.role,
        account.session_version,
        account.language,
    )


def get_signed_in_account(*, session: Session, username: str) -> SignedInAccount | None:
    """The enabled account for username, read fresh so a disabled account loses access at once."""
    account = queries.get_account_by_username(session=session, username=username)
    if account is None or account.is_disabled:
        return None
    return _signed_in(account)


def authenticate(*, session: Session, username: str, password: str) -> SignedInAccount | None:
    """The account when the password is right and the account may log in; else None.

    Every attempt checks one bcrypt hash, so an unknown name, a wrong password and a locked
    account take the same time; a locked account's password is not checked at all.
    """
    account = queries.get_account_by_username(session=session, username=username.strip().lower())
    usable = (
        account is not None
        and not account.is_disabled
        and (account.locked_until is None or account.locked_until <= utcnow())
    )
    # An invited account without a password yet costs the same bcrypt check as any other.
    stored = account.password_hash if account is not None and usable else ""
    stored = stored or _dummy_hash()
    matches = verify_password(password, stored)
    if account is None or not usable:
        return None
    if matches:
        account.last_login_at = utcnow()
        account.failed_logins, account.locked_until = 0, None
    else:
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILED_LOGINS:
            account.locked_until = utcnow() + timedelta(minutes=LOCK_MINUTES)
            account.failed_logins = 0
    session.add(account)
    return _signed_in(account) if matches else None


def locked_until(*, session: Session, username: str) -> datetime | None:
    """Until when an account is locked after too many failed logins, or None."""
    account = queries.get_account_by_username(session=session, username=username)
    if account is None or account.locked_until is None or account.locked_until <= utcnow():
        return None
    return account.locked_until


def issue_session_token(account: SignedInAccount, *, key: str, days: float) -> str:
    """A signed login cookie value that names the account and its session version."""
    now = int(time.time())
    claims = {"sub": account.username, "ver": account.session_version, "iat": now}
    return jwt.encode(claims | {"exp": now + int(days * 86400)}, key, algorithm="HS256")


def read_session_token(token: str, *, key: str) -> tuple[str, int] | None:
    """(username, session version) from a login cookie, or None if forged or expired."""
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.PyJWTError:
        return None
    if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("ver"), int):
        return None
    return claims["sub"], claims["ver"]


class LoginRateLimit:
    """At most `per_client` login attempts a minute from one address, `overall` from all."""

    def __init__(self, per_client: int = 10, overall: int = 60, window: float = 60.0) -> None:
        self.per_client, self.overall, self.window = per_client, overall, window
        self._attempts: deque[tuple[float, str]] = deque()
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> bool:
        """Count an attempt from client; False when a limit is reached (nothing is counted)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._attempts and self._attempts[0][0] <= now - self.window:
                self._attempts.popleft()
            mine = sum(1 for _, who in self._attempts if who == client)
            if len(self._attempts) >= self.overall or mine >= self.per_client:
                return False
            self._attempts.append((now, client))
            return True
