"""Portal accounts and the Settings catalogue, against a real database."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from core import accounts, catalog
from core.accounts import AccountError
from core.catalog import CatalogError
from db import queries
from db.models import Account, Group, User, UserGroup, utcnow


def add_admin(session: Session, username: str = "beheer") -> Account:
    return accounts.create_account(
        session=session,
        username=username,
        email="Beheer@Example.org",
        role="admin",
        password="correct horse battery",
    )


def test_account_password_is_stored_only_as_bcrypt(session: Session) -> None:
    add_admin(session)
    session.commit()
    stored = session.exec(select(Account)).one()
    assert stored.email == "beheer@example.org"
    assert stored.password_hash.startswith("$2")
    assert "correct horse" not in stored.password_hash
    assert accounts.verify_password("correct horse battery", stored.password_hash)
    assert not accounts.verify_password("wrong", stored.password_hash)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"username": "x"}, "2-50 characters"),
        ({"role": "root"}, "admin, support"),
        ({"email": "no-at-sign"}, "valid email"),
        ({"password": "short"}, "at least 10"),
        ({"password": "aaaaaaaaaaaa"}, "too easy to guess"),
        ({"password": "qwertyuiop12"}, "too easy to guess"),
        ({"password": "mijn-Support1-sleutel"}, "contains your name, username or email"),
        ({"password": "ü" * 40}, "at most 72 bytes"),
    ],
)
def test_invalid_accounts_are_refused(session: Session, kwargs: dict, message: str) -> None:
    values = {
        "username": "support1",
        "email": "s@example.org",
        "role": "support",
        "password": "a fine password",
    } | kwargs
    with pytest.raises(AccountError, match=message):
        accounts.create_account(session=session, **values)


def test_duplicate_username_and_last_admin_are_refused(session: Session) -> None:
    add_admin(session)
    with pytest.raises(AccountError, match="already exists"):
        add_admin(session)
    with pytest.raises(AccountError, match="last active administrator"):
        accounts.set_account_disabled(session=session, username="beheer", disabled=True)
    add_admin(session, "tweede")
    accounts.set_account_disabled(session=session, username="beheer", disabled=True)
    password = "correct horse battery"
    assert accounts.authenticate(session=session, username="beheer", password=password) is None
    assert accounts.get_signed_in_account(session=session, username="beheer") is None
    assert accounts.authenticate(session=session, username="tweede", password=password)


def test_every_login_answer_checks_exactly_one_hash(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unknown name, wrong password, locked account, right password: one bcrypt check each,
    so the time taken does not tell them apart; a locked account's own hash is never tried."""
    admin = add_admin(session)
    checked: list[str] = []
    real = accounts.verify_password
    monkeypatch.setattr(accounts, "verify_password", lambda pw, h: checked.append(h) or real(pw, h))
    assert accounts.authenticate(session=session, username="niemand", password="x" * 12) is None
    wrong = accounts.MAX_FAILED_LOGINS
    for _ in range(wrong):
        accounts.authenticate(session=session, username="beheer", password="wrong password")
    assert admin.locked_until is not None
    right = "correct horse battery"
    assert accounts.authenticate(session=session, username="beheer", password=right) is None
    assert len(checked) == wrong + 2
    assert checked[0] == checked[-1] != admin.password_hash  # the dummy, for unknown and locked
    assert checked[1:-1] == [admin.password_hash] * wrong


def test_sessions_end_on_logout_reset_and_disable(session: Session) -> None:
    add_admin(session)
    add_admin(session, "tweede")
    key = "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789"
    versions = []
    for end in (
        lambda: accounts.end_sessions(session=session, username="beheer"),
        lambda: accounts.reset_password(session=session, username="beheer", password="nieuw 12345"),
        lambda: accounts.set_account_disabled(session=session, username="beheer", disabled=True),
    ):
        signed_in = accounts.get_signed_in_account(session=session, username="beheer")
        token = accounts.issue_session_token(signed_in, key=key, days=1)
        claim = accounts.read_session_token(token, key=key, days=1)
        assert claim == ("beheer", signed_in.session_version)
        end()
        now = accounts.get_signed_in_account(session=session, username="beheer")
        versions.append(now.session_version if now else None)
        assert now is None or now.session_version != signed_in.session_version
    assert versions == [1, 2, None]
    assert accounts.read_session_token(token, key="another " + key, days=1) is None
    expired = accounts.issue_session_token(signed_in, key=key, days=-1)
    assert accounts.read_session_token(expired, key=key, days=1) is None


