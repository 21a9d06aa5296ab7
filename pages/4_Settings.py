"""Settings: the catalogue imports work with, protected users and portal accounts."""

import streamlit as st

from core.catalog import load_settings_view
from db.engine import read_session
from ui import settings_tabs
from ui.auth import require_account
from ui.widgets import named_list_editor, show_flash

st.set_page_config(page_title="Settings · Instroom", layout="wide")
account, settings, engine = require_account("admin")
st.title("Settings")
show_flash()
with read_session(engine) as session:
    view = load_settings_view(session=session)

tabs = st.tabs(
    [
        "Profile fields",
        "Groups",
        "Levels",
        "Roles",
        "Languages",
        "Taxonomies",
        "Protected users",
        "Portal accounts",
    ]
)
with tabs[0]:
    settings_tabs.profile_fields_tab(engine, view)
for tab, kind in zip(tabs[1:4], ("group", "level", "role"), strict=True):
    with tab:
        named_list_editor(engine, kind, view.named[kind])
with tabs[4]:
    settings_tabs.languages_tab(engine, view)
with tabs[5]:
    settings_tabs.taxonomies_tab(engine, view)
with tabs[6]:
    settings_tabs.protected_users_tab(engine, view)
with tabs[7]:
    settings_tabs.accounts_tab(engine, view)
