"""Activation: an imported user sets a password with the link from the welcome email."""

import streamlit as st

from core.activation import ActivationError, activate, find_user_by_token
from db.engine import session_scope
from ui.auth import get_context
from ui.widgets import md

st.set_page_config(page_title="Activate your account · Instroom")
# No login: the one-time token in the link is the only key to this page.
settings, engine = get_context()
st.title("Activate your account")
token = st.query_params.get("token", "")
try:
    with session_scope(engine) as session:
        user = find_user_by_token(session=session, token=token) if token else None
        email = user.email if user else ""
except ActivationError as exc:
    st.error(md(str(exc)))
    st.stop()
if not token:
    st.error("Open this page with the link from your welcome email.")
    st.stop()

st.write(
    f"Choose a password for **{email}**: at least 10 characters, mixing at least three "
    "of lower-case letters, capitals, digits and symbols."
)
with st.form("activate"):
    password = st.text_input("New password", type="password")
    repeat = st.text_input("Repeat the password", type="password")
    submitted = st.form_submit_button("Set my password")
if submitted:
    try:
        with session_scope(engine) as session:
            activate(session=session, token=token, password=password, repeat=repeat)
    except ActivationError as exc:
        st.error(md(str(exc)))
    else:
        st.query_params.clear()
        st.success("Your password is set and your account is active. You can close this page.")
