"""Imported users activate their account with the one-time link from the welcome email."""

from collections.abc import Sequence

from sqlmodel import Session, select

from core.accounts import PASSWORD_REFUSALS, hash_password, token_hash
from core.i18n import N_
from core.issues import Explained
from core.passwords import MIN_PASSWORD_LENGTH, password_problem
from db.models import User, utcnow


class ActivationError(Explained):
    """The link or password cannot be used; the message says what to do."""


def check_new_password(password: str, repeat: str, personal: Sequence[str] = ()) -> None:
    """The one password rule (core.passwords), the same as for portal accounts."""
    if password != repeat:
        raise ActivationError(N_("The two passwords differ; type the same password twice."))
    problem = password_problem(password, personal)
    if problem is not None:
        raise ActivationError(PASSWORD_REFUSALS[problem], limit=MIN_PASSWORD_LENGTH)


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
    personal = (user.email, user.username or "", user.first_name, user.last_name)
    check_new_password(password, repeat, personal)
    user.password_hash = hash_password(password)
    user.status, user.activated_at, user.updated_at = "active", utcnow(), utcnow()
    user.activation_token_hash, user.activation_expires_at = None, None
    session.add(user)
    session.flush()
    return user
