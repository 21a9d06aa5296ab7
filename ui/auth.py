"""The login gate every page calls before it shows anything."""

import streamlit as st
import streamlit_authenticator as stauth
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from streamlit_authenticator.utilities import LoginError

from core import accounts
from core.accounts import AccountError, SignedInAccount
from core.settings import Settings, SettingsError, load_settings
from core.worker import ensure_background_worker
from db import queries
from db.engine import get_engine, session_scope
from ui.widgets import md

ROLE_LABELS = {"admin": "administrator", "support": "support"}
# Every page with the roles that may open it; the sidebar shows only what a role may open.
PAGES = [
    ("app.py", "Home", ("admin", "support")),
    ("pages/1_Import.py", "Import", ("admin",)),
    ("pages/2_History.py", "History", ("admin", "support")),
    ("pages/3_Users.py", "Users", ("admin",)),
    ("pages/4_Settings.py", "Settings", ("admin",)),
]


def get_context() -> tuple[Settings, Engine]:
    """Settings and the migrated engine, or a clear message and a stop."""
    try:
        settings = load_settings()
        engine = get_engine(settings.database_url)
        ensure_background_worker(engine=engine, settings=settings)
        return settings, engine
    except SettingsError as exc:
        st.error(f"Instroom cannot start: {exc}")
    except SQLAlchemyError as exc:
        st.error(
            "Instroom cannot reach its database. Check DATABASE_URL and that the database "
            f"server runs. ({type(exc).__name__})"
        )
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises; this keeps type checkers honest


def _first_run_form(engine: Engine) -> None:
    st.title("Welcome to Instroom")
    st.write("No portal account exists yet. Create the first administrator to get started.")
    with st.form("first_run"):
        username = st.text_input("Username")
        name = st.text_input("Your name")
        email = st.text_input("Email address")
        password = st.text_input("Password", type="password")
        repeat = st.text_input("Repeat the password", type="password")
        submitted = st.form_submit_button("Create administrator")
    if not submitted:
        return
    if password != repeat:
        st.error("The two passwords differ; type the same password twice.")
        return
    try:
        with session_scope(engine) as session:
            if queries.count_accounts(session=session) > 0:
                st.info("An administrator was created in the meantime; log in below.")
                return
            accounts.create_account(
                session=session,
                username=username,
                email=email,
                role="admin",
                password=password,
                name=name,
            )
    except AccountError as exc:
        st.error(str(exc))
        return
    st.success("Administrator created. Log in with your new account.")
    st.rerun()


def _sidebar(authenticator: stauth.Authenticate, account: SignedInAccount) -> None:
    with st.sidebar:
        st.markdown(f"**{md(account.name)}**  \n{ROLE_LABELS[account.role]}")
        for path, label, roles in PAGES:
            if account.role in roles:
                st.page_link(path, label=label)
        # Not key="logout": the authenticator keeps its own flag under that name.
        authenticator.logout("Log out", location="sidebar", key="logout_button")


def _login(authenticator: stauth.Authenticate, engine: Engine, credentials: dict) -> None:
    """The login form, with failed attempts counted per account and locked after five."""
    try:
        authenticator.login(location="main", key="login")
    except LoginError as exc:
        st.error(str(exc))
    status = st.session_state.get("authentication_status")
    if status:
        username = st.session_state["username"]
        with session_scope(engine) as session:
            until = accounts.locked_until(session=session, username=username)
            if until is None:
                accounts.record_login(session=session, username=username)
        if until is None:
            st.rerun()
        st.session_state["authentication_status"] = None
        st.error(
            f"This account is locked after too many failed logins until {until:%H:%M} UTC."
            " Try again then, or ask an administrator to reset the password."
        )
    elif status is False:
        # The authenticator counts a failure in the credentials entry of the username typed.
        failed = [
            name
            for name, entry in credentials["usernames"].items()
            if entry.pop("failed_login_attempts", 0)
        ]
        with session_scope(engine) as session:
            for name in failed:
                accounts.record_failed_login(session=session, username=name)
        st.error("The username or password is incorrect.")


def require_account(*roles: str) -> tuple[SignedInAccount, Settings, Engine]:
    """Show the login form until someone with one of roles (any role if none) is signed in."""
    settings, engine = get_context()
    with session_scope(engine) as session:
        if queries.count_accounts(session=session) == 0:
            _first_run_form(engine)
            st.stop()
        credentials = accounts.authenticator_credentials(session=session)
        cookie_key = accounts.resolve_cookie_key(session=session, settings=settings)
    authenticator = stauth.Authenticate(
        credentials,
        settings.cookie_name,
        cookie_key,
        settings.cookie_expiry_days,
        auto_hash=False,
        login_sleep_time=0,
    )
    if not st.session_state.get("authentication_status"):
        _login(authenticator, engine, credentials)
        st.stop()
    with session_scope(engine) as session:
        account = accounts.get_signed_in_account(
            session=session, username=st.session_state.get("username") or ""
        )
    if account is None:
        st.session_state["authentication_status"] = None
        st.error("This account has been disabled or removed. Ask an administrator.")
        st.stop()
    _sidebar(authenticator, account)
    if roles and account.role not in roles:
        needed = " or ".join(ROLE_LABELS[r] for r in roles)
        st.error(f"This page is for the {needed} role; you are signed in as {account.role}.")
        st.stop()
    return account, settings, engine
