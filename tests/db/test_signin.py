"""Which portal account an identity provider's sign-in opens: by stable claims, never by
email alone; an invitation is linked once, from the allowed tenant or domain."""

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from core import accounts
from core.config import Settings
from core.signin import (
    forget_old_attempts,
    identity_of,
    list_attempts,
    record_attempt,
    sign_in_with_identity,
)
from db.models import Account, LoginEvent, utcnow

SETTINGS = Settings(database_url="sqlite://", signin_tenant="tenant-1", signin_domain="vb.nl")


def add(engine: Engine, username: str, email: str, *, invited: bool = True) -> None:
    with Session(engine) as session:
        accounts.create_account(
            session=session,
            username=username,
            email=email,
            role="support",
            password=None if invited else "een lang wachtwoord voor haar",
        )
        account = session.exec(select(Account).where(Account.username == username)).one()
        if invited:
            account.invite_token_hash = "h" * 64
            account.invite_expires_at = utcnow() + timedelta(days=7)
        session.add(account)
        session.commit()


def opens(engine: Engine, provider: str, **claims: object) -> str | None:
    identity = identity_of(provider, claims, SETTINGS)
    with Session(engine) as session:
        account = sign_in_with_identity(session=session, identity=identity) if identity else None
        session.commit()
    return account.username if account else None


def test_an_invitation_is_linked_once_by_tenant_and_object_id(engine: Engine) -> None:
    add(engine, "sanne", "sanne@contoso.nl")
    entra = {"tid": "tenant-1", "oid": "o-1", "email": "Sanne@Contoso.nl"}
    assert opens(engine, "microsoft", **entra) == "sanne"
    # Linked: the address may change; another object id with her address opens nothing.
    assert opens(engine, "microsoft", **entra | {"email": "s.devries@contoso.nl"}) == "sanne"
    assert opens(engine, "microsoft", **entra | {"oid": "o-2"}) is None
    with Session(engine) as session:
        sanne = session.exec(select(Account).where(Account.username == "sanne")).one()
    assert sanne.identity == "entra:tenant-1:o-1" and sanne.invite_token_hash is None


def test_what_never_links(engine: Engine) -> None:
    add(engine, "piet", "piet@contoso.nl")
    add(engine, "anna", "anna@contoso.nl", invited=False)
    add(engine, "mo", "mo@vb.nl")
    # Another tenant; an account that has a password (not taken over by its address);
    # a missing object id; Google without the domain or without a verified address.
    assert opens(engine, "microsoft", tid="tenant-2", oid="o-9", email="piet@contoso.nl") is None
    assert opens(engine, "microsoft", tid="tenant-1", oid="o-8", email="anna@contoso.nl") is None
    assert opens(engine, "microsoft", tid="tenant-1", email="piet@contoso.nl") is None
    # A guest in the tenant: its address was chosen by another tenant.
    guest = {"tid": "tenant-1", "oid": "o-7", "email": "piet@contoso.nl"}
    guest |= {"iss": "https://login.microsoftonline.com/tenant-1/v2.0", "idp": "https://sts.x/"}
    assert opens(engine, "microsoft", **guest) is None
    google = {"sub": "g-1", "email": "mo@vb.nl", "email_verified": True}
    assert opens(engine, "google", **google | {"hd": "gmail.com"}) is None
    assert opens(engine, "google", **google | {"hd": "vb.nl", "email_verified": False}) is None
    assert opens(engine, "google", **google | {"hd": "vb.nl"}) == "mo"
    # Linked by subject and domain: the same subject under another domain opens nothing.
    with Session(engine) as session:
        mo = session.exec(select(Account).where(Account.username == "mo")).one()
    assert mo.identity == "google:vb.nl:g-1"
    assert opens(engine, "google", **google | {"hd": "other.nl"}) is None


def test_an_expired_invitation_or_a_disabled_account_opens_nothing(engine: Engine) -> None:
    add(engine, "lex", "lex@contoso.nl")
    add(engine, "kim", "kim@contoso.nl")
    with Session(engine) as session:
        lex = session.exec(select(Account).where(Account.username == "lex")).one()
        lex.invite_expires_at = utcnow() - timedelta(minutes=1)
        session.add(lex)
        session.commit()
    assert opens(engine, "microsoft", tid="tenant-1", oid="o-lex", email="lex@contoso.nl") is None
    kim = {"tid": "tenant-1", "oid": "o-kim", "email": "kim@contoso.nl"}
    assert opens(engine, "microsoft", **kim) == "kim"
    with Session(engine) as session:
        accounts.set_account_disabled(session=session, username="kim", disabled=True)
        session.commit()
    assert opens(engine, "microsoft", **kim) is None
    # Any other provider: its issuer and subject, with a verified address for the first time.
    add(engine, "joy", "joy@example.org")
    other = {"iss": "https://id.example.org", "sub": "42", "email": "joy@example.org"}
    assert opens(engine, "keycloak", **other) is None
    assert opens(engine, "keycloak", **other | {"email_verified": True}) == "joy"


def test_the_login_log_keeps_ninety_days(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(
            LoginEvent(
                at=utcnow() - timedelta(days=91), username="oud", method="password", signed_in=False
            )
        )
        session.commit()
        record_attempt(
            session=session, username="nieuw", method="microsoft", signed_in=True, address="::1"
        )
        session.commit()
    # The worker's housekeeping forgets what is older than ninety days.
    forget_old_attempts(engine=engine)
    with Session(engine) as session:
        rows = list_attempts(session=session, language="nl")
    assert [(r["Username"], r["How"], r["Signed in"]) for r in rows] == [
        ("nieuw", "Microsoft Entra ID", "ja")
    ]
