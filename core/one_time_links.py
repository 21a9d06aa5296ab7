"""One-time links (an invitation's, a welcome mail's): a token made, kept only as its hash,
and checked for its expiry. Apart from accounts so that mail needs no password hashing."""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Literal

from core.issues import Refusal
from db.models import Account, utcnow


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


def check_one_time_link(
    expires_at: datetime | None,
    refusal: type[Refusal],
    *,
    holder: Literal["invitation", "activation"],
) -> None:
    """Whether a one-time link (an invitation's: holder "invitation", a welcome mail's:
    "activation") still works: refused when no holder was found (expires_at None) or late."""
    if expires_at is None:
        raise refusal.of("link-refused", f"{holder}-invalid")
    if expires_at < utcnow():
        raise refusal.of("link-refused", f"{holder}-expired")
