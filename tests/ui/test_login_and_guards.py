"""First run, login, and that no page shows anything to the wrong visitor."""

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from core.accounts import LOGIN_REFUSED, MAX_FAILED_LOGINS
from db.models import Account
from tests.ui.conftest import PAGES, PASSWORD, button, new_app, signed_in, texts, widget

ADMIN_PAGES = [p for p in PAGES if p.endswith(("_Settings.py", "_Import.py", "_Users.py"))]


def test_first_run_creates_the_administrator(app_db: Engine) -> None:
    at = new_app().run()
    assert "No portal account exists yet" in texts(at)
    assert not [w for w in at.text_input if w.label == "Username" and w.form_id == "login"]
    widget(at.text_input, "Username").input("beheerder")
    widget(at.text_input, "Your name").input("Bea Heer")
    widget(at.text_input, "Email address").input("bea@example.org")
    widget(at.text_input, "Password").input(PASSWORD)
    widget(at.text_input, "Repeat the password").input(PASSWORD)
    button(at, "Create administrator").click().run()
    assert not at.exception
    with Session(app_db) as session:
        account = session.exec(select(Account)).one()
    assert (account.username, account.role, account.email) == (
        "beheerder",
        "admin",
        "bea@example.org",
    )
    assert account.password_hash != PASSWORD
    assert "Login" in [s.value for s in at.subheader]


def test_first_run_refuses_mismatched_passwords(app_db: Engine) -> None:
    at = new_app().run()
    widget(at.text_input, "Username").input("beheerder")
    widget(at.text_input, "Email address").input("bea@example.org")
    widget(at.text_input, "Password").input(PASSWORD)
    widget(at.text_input, "Repeat the password").input(PASSWORD + "x")
    button(at, "Create administrator").click().run()
    assert "The two passwords differ" in texts(at)
    with Session(app_db) as session:
        assert session.exec(select(Account)).all() == []


@pytest.mark.parametrize("page", PAGES)
def test_before_any_account_every_page_shows_only_the_first_run_form(
    app_db: Engine, page: str
) -> None:
    at = new_app(page).run()
    assert not at.exception
    assert "No portal account exists yet" in texts(at)
    assert [t.value for t in at.title] == ["Welcome to Instroom"]


def test_wrong_password_is_refused(make_account) -> None:
    make_account("beheer", "admin")
    at = new_app().run()
    widget(at.text_input, "Username").input("beheer")
    widget(at.text_input, "Password").input("not the password")
    button(at, "Login").click().run()
    assert LOGIN_REFUSED in texts(at)
    assert "authentication_status" not in at.session_state
    assert "Instroom" not in [t.value for t in at.title]


@pytest.mark.parametrize("role", ["admin", "support"])
def test_login_with_the_right_password(make_account, role: str) -> None:
    make_account("iemand", role)
    at = new_app().run()
    widget(at.text_input, "Username").input("iemand")
    widget(at.text_input, "Password").input(PASSWORD)
    button(at, "Login").click().run()
    assert not at.exception
    assert at.session_state["authentication_status"] is True
    assert [t.value for t in at.title] == ["Instroom"]
    assert "support" in texts(at) or role == "admin"
    assert any(b.label == "Log out" for b in at.sidebar.button)


@pytest.mark.parametrize("page", PAGES)
def test_logged_out_visitor_sees_only_the_login_form(make_account, page: str) -> None:
    make_account("beheer", "admin")
    at = new_app(page).run()
    assert not at.exception
    assert [s.value for s in at.subheader] == ["Login"]
    assert at.title == [] or [t.value for t in at.title] == []
    assert at.dataframe == [] and at.tabs == []


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_support_is_refused_on_admin_pages(make_account, page: str) -> None:
    make_account("helpdesk", "support")
    at = signed_in("helpdesk", "support", page)
    assert not at.exception
    assert "This page is for the administrator role" in texts(at)
    assert at.tabs == [] and at.dataframe == []


def test_a_disabled_account_loses_access_at_once(make_account, app_db: Engine) -> None:
    make_account("beheer", "admin")
    make_account("oud", "admin")
    with Session(app_db) as session:
        account = session.exec(select(Account).where(Account.username == "oud")).one()
        account.is_disabled = True
        session.add(account)
        session.commit()
    at = signed_in("oud", "admin")
    assert "This account has been disabled" in texts(at)
    assert [t.value for t in at.title] == []


def login(at, username: str, password: str):
    widget(at.text_input, "Username").input(username)
    widget(at.text_input, "Password").input(password)
    button(at, "Login").click()
    return at.run()


def test_a_locked_account_answers_like_a_wrong_password(make_account, app_db: Engine) -> None:
    """After ten wrong passwords even the right one gets the same answer: no oracle."""
    make_account("beheer", "admin")
    at = new_app().run()
    answers = set()
    for password in ["wrong password"] * MAX_FAILED_LOGINS + [PASSWORD, "wrong again"]:
        at = login(at, "beheer", password)
        answers.add(tuple(e.value for e in at.error))
    at = login(at, "niemand", "any password")
    answers.add(tuple(e.value for e in at.error))
    assert answers == {(LOGIN_REFUSED,)}
    with Session(app_db) as session:
        account = session.exec(select(Account)).one()
        assert account.locked_until is not None
    assert "authentication_status" not in at.session_state
    assert [t.value for t in at.title] == []


def test_usernames_are_not_case_sensitive(make_account) -> None:
    make_account("Beheer", "admin")
    at = login(new_app().run(), "BEHEER", PASSWORD)
    assert [t.value for t in at.title] == ["Instroom"]


def test_log_out_returns_to_the_login_form(make_account) -> None:
    make_account("beheer", "admin")
    at = login(new_app().run(), "beheer", PASSWORD)
    assert [t.value for t in at.title] == ["Instroom"]
    next(b for b in at.sidebar.button if b.label == "Log out").click()
    at.run()
    assert not at.exception
    at.run()
    assert [s.value for s in at.subheader] == ["Login"]


def test_login_works_while_an_import_holds_the_sqlite_write_lock(
    make_account, app_db: Engine
) -> None:
    make_account("beheer", "admin")
    with app_db.connect() as importing:
        importing.exec_driver_sql("BEGIN IMMEDIATE")  # what an import's transaction holds
        at = login(new_app().run(), "beheer", PASSWORD)
        importing.exec_driver_sql("ROLLBACK")
    assert not at.exception
    assert [t.value for t in at.title] == ["Instroom"]
