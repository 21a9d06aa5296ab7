"""Import wizard: upload, map, choose options, preview, confirm, watch it run."""

import streamlit as st

from db.vocabulary import AccountRole
from ui.auth import require_account
from ui.text import _
from ui.wizard import render_wizard

st.set_page_config(page_title="Import · Instroom", layout="wide")
account, settings, engine = require_account(AccountRole.ADMIN)
st.title(_("Import users"))
render_wizard(account, settings, engine)
