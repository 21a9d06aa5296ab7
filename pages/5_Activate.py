"""Activation: an imported user sets a password with the link from the welcome email."""

import streamlit as st

from core.activation import ActivationError, activate, find_user_by_token
from core.i18n import LANGUAGES, gettext
from db.engine import session_scope
from ui.auth import get_context
from ui.text import browser_language
from ui.widgets import md

st.set_page_config(page_title="Instroom")
# No login: the one-time token in the link is the only key to this page.
settings, engine = get_context()
token = st.query_params.get("token", "")
language, email, refused = browser_language(), "", None
try:
    with session_scope(engine) as session:
        user = find_user_by_token(session=session, token=token) if token else None
        if user is not None:
            email = user.email
            # The page speaks the imported user's own language, as their mails do.
            language = user.language if user.language in LANGUAGES else language
except ActivationError as exc:
    refused = exc


def _(text: str) -> str:
    """A text of this page in the user's language."""
    return gettext(text, language)


st.title(_("Activate your account"))
if refused is not None:
    st.error(md(refused.text(language)))
    st.stop()
if not token:
    st.error(_("Open this page with the link from your welcome email."))
    st.stop()

st.write(
    _(
        "Choose a password for **{email}**: at least 10 characters, mixing at least three "
        "of lower-case letters, capitals, digits and symbols."
    ).format(email=email)
)
with st.form("activate"):
    password = st.text_input(_("New password"), type="password")
    repeat = st.text_input(_("Repeat the password"), type="password")
    submitted = st.form_submit_button(_("Set my password"))
if submitted:
    try:
        with session_scope(engine) as session:
            activate(session=session, token=token, password=password, repeat=repeat)
    except ActivationError as exc:
        st.error(md(exc.text(language)))
    else:
        st.query_params.clear()
        st.success(_("Your password is set and your account is active. You can close this page."))
