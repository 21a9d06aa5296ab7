"""Small Streamlit building blocks shared by the pages."""

import re
from collections.abc import Callable, Mapping

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from core.issues import InstroomError
from db.engine import BUSY_MESSAGE, is_busy, session_scope

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
    engine: Engine, action: Callable[..., object], success: str, **kwargs: object
) -> None:
    """Run a validated change in one transaction; report its refusal in words, never a traceback."""
    try:
        with session_scope(engine) as session:
            action(session=session, **kwargs)
    except USER_ERRORS as exc:
        st.error(md(str(exc)))
        return
    except OperationalError as exc:
        if not is_busy(exc):
            raise
        st.error(BUSY_MESSAGE)
        return
    st.session_state[FLASH_KEY] = success
    st.rerun()


def named_list_editor(engine: Engine, kind_name: str, entries: list[tuple[int, str, int]]) -> None:
    """Add, rename and delete entries of a named list (groups, levels, roles, taxonomies)."""
    from core import catalog

    kind = catalog.KINDS[kind_name]
    label = kind.label
    if entries:
        st.dataframe(
            [{"Name": name, "Users": f"{users:,}"} for _, name, users in entries],
            hide_index=True,
        )
    else:
        st.caption(f"No {kind.label_plural} yet.")
    names = {entry_id: name for entry_id, name, _ in entries}
    users = {entry_id: count for entry_id, _, count in entries}
    add, rename, delete = st.columns(3)
    with add.form(f"add_{kind_name}", clear_on_submit=True):
        new_name = st.text_input(f"New {label}")
        if st.form_submit_button(f"Add {label}"):
            run_action(
                engine,
                catalog.add_named,
                f"Added {label} {new_name.strip()!r}.",
                kind_name=kind_name,
                name=new_name,
            )
    if not entries:
        return
    with rename.form(f"rename_{kind_name}"):
        entry_id = pick_one(f"Rename {label}", names)
        renamed = st.text_input(f"New name for the {label}")
        if st.form_submit_button(f"Rename {label}"):
            run_action(
                engine,
                catalog.rename_named,
                f"Renamed to {renamed.strip()!r}.",
                kind_name=kind_name,
                entry_id=entry_id,
                new_name=renamed,
            )
    with delete.form(f"delete_{kind_name}"):
        entry_id = pick_one(f"Delete {label}", names)
        force = st.checkbox(f"Also remove the {label} from the users who have it")
        if st.form_submit_button(f"Delete {label}"):
            run_action(
                engine,
                catalog.delete_named,
                f"Deleted {label} {names[entry_id]!r} ({users[entry_id]:,} users had it).",
                kind_name=kind_name,
                entry_id=entry_id,
                force=force,
            )


def pick_one(label: str, names: Mapping[int, str]) -> int:
    """A select box over named ids (never empty); the chosen id."""
    chosen = st.selectbox(label, list(names), format_func=lambda i: names[i])
    assert chosen is not None, "a select box with options always has a choice"
    return chosen
