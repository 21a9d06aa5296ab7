"""Small Streamlit building blocks shared by the pages."""

import re
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from core.i18n import N_
from core.issues import BUSY_MESSAGE, InstroomError
from db.engine import is_busy, session_scope
from ui.text import _, number, reason

FLASH_KEY = "_flash"
# Refusals whose message is written for the person at the screen.
USER_ERRORS = (InstroomError,)


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md(text: object) -> str:
    """Text from a file or a user, escaped so Markdown shows it as written and renders nothing."""
    return _MARKDOWN.sub(r"\\\1", str(text))


def show_flash() -> None:
    """Show the message an action left before it reran the page."""
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message)


def run_action(
    engine: Engine,
    action: Callable[..., Any],
    success: str | Callable[[Any], str],
    **kwargs: object,
) -> None:
    """Run a validated change in one transaction; report its refusal in words, never a traceback.

    success: the message to show after, or a function that writes it from the action's result.
    """
    try:
        with session_scope(engine) as session:
            result = action(session=session, **kwargs)
    except USER_ERRORS as exc:
        st.error(md(reason(exc)))
        return
    except OperationalError as exc:
        if not is_busy(exc):
            raise
        st.error(_(BUSY_MESSAGE))
        return
    st.session_state[FLASH_KEY] = success(result) if callable(success) else success
    st.rerun()


# Each kind's own sentences: a noun cannot be slotted into a Dutch phrase (de groep, het niveau).
NAMED_PHRASES: dict[str, dict[str, str]] = {
    "group": {
        "none": N_("No groups yet."),
        "new": N_("New group"),
        "add": N_("Add group"),
        "added": N_("Added group {name!r}."),
        "rename": N_("Rename group"),
        "new_name": N_("New name for the group"),
        "delete": N_("Delete group"),
        "force": N_("Also remove the group from the users who have it"),
        "deleted": N_("Deleted group {name!r} ({count} users had it)."),
    },
    "level": {
        "none": N_("No levels yet."),
        "new": N_("New level"),
        "add": N_("Add level"),
        "added": N_("Added level {name!r}."),
        "rename": N_("Rename level"),
        "new_name": N_("New name for the level"),
        "delete": N_("Delete level"),
        "force": N_("Also remove the level from the users who have it"),
        "deleted": N_("Deleted level {name!r} ({count} users had it)."),
    },
    "role": {
        "none": N_("No roles yet."),
        "new": N_("New role"),
        "add": N_("Add role"),
        "added": N_("Added role {name!r}."),
        "rename": N_("Rename role"),
        "new_name": N_("New name for the role"),
        "delete": N_("Delete role"),
        "force": N_("Also remove the role from the users who have it"),
        "deleted": N_("Deleted role {name!r} ({count} users had it)."),
    },
    "taxonomy": {
        "none": N_("No taxonomies yet."),
        "new": N_("New taxonomy"),
        "add": N_("Add taxonomy"),
        "added": N_("Added taxonomy {name!r}."),
        "rename": N_("Rename taxonomy"),
        "new_name": N_("New name for the taxonomy"),
        "delete": N_("Delete taxonomy"),
        "force": N_("Also remove the taxonomy from the users who have it"),
        "deleted": N_("Deleted taxonomy {name!r} ({count} users had it)."),
    },
}


def named_list_editor(engine: Engine, kind_name: str, entries: list[tuple[int, str, int]]) -> None:
    """Add, rename and delete entries of a named list (groups, levels, roles, taxonomies)."""
    from core import catalog

    say = {key: _(text) for key, text in NAMED_PHRASES[kind_name].items()}
    if entries:
        st.dataframe(
            [{_("Name"): name, _("Users"): number(users)} for _id, name, users in entries],
            hide_index=True,
            placeholder="",
        )
    else:
        st.caption(say["none"])
    names = {entry_id: name for entry_id, name, _count in entries}
    users = {entry_id: count for entry_id, _name, count in entries}
    add, rename, delete = st.columns(3)
    with add.form(f"add_{kind_name}", clear_on_submit=True):
        new_name = st.text_input(say["new"])
        if st.form_submit_button(say["add"]):
            run_action(
                engine,
                catalog.add_named,
                say["added"].format(name=new_name.strip()),
                kind_name=kind_name,
                name=new_name,
            )
    if not entries:
        return
    with rename.form(f"rename_{kind_name}"):
        entry_id = pick_one(say["rename"], names)
        renamed = st.text_input(say["new_name"])
        if st.form_submit_button(say["rename"]):
            run_action(
                engine,
                catalog.rename_named,
                _("Renamed to {name!r}.").format(name=renamed.strip()),
                kind_name=kind_name,
                entry_id=entry_id,
                new_name=renamed,
            )
    with delete.form(f"delete_{kind_name}"):
        entry_id = pick_one(say["delete"], names)
        force = st.checkbox(say["force"])
        if st.form_submit_button(say["delete"]):
            run_action(
                engine,
                catalog.delete_named,
                say["deleted"].format(name=names[entry_id], count=number(users[entry_id])),
                kind_name=kind_name,
                entry_id=entry_id,
                force=force,
            )


def pick_one(label: str, names: Mapping[int, str]) -> int:
    """A select box over named ids (never empty); the chosen id."""
    chosen = st.selectbox(label, list(names), format_func=lambda i: names[i])
    assert chosen is not None, "a select box with options always has a choice"
    return chosen
