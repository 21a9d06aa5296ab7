"""Step 3: the options of the import."""

import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session

from core.options import MAX_KEEP_FILE_DAYS, ImportOptions
from core.settings import Settings
from db import queries
from ui.widgets import md
from ui.wizard.state import Wizard, step_buttons


def step_options(wizard: Wizard, settings: Settings, engine: Engine) -> None:
    with Session(engine) as session:
        groups = [g.name for g in queries.list_groups(session=session)]
        levels = [lv.name for lv in queries.list_levels(session=session)]
        roles = [r.name for r in queries.list_roles(session=session)]
        languages = [lang.code for lang in queries.list_languages(session=session)]
    o = wizard.options
    modes = {
        "upsert": "Create and update",
        "create": "Only create new users",
        "update": "Only update existing users",
    }
    mode = st.radio(
        "What to do",
        list(modes),
        format_func=modes.get,
        index=list(modes).index(o.mode),
        horizontal=True,
        help="Rows are matched with existing users; choose which of them to handle.",
    )
    match = st.radio(
        "Match users on",
        ["email", "username"],
        index=["email", "username"].index(o.match),
        horizontal=True,
        help="How a row is recognised as an existing user.",
    )
    fill_missing = st.checkbox(
        "Only fill empty fields",
        o.fill_missing,
        help="Leave values that are already filled in as they are.",
    )
    left, right = st.columns(2)
    group_choice = left.multiselect(
        "Add every row to these groups",
        sorted(set(groups) | set(o.groups)),
        list(o.groups),
        help="Groups are added; existing memberships stay.",
        accept_new_options=True,
    )
    level_choice = right.multiselect(
        "Give every row these levels",
        sorted(set(levels) | set(o.levels)),
        list(o.levels),
        help="Levels are only ever added; existing levels stay.",
        accept_new_options=True,
    )
    create_groups = left.checkbox(
        "Create groups that do not exist yet",
        o.create_groups,
        help="Otherwise an unknown group rejects its row.",
    )
    create_levels = right.checkbox(
        "Create levels that do not exist yet",
        o.create_levels,
        help="Otherwise an unknown level rejects its row.",
    )
    create_terms = left.checkbox(
        "Create unknown taxonomy terms",
        o.create_terms,
        help="Otherwise an unknown term rejects its row.",
    )
    role = left.selectbox(
        "Role for new users",
        [None, *roles],
        index=[None, *roles].index(o.role) if o.role in roles else 0,
        help="Used when the file gives none.",
    )
    language = right.selectbox(
        "Language for new users",
        [None, *languages],
        index=[None, *languages].index(o.language) if o.language in languages else 0,
        help="Chooses the language of their emails.",
    )
    kind = right.radio(
        "Kind of new users",
        ["employee", "contact"],
        index=["employee", "contact"].index(o.kind),
        horizontal=True,
        help="Also the kind a full-list import covers.",
    )
    full_list = st.checkbox(
        "This file is the full list",
        o.full_list,
        help="Users of this kind who are not in the file get blocked.",
    )
    max_deactivate = st.text_input(
        "Block at most",
        o.max_deactivate or "10%",
        help="A number or a percentage; above it nothing is done.",
        disabled=not full_list,
    )
    st.markdown("**Emails**")
    welcome_new = st.checkbox(
        "Send new users a welcome email", o.welcome_new, help="With a link to set their password."
    )
    notify_updated = st.checkbox("Tell updated users what changed", o.notify_updated)
    notify_admin = st.checkbox("Email me when the import is done", wizard.notify_me)
    strict = st.radio(
        "When rows are rejected",
        [False, True],
        index=int(o.strict),
        format_func=lambda s: (
            "All or nothing: import nothing"
            if s
            else "Import the valid rows; give me the rejected ones to fix"
        ),
        help="Rejected rows come back as a file to correct and upload again.",
    )
    empty_action = o.empty_action
    if "action" in (wizard.mapping or {}).values():
        empty_action = st.radio(
            "An empty code in the action column means",
            ["block", "none"],
            index=["block", "none"].index(o.empty_action),
            format_func=lambda a: (
                "Block the user (as AFAS Profit: code 0)" if a == "block" else "No action"
            ),
            horizontal=True,
        )
    keep_days = st.number_input(
        "Keep the uploaded file for (days)",
        0,
        MAX_KEEP_FILE_DAYS,
        o.keep_file_days,
        help="0: the file is deleted as soon as the import has run. A kept file can be "
        "downloaded from the history until then.",
    )
    try:
        wizard.options = ImportOptions(
            mode=mode,
            match=match,
            fill_missing=fill_missing,
            groups=tuple(group_choice),
            levels=tuple(level_choice),
            create_groups=create_groups or bool(set(group_choice) - set(groups)),
            create_levels=create_levels or bool(set(level_choice) - set(levels)),
            create_terms=create_terms,
            role=role,
            language=language,
            kind=kind,
            full_list=full_list,
            max_deactivate=max_deactivate if full_list else None,
            welcome_new=welcome_new,
            notify_updated=notify_updated,
            notify_admin=None,
            strict=strict,
            keep_file_days=int(keep_days),
            empty_action=empty_action,
        )
        wizard.notify_me = notify_admin
    except ValueError as exc:
        st.error(md(str(exc)))
        return
    step_buttons(wizard)
