"""Users: find, inspect, export, and create a single user."""

import streamlit as st

from core.fields import USER_KINDS, USER_STATUSES
from core.history import user_history
from core.users import (
    PAGE_SIZE,
    SearchError,
    UserSearch,
    count_users,
    create_single_user,
    get_user_detail,
    list_user_choices,
    search_users,
)
from db.engine import read_session
from ui.auth import require_account
from ui.exports import export_buttons
from ui.widgets import md, show_flash

st.set_page_config(page_title="Users · Instroom", layout="wide")
account, settings, engine = require_account("admin")
st.title("Users")
show_flash()

with read_session(engine) as session:
    choices = list_user_choices(session=session)
groups = choices.groups
search, group, level, status, kind = st.columns([3, 2, 2, 1, 1])
query = UserSearch(
    text=search.text_input("Search name, email or username"),
    group=group.selectbox("Group", [None, *groups], format_func=lambda g: g or "any"),
    level=level.selectbox("Level", [None, *choices.levels], format_func=lambda g: g or "any"),
    status=status.selectbox("Status", [None, *USER_STATUSES], format_func=lambda s: s or "any"),
    kind=kind.selectbox("Kind", [None, *USER_KINDS], format_func=lambda k: k or "any"),
)
try:
    with read_session(engine) as session:
        total = count_users(session=session, search=query)
        pages = max(1, -(-total // PAGE_SIZE))
        page = st.number_input(f"Page (of {pages:,})", 1, pages, 1) if pages > 1 else 1
        found = search_users(session=session, search=query, offset=(page - 1) * PAGE_SIZE)
except SearchError as exc:
    st.error(md(str(exc)))
    st.stop()
first = (page - 1) * PAGE_SIZE + 1
st.caption(
    (f"{total:,} users" if total != 1 else "1 user")
    + (f"; showing {first:,} to {first + len(found) - 1:,}" if pages > 1 else "")
)
st.dataframe(found, hide_index=True)
export_buttons(engine, query, total)

if len(found):
    emails = dict(zip(found["Id"], found["Email"], strict=True))
    user_id = st.selectbox("Show user", list(emails), format_func=lambda i: str(emails[i]))
    with read_session(engine) as session:
        detail = get_user_detail(session=session, user_id=user_id)
        history = user_history(session=session, user_id=user_id)
    if detail is None:
        st.info("This user was removed in the meantime.")
    else:
        user = detail["user"]
        with st.container(border=True):
            st.subheader(
                md(" ".join(p for p in (user.first_name, user.name_insert, user.last_name) if p))
            )
            st.markdown(
                md(
                    f"{user.email} · {user.status} · {user.kind} · role {user.role or '—'} · "
                    f"language {user.language or '—'}"
                    + (" · protected" if user.is_protected else "")
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
        "role": st.selectbox("Role", ["", *choices.roles]),
        "language": st.selectbox("Language", ["", *choices.languages]),
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
