"""Portal accounts: creation, passwords, and the credentials the login form checks."""

import ipaddress
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import bcrypt
import jwt
from sqlmodel import Session

from core.emails import check_email
from core.i18n import LANGUAGES, N_
from core.issues import Refusal
from core.one_time_links import check_one_time_link, token_hash
from core.passwords import MIN_PASSWORD_LENGTH, password_problem
from db import queries
from db.models import Account, utcnow
from db.vocabulary import AccountRole, values

ROLES = values(AccountRole)
USERNAME_PATTERN = re.compile(r"^[a-z0-9_.-]{2,50}$")
# Short on purpose: anyone can type wrong passwords for someone else's account, and the
# lock must not keep its owner out for long (the rate limit below bounds the guessing).
MAX_FAILED_LOGINS = 10
LOCK_MINUTES = 5
# One answer for an unknown name, a wrong password and a locked account alike.
LOGIN_REFUSED = N_(
    "The username or password is incorrect, or the account is locked for 5 minutes after "
    "ten wrong passwords. Check both and try again, or ask an administrator to reset the "
    "password."
)


class AccountError(Refusal):
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


def check_password_strength(
    password: str, personal: Sequence[str] = (), refusal: type[Refusal] | None = None
) -> None:
    """Refuse a password the one rule refuses (personal: the person's names and address)."""
    problem = password_problem(password, personal)
    if problem is not None:
        raise (refusal or AccountError).of("password-refused", problem, limit=MIN_PASSWORD_LENGTH)


def check_chosen_password(
    password: str, repeat: str, personal: Sequence[str], refusal: type[Refusal]
) -> None:
    """A password chosen with a one-time link: typed the same twice, and allowed by the rule."""
    if password != repeat:
        raise refusal.of("password-refused", "differ")
    check_password_strength(password, personal, refusal)


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
    email = checked_email(email)
    if not USERNAME_PATTERN.match(username):
        raise AccountError.of("account-refused", "username")
    if role not in ROLES:
        raise AccountError.of("account-refused", "role", roles=", ".join(ROLES))
    if queries.get_account_by_username(session=session, username=username) is not None:
        raise AccountError.of("account-refused", "username-taken", username=username)
    if password is not None:
        check_password_strength(password, (username, name, email))
    account = Account(
        username=username,
        email=email,
        name=name.strip() or username,
        role=AccountRole(role),
        password_hash=hash_password(password) if password is not None else "",
        language=language if language in LANGUAGES else "nl",
    )
    session.add(account)
    session.flush()
    return account


def checked_email(value: str) -> str:
    """One address as the import checks it, normalised; AccountError when it is not one."""
    address, problem = check_email(value)
    if problem is not None:
        raise AccountError.of("account-refused", "email", value=value.strip())
    return address


def set_account_language(*, session: Session, username: str, language: str) -> None:
    """The language the portal speaks to an account from now on."""
    if language not in LANGUAGES:
        raise AccountError.of("account-refused", "language", languages=", ".join(LANGUAGES))
    account = load_account(session, username)
    account.language = language
    session.add(account)


def load_account(session: Session, username: str) -> Account:
    """The account named username, or a refusal that says there is none."""
    account = queries.get_account_by_username(session=session, username=username)
    if account is None:
        raise AccountError.of("account-refused", "unknown-account", username=username)
    return account


def _count_active_admins(session: Session) -> int:
    return sum(
        1
        for a in queries.list_accounts(session=session)
        if a.role == AccountRole.ADMIN and not a.is_disabled
    )


def reset_password(*, session: Session, username: str, password: str) -> None:
    """Give an account a new password."""
    account = load_account(session, username)
    check_password_strength(password, _personal(account))
    _set_password(account, password)
    session.add(account)


def _personal(account: Account) -> tuple[str, str, str]:
    return account.username, account.name, account.email


def _set_password(account: Account, password: str) -> None:
    """The new password; the lock, any open password link and every login before it end."""
    account.password_hash = hash_password(password)
    account.failed_logins, account.locked_until = 0, None
    account.invite_token_hash, account.invite_expires_at = None, None
    account.session_version += 1


