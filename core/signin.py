"""Sign-in through the organisation's identity provider (OpenID Connect): which portal
account an identity opens, linked by the provider's stable claims, never by email alone."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from core.accounts import AccountError, SignedInAccount, get_signed_in_account
from core.config import Settings
from core.i18n import N_, gettext
from db import queries
from db.engine import session_scope
from db.models import AppSetting, LoginEvent, utcnow

# One answer for every refusal: an unknown identity, another tenant or domain, a disabled
# account; the reason is for the server's log, not for whoever tries.
SIGNIN_REFUSED = N_(
    "This account cannot sign in to Instroom. Ask an administrator to invite you with this "
    "address, or sign in with the account you were invited with."
)
# The provider names Streamlit's [auth] sections use, and how their button says it.
PROVIDER_WORDS = {"microsoft": N_("Sign in with Microsoft"), "google": N_("Sign in with Google")}
OTHER_PROVIDER = N_("Sign in with {provider}")


LOCAL_PASSWORDS_KEY = "signin.local_passwords"
LOG_DAYS = 90
LOG_RETENTION = timedelta(days=LOG_DAYS)
PROVIDER_KINDS = {"microsoft": "Microsoft Entra ID", "google": "Google Workspace"}


def local_passwords_allowed(*, session: Session) -> bool:
    """Whether the login page offers the username and password form (it does by default)."""
    stored = queries.find_setting(session=session, key=LOCAL_PASSWORDS_KEY)
    return stored is None or stored.value != "off"


def set_local_passwords(*, session: Session, allowed: bool, providers: Sequence[str]) -> None:
    """Offer or withdraw local passwords; withdrawn only while a provider can sign people in."""
    if not allowed and not providers:
        raise AccountError.of("account-refused", "no-provider")
    stored = queries.find_setting(session=session, key=LOCAL_PASSWORDS_KEY) or AppSetting(
        key=LOCAL_PASSWORDS_KEY, value=""
    )
    stored.value = "on" if allowed else "off"
    session.add(stored)


def record_attempt(
    *, session: Session, username: str, method: str, signed_in: bool, address: str
) -> None:
    """Keep one sign-in attempt in the login log, whatever its outcome (written with the
    answer's own record, so it is as brief as the login)."""
    queries.add_login_event(
        session=session,
        event=LoginEvent(
            username=username[:100],
            method=method[:50],
            signed_in=signed_in,
            address=str(address)[:100],
        ),
    )


def forget_old_attempts(*, engine: Engine) -> None:
    """Attempts older than LOG_DAYS go (the worker's housekeeping), so a flood of guesses
    cannot grow the log without end."""
    with session_scope(engine) as session:
        queries.delete_login_events_before(session=session, moment=utcnow() - LOG_RETENTION)


def list_attempts(*, session: Session, language: str, limit: int = 50) -> list[dict[str, Any]]:
    """The latest sign-in attempts, newest first, in the reader's words (Settings > Sign-in)."""
    yes, no = gettext(N_("yes"), language), gettext(N_("no"), language)
    return [
        {
            N_("When"): e.at,
            N_("Username"): e.username,
            N_("How"): gettext(N_("password"), language)
            if e.method == "password"
            else PROVIDER_KINDS.get(e.method, e.method),
            N_("Signed in"): yes if e.signed_in else no,
            N_("Address"): e.address,
        }
        for e in queries.list_login_events(session=session, limit=limit)
    ]


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: the key an account is linked by, and whether the
    address it gives may link an invited account (verified, of the allowed tenant/domain)."""

    key: str
    email: str | None
    may_link: bool


def identity_of(provider: str, claims: Mapping[str, Any], settings: Settings) -> Identity | None:
    """The identity in an ID token's claims; None when the stable claims are missing."""
    email = str(claims.get("email") or "").strip().lower() or None
    verified = claims.get("email_verified") in (True, "true", "True")
    if provider == "microsoft":
        tid, oid = claims.get("tid"), claims.get("oid")
        if not (tid and oid):
            return None
        # Entra ID's email claim is the tenant's own: trusted when the tenant is the allowed one
        # and the person is a member of it, not a guest from elsewhere (whose token names
        # their home provider in idp, and whose address their home tenant chose).
        member = not claims.get("idp") or claims.get("idp") == claims.get("iss")
        allowed = member and settings.signin_tenant is not None and tid == settings.signin_tenant
        return Identity(f"entra:{tid}:{oid}", email, allowed)
    sub = claims.get("sub")
    if not sub:
        return None
    if provider == "google":
        domain = settings.signin_domain
        allowed = verified and domain is not None and claims.get("hd") == domain
        return Identity(f"google:{claims.get('hd') or ''}:{sub}", email, allowed)
    issuer = claims.get("iss")
    if not issuer:
        return None
    return Identity(f"{issuer}|{sub}", email, verified)


def sign_in_with_identity(*, session: Session, identity: Identity) -> SignedInAccount | None:
    """The account the identity opens: the one linked to it, or an invited account of its
    verified address, linked now; None for anyone else (SIGNIN_REFUSED)."""
    account = queries.get_account_by_identity(session=session, identity=identity.key)
    if account is None and identity.may_link and identity.email:
        invited = queries.get_account_by_email(session=session, email=identity.email)
        # Only an invitation still waiting: an account with a password, or linked to another
        # identity, is never taken over by an address.
        if (
            invited is not None
            and invited.identity is None
            and not invited.password_hash
            and invited.invite_expires_at is not None
            and invited.invite_expires_at > utcnow()
        ):
            account = invited
            account.identity = identity.key
            account.invite_token_hash, account.invite_expires_at = None, None
    if account is None or account.is_disabled:
        return None
    account.last_login_at = utcnow()
    session.add(account)
    session.flush()
    return get_signed_in_account(session=session, username=account.username)
