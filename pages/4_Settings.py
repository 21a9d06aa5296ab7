"""Settings: the catalogue imports work with, protected users and portal accounts."""

import streamlit as st

from core.catalog import load_catalog_view
from db.engine import read_session
from ui import settings_tabs
from ui.auth import require_account
from ui.links import links_section
from ui.mail_settings import mail_section
from ui.widgets import named_list_editor, show_flash

st.set_page_config(page_title="Settings · Instroom", layout="wide")
account, settings, engine = require_account("admin")
st.title("Settings")
show_flash()
with read_session(engine) as session:
    view = load_catalog_view(session=session)

# A radio, not st.tabs: the chosen section must survive the rerun that follows each change.
SECTIONS = {
    "Profile fields": lambda: settings_tabs.profile_fields_tab(engine, view),
    "Groups": lambda: named_list_editor(engine, "group", view.named["group"]),
    "Levels": lambda: named_list_editor(engine, "level", view.named["level"]),
    "Roles": lambda: named_list_editor(engine, "role", view.named["role"]),
    "Languages": lambda: settings_tabs.languages_tab(engine, view),
    "Taxonomies": lambda: settings_tabs.taxonomies_tab(engine, view),
    "Protected users": lambda: settings_tabs.protected_users_tab(engine, view),
    "Portal accounts": lambda: settings_tabs.accounts_tab(engine, view),
    "Mail": lambda: mail_section(engine, settings, account),
    "Links": lambda: links_section(engine, settings, account),
}
section = st.radio(
    "Section", list(SECTIONS), horizontal=True, key="settings_section", label_visibility="collapsed"
)
SECTIONS[section]()