def test_one_address_guessing_locks_out_nobody_else() -> None:
    limit = accounts.LoginRateLimit(per_pair=3, per_account=5, accounts_per_client=3, window=60)
    # Everyone behind one proxy shares its address: one person's typos are theirs alone.
    assert [limit.allow("127.0.0.1", "jan", now=t) for t in range(4)] == [True] * 3 + [False]
    assert limit.allow("127.0.0.1", "beheer", now=5)
    # Spraying names from one address stops at the third new account.
    assert [limit.allow("10.0.0.9", name, now=6) for name in "abcd"] == [True] * 3 + [False]
    # Guessing at one account from many addresses is bounded too, for a minute only.
    assert [limit.allow(f"10.1.0.{i}", "piet", now=7) for i in range(6)] == [True] * 5 + [False]
    assert limit.allow("10.1.0.9", "piet", now=68)


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        # A spoofed header sent straight to the portal: uvicorn believed it, we do not.
        ("6.6.6.6", "6.6.6.6", (), "127.0.0.1"),
        ("10.0.0.15", "1.2.3.4, 10.0.0.15", (), "127.0.0.1"),
        (None, None, (), "127.0.0.1"),
        ("203.0.113.9", None, ("127.0.0.1",), "203.0.113.9"),
        # Behind a proxy the owner named, the address the proxy saw.
        ("198.51.100.7", "198.51.100.7", ("127.0.0.1",), "198.51.100.7"),
        (
            "10.0.0.2",
            "9.9.9.9, 198.51.100.7, 10.0.0.2",
            ("127.0.0.0/8", "10.0.0.0/8"),
            "198.51.100.7",
        ),
        # A proxy that is not named is the client itself.
        ("192.0.2.1", "8.8.8.8", ("127.0.0.1",), "192.0.2.1"),
    ],
)
def test_forwarded_addresses_count_only_from_named_proxies(
    peer: str | None, forwarded: str | None, trusted: tuple[str, ...], client: str
) -> None:
    assert accounts.client_address(peer, forwarded, trusted) == client


def test_groups_add_rename_and_delete_with_confirmation(session: Session) -> None:
    group = catalog.add_named(session=session, kind_name="group", name="  Sales  team ")
    assert group.name == "Sales team"
    with pytest.raises(CatalogError, match="already exists"):
        catalog.add_named(session=session, kind_name="group", name="sales TEAM")
    with pytest.raises(CatalogError, match="cannot contain '~'"):
        catalog.add_named(session=session, kind_name="group", name="A~B")
    user = User(email="jan@example.org", first_name="Jan", last_name="Jansen")
    session.add(user)
    session.flush()
    session.add(UserGroup(user_id=user.id, group_id=group.id))
    session.flush()
    catalog.rename_named(session=session, kind_name="group", entry_id=group.id, new_name="Verkoop")
    with pytest.raises(CatalogError, match=r"Users have the group .Verkoop. \(1\)"):
        catalog.delete_named(session=session, kind_name="group", entry_id=group.id)
    assert (
        catalog.delete_named(session=session, kind_name="group", entry_id=group.id, force=True) == 1
    )
    session.commit()
    assert [g.name for g in session.exec(select(Group))] == ["Iedereen"]
    assert session.exec(select(UserGroup)).all() == []


def test_renaming_a_role_renames_it_for_its_users(session: Session) -> None:
    role = next(r for r in queries.list_roles(session=session) if r.name == "member")
    session.add(User(email="a@example.org", role="member"))
    session.flush()
    catalog.rename_named(session=session, kind_name="role", entry_id=role.id, new_name="lid")
    assert queries.get_user_by_email(session=session, email="a@example.org").role == "lid"
    catalog.delete_named(session=session, kind_name="role", entry_id=role.id, force=True)
    assert queries.get_user_by_email(session=session, email="a@example.org").role is None


