"""Choosing a password with a one-time link: an imported user's, or a new portal account's."""

import streamlit as st

from core.accounts import accept_invitation, find_account_by_invitation
from core.activation import activate, find_user_by_token
from core.i18n import LANGUAGES, N_, gettext
from core.issues import Refusal
from db.engine import session_scope
from ui.auth import get_context
from ui.text import browser_language
from ui.widgets import md

st.set_page_config(page_title="Instroom")
# No login: the one-time token in the link is the only key to this page.
settings, engine = get_context()
invite = st.query_params.get("invite", "")
token = invite or st.query_params.get("token", "")
find, choose = (
    (find_account_by_invitation, accept_invitation) if invite else (find_user_by_token, activate)
)
language, name, refused = browser_language(), "", None
try:
    with session_scope(engine) as session:
        holder = find(session=session, token=token) if token else None
        if holder is not None:
            name = (holder.username if invite else holder.email) or ""
            # The page speaks the holder's own language, as their mails do.
            language = holder.language if holder.language in LANGUAGES else language
except Refusal as exc:
    refused = exc


def _(text: str) -> str:
    """A text of this page in the reader's language."""
    return gettext(text, language)


st.title(_(N_("Choose your password") if invite else N_("Activate your account")))
if refused is not None:
    st.error(md(refused.text(language)))
    st.stop()
if not token:
    st.error(_("Open this page with the link from your welcome email."))
    st.stop()

# The one password rule (core.passwords), for portal accounts and imported users alike.
rules = N_(
    "at least 10 characters, without your name or email address, and not a common or easily "
    "guessed password (a few unrelated words make a strong one)"
)
st.write(_("Choose a password for **{name}**: {rules}.").format(name=md(name), rules=_(rules)))
with st.form("activate"):
    password = st.text_input(_("New password"), type="password")
    repeat = st.text_input(_("Repeat the password"), type="password")
    submitted = st.form_submit_button(_("Set my password"))
if submitted:
    try:
        with session_scope(engine) as session:
            choose(session=session, token=token, password=password, repeat=repeat)
    except Refusal as exc:
        st.error(md(exc.text(language)))
    else:
        st.query_params.clear()
        if invite:
            st.success(_("Your password is set. You can log in to the portal now."))
            st.page_link("app.py", label=_("Log in"))
        else:
            st.success(
                _("Your password is set and your account is active. You can close this page.")
            )
