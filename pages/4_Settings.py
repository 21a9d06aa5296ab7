"""Settings: the catalogue imports work with, protected users and portal accounts."""

import streamlit as st

from core.catalog import load_catalog_view
from core.i18n import N_
from db.engine import read_session
from db.vocabulary import AccountRole
from ui import settings_tabs
from ui.auth import require_account
from ui.links import links_section
from ui.mail_settings import mail_section
from ui.scim_settings import scim_section
from ui.signin_settings import signin_section
from ui.text import _
from ui.widgets import named_list_editor, show_flash

st.set_page_config(page_title="Settings · Instroom", layout="wide")
account, settings, engine = require_account(AccountRole.ADMIN)
st.title(_("Settings"))
show_flash()
with read_session(engine) as session:
    view = load_catalog_view(session=session)

# A radio, not st.tabs: the chosen section must survive the rerun that follows each change.
SECTIONS = {
    N_("Profile fields"): lambda: settings_tabs.profile_fields_tab(engine, view),
    N_("Groups"): lambda: named_list_editor(engine, "group", view.named["group"]),
    N_("Levels"): lambda: named_list_editor(engine, "level", view.named["level"]),
    N_("Roles"): lambda: named_list_editor(engine, "role", view.named["role"]),
    N_("Languages"): lambda: settings_tabs.languages_tab(engine, view),
    N_("Taxonomies"): lambda: settings_tabs.taxonomies_tab(engine, view),
    N_("Protected users"): lambda: settings_tabs.protected_users_tab(engine, view),
    N_("Portal accounts"): lambda: settings_tabs.accounts_tab(engine, settings, view),
    N_("Mail"): lambda: mail_section(engine, settings, account),
    N_("Time zone"): lambda: settings_tabs.time_zone_tab(engine, settings),
    N_("Links"): lambda: links_section(engine, settings, account),
    N_("SCIM"): lambda: scim_section(engine, settings, account, view),
    N_("Sign-in"): lambda: signin_section(engine, settings),
}
section_words = {name: _(name) for name in SECTIONS}
section = st.radio(
    _("Section"),
    list(SECTIONS),
    format_func=lambda name: section_words[name],
    horizontal=True,
    key="settings_section",
    label_visibility="collapsed",
)
SECTIONS[section]()
