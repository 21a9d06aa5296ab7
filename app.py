"""Instroom: the frame (page config, login gate) and the home page."""

import streamlit as st

from db import queries
from db.engine import session_scope
from ui.auth import require_account

st.set_page_config(page_title="Instroom", page_icon=":inbox_tray:", layout="wide")
account, settings, engine = require_account()

st.title("Instroom")
st.caption("Create and update many user accounts at once, safely.")
if account.role == "admin":
    st.page_link("pages/1_Import.py", label="Start an import", icon=":material/upload_file:")
with session_scope(engine) as session:
    by_status = queries.count_users_by_status(session=session)
    recent = queries.list_recent_jobs(session=session, limit=5)
    recent_rows = [
        {"Import": job.id, "When": job.created_at, "File": job.file_name, "Status": job.status}
        for job in recent
    ]

columns = st.columns(4)
columns[0].metric("Users", f"{sum(by_status.values()):,}")
for column, status in zip(columns[1:], ("active", "invited", "blocked"), strict=True):
    column.metric(status.capitalize(), f"{by_status.get(status, 0):,}")

st.subheader("Last imports")
if recent_rows:
    st.dataframe(recent_rows, hide_index=True)
else:
    st.write("No imports yet.")
