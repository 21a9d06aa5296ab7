"""Instroom: the frame (page config, login gate) and the home page."""

import streamlit as st

from core.history import get_home_summary
from db.engine import read_session
from ui.auth import require_account

st.set_page_config(page_title="Instroom", page_icon=":inbox_tray:", layout="wide")
account, settings, engine = require_account()

st.title("Instroom")
st.caption("Create and update many user accounts at once, safely.")
if account.role == "admin":
    st.page_link("pages/1_Import.py", label="Start an import", icon=":material/upload_file:")
with read_session(engine) as session:
    summary = get_home_summary(session=session)
by_status = summary.users_by_status

columns = st.columns(4)
columns[0].metric("Users", f"{sum(by_status.values()):,}")
for column, status in zip(columns[1:], ("active", "invited", "blocked"), strict=True):
    column.metric(status.capitalize(), f"{by_status.get(status, 0):,}")

st.subheader("Last imports")
if summary.recent_jobs:
    st.dataframe(summary.recent_jobs, hide_index=True)
else:
    st.write("No imports yet.")
