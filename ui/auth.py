"""The login gate every page calls before it shows anything."""

import json
from collections.abc import Mapping

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from core import accounts, login_cookie, signin
from core.accounts import AccountError, SignedInAccount
from core.config import Settings, SettingsError, load_settings
from core.i18n import LANGUAGES, N_
from core.keys import cookie_key
from core.saved_settings import effective_settings
from core.worker import ensure_background_worker
from db import queries
from db.engine import brief_write, get_engine, read_session, session_scope
from db.vocabulary import AccountRole
from ui.preload import preload_page_modules
from ui.text import LANGUAGE_KEY, _, current_language, reason
from ui.widgets import md

ROLE_LABELS = {"admin": N_("administrator"), "support": N_("support")}
# Every page with the roles that may open it; the sidebar shows only what a role may open.
PAGES = [
    ("app.py", N_("Home"), ("admin", "support")),
    ("pages/1_Import.py", N_("Import"), ("admin",)),
    ("pages/2_History.py", N_("History"), ("admin", "support")),
    ("pages/3_Users.py", N_("Users"), ("admin",)),
    ("pages/4_Settings.py", N_("Settings"), ("admin",)),
]


def get_context() -> tuple[Settings, Engine]:
    """Settings and the migrated engine, or a clear message and a stop."""
    try:
        settings = load_settings()
        engine = get_engine(settings.database_url)
        ensure_background_worker(engine=engine, settings=settings)
        preload_page_modules()
        # The time zone (and mail server) chosen in Settings, read afresh on every page.
        return effective_settings(engine, settings), engine
    except SettingsError as exc:
        st.error(md(_("Instroom cannot start: {reason}").format(reason=exc)))
    except SQLAlchemyError as exc:
        st.error(
            _(
                "Instroom cannot reach its database. Check DATABASE_URL and that the database "
                "server runs. ({error})"
            ).format(error=type(exc).__name__)
        )
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises; this keeps type checkers honest


def _first_run_form(engine: Engine) -> None:
    st.title(_("Welcome to Instroom"))
    st.write(_("No portal account exists yet. Create the first administrator to get started."))
    with st.form("first_run"):
        username = st.text_input(_("Username"))
        name = st.text_input(_("Your name"))
        email = st.text_input(_("Email address"))
        password = st.text_input(_("Password"), type="password")
        repeat = st.text_input(_("Repeat the password"), type="password")
        submitted = st.form_submit_button(_("Create administrator"))
    if not submitted:
        return
    if password != repeat:
        st.error(_("The two passwords differ; type the same password twice."))
        return
    try:
        with session_scope(engine) as session:
            if queries.count_accounts(session=session) > 0:
                st.info(_("An administrator was created in the meantime; log in below."))
                return
            accounts.create_account(
                session=session,
                username=username,
                email=email,
                role=AccountRole.ADMIN,
                password=password,
                name=name,
                language=current_language(),
            )
    except AccountError as exc:
        st.error(md(reason(exc)))
        return
    # Said on the login form that follows: a message shown before a rerun is never seen.
    st.session_state[_CREATED] = True
    st.rerun()


_RATE_LIMIT = accounts.LoginRateLimit()
_LOGGED_OUT = "_logged_out"
_CREATED = "_administrator_created"
_IDENTITY_REFUSED = "_identity_refused"


def _cookie_key(settings: Settings) -> str:
    try:
        return cookie_key(settings)
    except (SettingsError, OSError) as exc:
        st.error(md(_("Instroom cannot start: {reason}").format(reason=exc)))
        st.stop()
        raise AssertionError("unreachable") from exc


def _write_cookie(settings: Settings, value: str, max_age: int) -> None:
    """Set (or with max_age 0, delete) the login cookie in the browser.

    A script run cannot send a Set-Cookie header: a same-origin frame posts a one-time
    ticket to the portal's own route, whose answer sets the cookie HttpOnly, out of reach of
    any script; the next page load (a reload, a new tab, a link) sends it back.
    """
    ticket = login_cookie.TICKETS.issue(value, max_age)
    fetch = (
        f"fetch({json.dumps(login_cookie.ROUTE)}, {{method: 'POST', body: {json.dumps(ticket)}}})"
    )
    st.iframe(f"<script>{fetch};</script>", height=1)


