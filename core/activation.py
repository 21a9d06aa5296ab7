"""Imported users activate their account with the one-time link from the welcome email."""

import re

from sqlmodel import Session, select

from core.accounts import hash_password, token_hash
from core.i18n import N_
from core.issues import Explained
from db.models import User, utcnow

MIN_LENGTH = 10
_CLASSES = (re.compile(r"[a-z]"), re.compile(r"[A-Z]"), re.compile(r"\d"), re.compile(r"[^\w]"))


class ActivationError(Explained):
    """The link or password cannot be used; the message says what to do."""


def check_new_password(password: str, repeat: str) -> None:
    """Length and strength rules for a user's own password."""
    if password != repeat:
        raise ActivationError(N_("The two passwords differ; type the same password twice."))
    if len(password) < MIN_LENGTH:
        raise ActivationError(
            N_("Choose a password of at least {limit} characters."), limit=MIN_LENGTH
        )
    if len(password.encode()) > 72:
        raise ActivationError(N_("Choose a password of at most 72 bytes."))
    if sum(1 for pattern in _CLASSES if pattern.search(password)) < 3:
        raise ActivationError(
            N_("Mix at least three of: lower-case letters, capitals, digits and symbols.")
        )


def find_user_by_token(*, session: Session, token: str) -> User:
    """The user an activation link belongs to, if it is still valid."""
    user = session.exec(select(User).where(User.activation_token_hash == token_hash(token))).first()
    if user is None:
        raise ActivationError(
            N_(
                "This link is not valid or has already been used. If you have not "
                "set your password yet, ask your administrator for a new link."
            )
        )
    if user.activation_expires_at is None or user.activation_expires_at < utcnow():
        raise ActivationError(
            N_("This link has expired. Ask your administrator to send you a new welcome email.")
        )
    if user.status == "blocked":
        raise ActivationError(N_("This account is blocked. Contact your administrator."))
    if user.is_protected:
        raise ActivationError(
            N_(
                "This account is managed by your administrator and cannot be activated with a "
                "link. Contact your administrator."
            )
        )
    return user


def activate(*, session: Session, token: str, password: str, repeat: str) -> User:
    """Set the user's password and make the account active; the link then stops working."""
    user = find_user_by_token(session=session, token=token)
    check_new_password(password, repeat)
    user.password_hash = hash_password(password)
    user.status, user.activated_at, user.updated_at = "active", utcnow(), utcnow()
    user.activation_token_hash, user.activation_expires_at = None, None
    session.add(user)
    session.flush()
    return user
