"""Users: find, inspect, export, and create a single user."""

import streamlit as st

from core import export
from core.fields import USER_KINDS, USER_STATUSES
from core.history import user_history
from core.users import create_single_user, get_user_detail, search_users
from db import queries
from db.engine import read_session
from ui.auth import require_account
from ui.widgets import md, show_flash

st.set_page_config(page_title="Users · Instroom", layout="wide")
account, settings, engine = require_account("admin")
st.title("Users")
show_flash()

with read_session(engine) as session:
    groups = [g.name for g in queries.list_groups(session=session)]
    levels = [lv.name for lv in queries.list_levels(session=session)]
    roles = [r.name for r in queries.list_roles(session=session)]
    languages = [lang.code for lang in queries.list_languages(session=session)]
search, group, level, status, kind = st.columns([3, 2, 2, 1, 1])
text = search.text_input("Search name, email or username")
chosen = {
    "group": group.selectbox("Group", [None, *groups], format_func=lambda g: g or "any"),
    "level": level.selectbox("Level", [None, *levels], format_func=lambda g: g or "any"),
    "status": status.selectbox("Status", [None, *USER_STATUSES], format_func=lambda s: s or "any"),
    "kind": kind.selectbox("Kind", [None, *USER_KINDS], format_func=lambda k: k or "any"),
}
with read_session(engine) as session:
    found = search_users(session=session, text=text, **chosen)
    everyone = export.users_frame(session=session)
st.caption(f"{len(found):,} users" + (" (first 1,000 shown)" if len(found) >= 1000 else ""))
st.dataframe(found, hide_index=True)

selection = everyone[everyone["email"].isin(found["Email"])]
downloads = st.columns(4)
downloads[0].download_button("Selection (CSV)", export.to_csv_bytes(selection), "users.csv")
downloads[1].download_button("Selection (XLSX)", export.to_xlsx_bytes(selection), "users.xlsx")
downloads[2].download_button("Everyone (CSV)", export.to_csv_bytes(everyone), "all-users.csv")
downloads[3].download_button("Everyone (XLSX)", export.to_xlsx_bytes(everyone), "all-users.xlsx")

if len(found):
    user_id = st.selectbox(
        "Show user",
        found["Id"].tolist(),
        format_func=lambda i: str(found.loc[found["Id"] == i, "Email"].iloc[0]),
    )
    with read_session(engine) as session:
        detail = get_user_detail(session=session, user_id=user_id)
        history = user_history(session=session, user_id=user_id)
    user = detail["user"]
    with st.container(border=True):
        st.subheader(
            md(" ".join(p for p in (user.first_name, user.name_insert, user.last_name) if p))
        )
        st.markdown(
            md(
                f"{user.email} · {user.status} · {user.kind} · role {user.role or '—'} · "
                f"language {user.language or '—'}" + (" · protected" if user.is_protected else "")
            )
        )
        st.markdown(
            md(
                "Groups: "
                + (", ".join(detail["groups"]) or "—")
                + " · Levels: "
                + (", ".join(detail["levels"]) or "—")
            )
        )
        if user.profile:
            st.dataframe(
                [{"Field": k, "Value": v} for k, v in user.profile.items()], hide_index=True
            )
        st.markdown("**Changes by imports**")
        st.dataframe(history, hide_index=True)

with st.expander("Create a single user"), st.form("single_user", clear_on_submit=False):
    values = {
        "email": st.text_input("Email"),
        "first_name": st.text_input("First name"),
        "name_insert": st.text_input("Name insert (tussenvoegsel)"),
        "last_name": st.text_input("Last name"),
        "username": st.text_input("Username (optional)"),
        "groups": "~".join(st.pills("Groups", groups, selection_mode="multi")),
        "role": st.selectbox("Role", ["", *roles]),
        "language": st.selectbox("Language", ["", *languages]),
        "kind": st.selectbox("Kind", USER_KINDS),
    }
    welcome = st.checkbox("Send a welcome email")
    if st.form_submit_button("Create user"):
        result = create_single_user(
            engine=engine, values=values, welcome=welcome, created_by=account.username
        )
        problems = [i.message for i in result.issues]
        if result.counts["created"]:
            mail = " The welcome email is sent in the background." if welcome else ""
            st.success(md(f"Created {values['email'].strip().lower()}.") + mail)
        for problem in problems:
            st.error(md(problem))