def _sign_in(account: SignedInAccount) -> None:
    st.session_state.update(
        authentication_status=True,
        username=account.username,
        session_version=account.session_version,
        language=account.language,
    )
    st.session_state.pop(_LOGGED_OUT, None)


def _sign_out(engine: Engine, settings: Settings, username: str) -> None:
    with session_scope(engine) as session:
        accounts.end_sessions(session=session, username=username)
    for key in ("authentication_status", "username", "session_version", LANGUAGE_KEY):
        st.session_state.pop(key, None)
    st.session_state[_LOGGED_OUT] = True


def _current_account(engine: Engine, settings: Settings, key: str) -> SignedInAccount | None:
    """The account of this browser session, from its state or its login cookie; checked fresh."""
    state = st.session_state
    if state.get("authentication_status"):
        claim: tuple[str, int | None] | None = (
            state.get("username", ""),
            state.get("session_version"),
        )
    elif state.get(_LOGGED_OUT):
        return None
    else:
        token = st.context.cookies.get(login_cookie.cookie_name(settings))
        claim = (
            accounts.read_session_token(token, key=key, days=settings.session_days)
            if token
            else None
        )
        if claim is None:
            return _provider_account(engine, settings, key)
    if claim is None:
        return None
    with session_scope(engine) as session:
        account = accounts.get_signed_in_account(session=session, username=claim[0])
    if account is None or account.session_version != claim[1]:
        was_signed_in = bool(state.pop("authentication_status", None))
        state.pop("username", None)
        if was_signed_in and account is None:
            st.error(_("This account has been disabled or removed. Ask an administrator."))
        # A cookie that no longer opens anything does not stand in the way of a provider's
        # sign-in that just came back.
        return None if was_signed_in else _provider_account(engine, settings, key)
    _sign_in(account)
    return account


def configured_providers() -> list[str]:
    """The identity providers configured the Streamlit way (secrets.toml's [auth] section)."""
    try:
        auth = st.secrets.get("auth") or {}
    except FileNotFoundError:
        return []
    return [name for name, section in auth.items() if isinstance(section, Mapping)]


def _provider_account(engine: Engine, settings: Settings, key: str) -> SignedInAccount | None:
    """The account of the person the identity provider just signed in, if it may open one."""
    if (
        st.session_state.get(_IDENTITY_REFUSED)
        or not configured_providers()
        or not st.user.get("is_logged_in")
    ):
        return None
    claims = st.user.to_dict()
    provider = str(claims.get("provider", ""))
    identity = signin.identity_of(provider, claims, settings)
    with brief_write(engine) as session:
        account = (
            signin.sign_in_with_identity(session=session, identity=identity) if identity else None
        )
        signin.record_attempt(
            session=session,
            username=account.username if account else str(claims.get("email") or ""),
            method=provider,
            signed_in=account is not None,
            address=_client(settings),
        )
    if account is None:
        st.session_state[_IDENTITY_REFUSED] = True
        st.error(_(signin.SIGNIN_REFUSED))
        _write_cookie(settings, "", 0)  # and Streamlit's identity cookies with it
        return None
    _open_session(settings, account, key)
    return account


def _provider_buttons(providers: list[str]) -> None:
    """'Sign in with Microsoft' and the like, above the local form."""
    for name in providers:
        words = signin.PROVIDER_WORDS.get(name)
        label = _(words) if words else _(signin.OTHER_PROVIDER).format(provider=name.title())
        if st.button(label, key=f"signin_{name}", type="primary"):
            st.session_state.pop(_IDENTITY_REFUSED, None)
            st.login(name)


