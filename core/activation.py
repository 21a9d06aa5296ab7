"""Imported users activate their account with the one-time link from the welcome email."""

from sqlmodel import Session

from core.accounts import check_chosen_password, hash_password
from core.issues import Refusal
from core.one_time_links import check_one_time_link, token_hash
from db import queries
from db.models import User, utcnow
from db.vocabulary import UserStatus


class ActivationError(Refusal):
    """The link or password cannot be used; the message says what to do."""


def find_user_by_token(*, session: Session, token: str) -> User:
    """The user an activation link belongs to, if it is still valid."""
    user = queries.get_user_by_activation(session=session, token_hash=token_hash(token))
    check_one_time_link(
        user.activation_expires_at if user else None, ActivationError, holder="activation"
    )
    assert user is not None  # found, or refused above
    if user.status == UserStatus.BLOCKED:
        raise ActivationError.of("activation-refused", "blocked")
    if user.is_protected:
        raise ActivationError.of("activation-refused", "protected")
    return user


def activate(*, session: Session, token: str, password: str, repeat: str) -> User:
    """Set the user's password and make the account active; the link then stops working."""
    user = find_user_by_token(session=session, token=token)
    personal = (user.email, user.username or "", user.first_name, user.last_name)
    check_chosen_password(password, repeat, personal, ActivationError)
    user.password_hash = hash_password(password)
    user.status, user.activated_at, user.updated_at = UserStatus.ACTIVE, utcnow(), utcnow()
    user.activation_token_hash, user.activation_expires_at = None, None
    session.add(user)
    session.flush()
    return user
