"""Users: find, inspect, export, and create a single user."""

import streamlit as st

from core.fields import USER_KINDS, USER_STATUSES
from core.history import change_labels, user_history
from core.i18n import NP_, language_name
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
from db.vocabulary import AccountRole
from ui.auth import require_account
from ui.exports import export_buttons
from ui.text import _, counted, current_language, number, shown
from ui.widgets import md, show_flash

st.set_page_config(page_title="Users · Instroom", layout="wide")
account, settings, engine = require_account(AccountRole.ADMIN)
st.title(_("Users"))
show_flash()

with read_session(engine) as session:
    choices = list_user_choices(session=session)
groups = choices.groups
search, group, level, status, kind = st.columns([3, 2, 2, 1, 1])
anything = _("any")
status_words = {s: _(s) for s in USER_STATUSES}
kind_words = {k: _(k) for k in USER_KINDS}
query = UserSearch(
    text=search.text_input(_("Search name, email or username")),
    group=group.selectbox(_("Group"), [None, *groups], format_func=lambda g: g or anything),
    level=level.selectbox(_("Level"), [None, *choices.levels], format_func=lambda g: g or anything),
    status=status.selectbox(
        _("Status"),
        [None, *USER_STATUSES],
        format_func=lambda s: status_words[s] if s else anything,
    ),
    kind=kind.selectbox(
        _("Kind"), [None, *USER_KINDS], format_func=lambda k: kind_words[k] if k else anything
    ),
)
try:
    with read_session(engine) as session:
        total = count_users(session=session, search=query)
        pages = max(1, -(-total // PAGE_SIZE))
        label = _("Page (of {pages})").format(pages=number(pages))
        page = st.number_input(label, 1, pages, 1) if pages > 1 else 1
        found = search_users(session=session, search=query, offset=(page - 1) * PAGE_SIZE)
except SearchError as exc:
    st.error(md(str(exc)))
    st.stop()
first = (page - 1) * PAGE_SIZE + 1
st.caption(
    counted(NP_("{count} user", "{count} users"), total)
    + (
        _("; showing {first} to {last}").format(
            first=number(first), last=number(first + len(found) - 1)
        )
        if pages > 1
        else ""
    )
)
st.dataframe(shown(found, settings.time_zone), hide_index=True, placeholder="")
export_buttons(engine, query, total)

if len(found):
    emails = dict(zip(found["Id"], found["Email"], strict=True))
    user_id = st.selectbox(_("Show user"), list(emails), format_func=lambda i: str(emails[i]))
    with read_session(engine) as session:
        detail = get_user_detail(session=session, user_id=user_id)
        history = user_history(session=session, user_id=user_id, language=current_language())
        labels = change_labels(session=session, language=current_language())
    if detail is None:
        st.info(_("This user was removed in the meantime."))
    else:
        user = detail["user"]
        with st.container(border=True):
            st.subheader(
                md(" ".join(p for p in (user.first_name, user.name_insert, user.last_name) if p))
            )
            st.markdown(
                md(
                    _("{email} · {status} · {kind} · role {role} · language {language}").format(
                        email=user.email,
                        status=_(user.status),
                        kind=_(user.kind),
                        role=user.role or "—",
                        language=language_name(user.language, current_language())
                        if user.language
                        else "—",
                    )
                    + (_(" · protected") if user.is_protected else "")
                )
            )
            st.markdown(
                md(
                    _("Groups: {groups} · Levels: {levels}").format(
                        groups=", ".join(detail["groups"]) or "—",
                        levels=", ".join(detail["levels"]) or "—",
                    )
                )
            )
            if user.profile:
                st.dataframe(
                    [
                        {_("Field"): labels.get(k, k), _("Value"): v}
                        for k, v in user.profile.items()
                    ],
                    hide_index=True,
                    placeholder="",
                )
            st.markdown("**" + _("Changes by imports") + "**")
            st.dataframe(shown(history, settings.time_zone), hide_index=True, placeholder="")

with st.expander(_("Create a single user")), st.form("single_user", clear_on_submit=False):
    values = {
        "email": st.text_input(_("Email")),
        "first_name": st.text_input(_("First name")),
        "name_insert": st.text_input(_("Name insert (tussenvoegsel)")),
        "last_name": st.text_input(_("Last name")),
        "username": st.text_input(_("Username (optional)")),
        "groups": "~".join(st.pills(_("Groups"), groups, selection_mode="multi")),
        "role": st.selectbox(_("Role"), ["", *choices.roles]),
        "language": st.selectbox(_("Language"), ["", *choices.languages]),
        "kind": st.selectbox(_("Kind"), USER_KINDS, format_func=lambda k: kind_words[k]),
    }
    welcome = st.checkbox(_("Send a welcome email"))
    if st.form_submit_button(_("Create user")):
        result = create_single_user(
            engine=engine, values=values, welcome=welcome, created_by=account.username
        )
        problems = [i.text(current_language()) for i in result.issues]
        if result.counts["created"]:
            mail = _(" The welcome email is sent in the background.") if welcome else ""
            created = _("Created {email}.").format(email=values["email"].strip().lower())
            st.success(md(created) + mail)
        for problem in problems:
            st.error(md(problem))