def test_profile_fields_and_taxonomies(session: Session) -> None:
    with pytest.raises(CatalogError, match="built-in field"):
        catalog.add_profile_field(session=session, key="email", label="Email")
    with pytest.raises(CatalogError, match="starts with a letter"):
        catalog.add_profile_field(session=session, key="Cost Center", label="Cost center")
    with pytest.raises(CatalogError, match="needs a taxonomy"):
        catalog.add_profile_field(session=session, key="site", label="Site", type="taxonomy")
    taxonomy = catalog.add_named(session=session, kind_name="taxonomy", name="Locations")
    catalog.add_term(session=session, taxonomy_id=taxonomy.id, name="Utrecht")
    delft = catalog.add_term(session=session, taxonomy_id=taxonomy.id, name="Delft")
    catalog.delete_term(session=session, term_id=delft.id)
    names = [t.name for t in queries.list_terms(session=session, taxonomy_id=taxonomy.id)]
    assert names == ["Utrecht"]
    with pytest.raises(CatalogError, match="already exists"):
        catalog.add_term(session=session, taxonomy_id=taxonomy.id, name="utrecht")
    field = catalog.add_profile_field(
        session=session, key="site", label="Site", type="taxonomy", taxonomy_id=taxonomy.id
    )
    assert (field.type, field.taxonomy_id, field.importable) == ("taxonomy", taxonomy.id, True)
    with pytest.raises(CatalogError, match="Another field already has the label 'Woonplaats'"):
        catalog.add_profile_field(session=session, key="residence", label="woonplaats")
    # Without a key, one is made from the label, free of built-in and existing keys.
    made = [
        catalog.add_profile_field(session=session, label=label).key
        for label in ("Kostenplaats", "Ingangsdatum contract", "E-mail", "Email (privé)", "1e dag")
    ]
    assert made == ["kostenplaats", "ingangsdatum_contract", "e_mail", "email_prive", "veld_1e_dag"]
    with pytest.raises(CatalogError, match="Another field already has the label"):
        catalog.update_profile_field(
            session=session,
            field_id=field.id,
            label="Functie",
            type="taxonomy",
            importable=True,
            taxonomy_id=taxonomy.id,
        )
    with pytest.raises(CatalogError, match="Profile fields use this taxonomy"):
        catalog.delete_named(session=session, kind_name="taxonomy", entry_id=taxonomy.id)


def test_languages_and_protection(session: Session) -> None:
    with pytest.raises(CatalogError, match="2 or 3 letters"):
        catalog.add_language(session=session, code="Dutch", name="Dutch")
    catalog.add_language(session=session, code="de", name="Deutsch")
    with pytest.raises(CatalogError, match="already exists"):
        catalog.add_language(session=session, code="DE", name="Duits")
    with pytest.raises(CatalogError, match="no user with the email"):
        catalog.set_user_protected(session=session, email="svc@example.org", protected=True)
    session.add(User(email="svc@example.org"))
    session.flush()
    catalog.set_user_protected(session=session, email=" SVC@example.org ", protected=True)
    assert [u.email for u in queries.list_protected_users(session=session)] == ["svc@example.org"]


def test_ten_failed_logins_lock_and_a_password_reset_unlocks(session: Session) -> None:
    add_admin(session)
    limit = accounts.MAX_FAILED_LOGINS
    for attempt in range(1, limit + 1):
        assert accounts.authenticate(session=session, username="BEHEER", password="nee") is None
        locked = accounts.locked_until(session=session, username="beheer")
        assert (locked is None) == (attempt < limit)
    assert locked is not None and locked < utcnow() + timedelta(minutes=accounts.LOCK_MINUTES + 1)
    accounts.reset_password(session=session, username="beheer", password="another password 2")
    assert accounts.locked_until(session=session, username="beheer") is None
    assert accounts.authenticate(session=session, username="beheer", password="another password 2")