def find_account_by_invitation(*, session: Session, token: str) -> Account:
    """The account a password link belongs to, while the link still works."""
    account = queries.get_account_by_invitation(session=session, token_hash=token_hash(token))
    check_one_time_link(
        account.invite_expires_at if account else None, AccountError, holder="invitation"
    )
    assert account is not None  # found, or refused above
    if account.is_disabled:
        raise AccountError.of("account-refused", "disabled")
    return account


def accept_invitation(*, session: Session, token: str, password: str, repeat: str) -> Account:
    """Set the password an invited account chose; the link then stops working."""
    account = find_account_by_invitation(session=session, token=token)
    check_chosen_password(password, repeat, _personal(account), AccountError)
    _set_password(account, password)
    session.add(account)
    session.flush()
    return account


def set_account_disabled(*, session: Session, username: str, disabled: bool) -> None:
    """Disable or re-enable an account; the last active administrator cannot be disabled."""
    account = load_account(session, username)
    last_admin = account.role == AccountRole.ADMIN and _count_active_admins(session) <= 1
    if disabled and not account.is_disabled and last_admin:
        raise AccountError.of("account-refused", "last-admin")
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


def read_session_token(
    token: str, *, key: str, days: float, now: float | None = None
) -> tuple[str, int] | None:
    """(username, session version) from a login cookie, or None if forged or expired.

    A login lasts `days` from when it was issued, whatever its own `exp` says: a cookie
    forged with a leaked key and a ten-year expiry still ends.
    """
    now = time.time() if now is None else now
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], options={"require": ["exp", "iat"]})
    except jwt.PyJWTError:
        return None
    issued = claims.get("iat")
    if not isinstance(issued, int) or not now - days * 86400 <= issued <= now + 60:
        return None
    if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("ver"), int):
        return None
    return claims["sub"], claims["ver"]


def client_address(
    peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[str]
) -> str:
    """The address a login attempt comes from, believing X-Forwarded-For only from a proxy
    the owner named.

    Streamlit's server (uvicorn) already puts the header's address in place of a loopback
    peer, and Streamlit shows a loopback peer as None: an address that stands in the header
    means the real peer was this machine.
    """
    chain = [hop.strip() for hop in (forwarded_for or "").split(",") if hop.strip()]
    real_peer = "127.0.0.1" if peer is None or peer in chain else peer
    if not chain or not _is_trusted(real_peer, trusted_proxies):
        return real_peer
    for hop in reversed(chain):
        if not _is_trusted(hop, trusted_proxies):
            return hop
    return chain[0]


def _is_trusted(address: str, trusted_proxies: Sequence[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for proxy in trusted_proxies:
        try:
            if ip in ipaddress.ip_network(proxy, strict=False):
                return True
        except ValueError:
            continue
    return False


class LoginRateLimit:
    """Login attempts a minute: per address and account, per account, and how many different
    accounts one address tries. One person's typos never lock out anyone else, not even
    behind a shared address, and guessing at one account from many addresses is bounded."""

    def __init__(
        self,
        per_pair: int = 15,
        per_account: int = 30,
        accounts_per_client: int = 20,
        window: float = 60.0,
    ) -> None:
        self.per_pair, self.per_account = per_pair, per_account
        self.accounts_per_client, self.window = accounts_per_client, window
        self._attempts: deque[tuple[float, str, str]] = deque()
        self._lock = threading.Lock()

    def allow(self, client: str, account: str, now: float | None = None) -> bool:
        """Count an attempt of client at account; False when a limit is reached."""
        now = time.monotonic() if now is None else now
        account = account.strip().lower()
        with self._lock:
            while self._attempts and self._attempts[0][0] <= now - self.window:
                self._attempts.popleft()
            pair = sum(1 for _, c, a in self._attempts if c == client and a == account)
            on_account = sum(1 for _, _, a in self._attempts if a == account)
            tried = {a for _, c, a in self._attempts if c == client}
            if (
                pair >= self.per_pair
                or on_account >= self.per_account
                or (account not in tried and len(tried) >= self.accounts_per_client)
            ):
                return False
            self._attempts.append((now, client, account))
            return True