def _login_form(engine: Engine, settings: Settings, key: str) -> SignedInAccount | None:
    """The login form; the signed-in account when this run's submission was right."""
    if st.session_state.get(_LOGGED_OUT):
        _write_cookie(settings, "", 0)
    if st.session_state.pop(_CREATED, False):
        st.success(_("Administrator created. Log in with your new account."))
    providers = configured_providers()
    _provider_buttons(providers)
    if providers:
        with read_session(engine) as session:
            if not signin.local_passwords_allowed(session=session):
                return None
    form_area = st.empty()
    with form_area.form("login"):
        st.subheader(_("Login"))
        username = st.text_input(_("Username"))
        password = st.text_input(_("Password"), type="password")
        submitted = st.form_submit_button(_("Login"))
    if not submitted:
        return None
    client = _client(settings)
    if not _RATE_LIMIT.allow(client, username):
        st.error(_("Too many login attempts in the last minute. Wait a minute and try again."))
        return None
    # While an import holds SQLite's write lock the answer stands and only its record is
    # lost (the rate limit above still bounds guessing meanwhile).
    with brief_write(engine) as session:
        account = accounts.authenticate(session=session, username=username, password=password)
        signin.record_attempt(
            session=session,
            username=username.strip().lower(),
            method="password",
            signed_in=account is not None,
            address=client,
        )
    if account is None:
        st.error(_(accounts.LOGIN_REFUSED))
        return None
    form_area.empty()
    _open_session(settings, account, key)
    return account


def _client(settings: Settings) -> str:
    return accounts.client_address(
        st.context.ip_address,
        st.context.headers.get("X-Forwarded-For"),
        settings.trusted_proxies,
    )


def _open_session(settings: Settings, account: SignedInAccount, key: str) -> None:
    """This browser session is the account's, and so is the browser's HttpOnly cookie."""
    _sign_in(account)
    _write_cookie(
        settings,
        accounts.issue_session_token(account, key=key, days=settings.session_days),
        int(settings.session_days * 86400),
    )


def _sidebar(engine: Engine, settings: Settings, account: SignedInAccount) -> None:
    with st.sidebar:
        role = _(ROLE_LABELS[account.role])
        st.markdown(f"**{md(account.name)}**  \n{role}")
        for path, label, roles in PAGES:
            if account.role in roles:
                st.page_link(path, label=_(label))
        st.selectbox(
            "Taal / Language",
            list(LANGUAGES),
            index=list(LANGUAGES).index(account.language),
            format_func=lambda code: LANGUAGES[code],
            key="language_choice",
            on_change=_choose_language,
            args=(engine, account.username),
        )
        st.button(
            _("Log out"),
            key="logout_button",
            on_click=_sign_out,
            args=(engine, settings, account.username),
        )


def _visitor_sidebar() -> None:
    """Before login the sidebar offers the language, so it is never an empty panel."""
    with st.sidebar:
        st.selectbox(
            "Taal / Language",
            list(LANGUAGES),
            index=list(LANGUAGES).index(current_language()),
            format_func=lambda code: LANGUAGES[code],
            key="visitor_language",
            on_change=lambda: st.session_state.update(
                {LANGUAGE_KEY: st.session_state["visitor_language"]}
            ),
        )


def _choose_language(engine: Engine, username: str) -> None:
    """Remember the language chosen in the sidebar for this account, and speak it at once."""
    language = st.session_state["language_choice"]
    with session_scope(engine) as session:
        accounts.set_account_language(session=session, username=username, language=language)
    st.session_state[LANGUAGE_KEY] = language


def require_account(*roles: str) -> tuple[SignedInAccount, Settings, Engine]:
    """Show the login form until someone with one of roles (any role if none) is signed in."""
    settings, engine = get_context()
    with session_scope(engine) as session:
        if queries.count_accounts(session=session) == 0:
            _first_run_form(engine)
            _visitor_sidebar()
            st.stop()
    key = _cookie_key(settings)
    account = _current_account(engine, settings, key) or _login_form(engine, settings, key)
    if account is None:
        _visitor_sidebar()
        st.stop()
        raise AssertionError("unreachable")
    _sidebar(engine, settings, account)
    if roles and account.role not in roles:
        needed = _(" or ").join(_(ROLE_LABELS[r]) for r in roles)
        st.error(
            _("This page is for the {needed} role; you are signed in as {role}.").format(
                needed=needed, role=_(ROLE_LABELS[account.role])
            )
        )
        st.stop()
    return account, settings, engine
