"""Step 2: which field each column fills, suggested from the headers or a saved mapping."""

from functools import partial

import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session

from core.accounts import SignedInAccount
from core.config import Settings
from core.fields import BUILTIN_FIELDS
from core.mapping import check_mapping, find_saved_mapping, mapping_from_saved, save_mapping
from core.pipeline import (
    known_fields,
    resolve_mapping,
)
from core.validate import load_known_names
from db.engine import session_scope
from ui.text import _, current_language
from ui.widgets import md
from ui.wizard.state import Wizard, current_table, step_buttons


def step_map(wizard: Wizard, settings: Settings, engine: Engine, account: SignedInAccount) -> None:
    table = current_table(wizard, settings)
    with Session(engine) as session:
        known_names = load_known_names(session=session)
        if wizard.mapping is None:
            saved = find_saved_mapping(session=session, headers=table.headers)
            wizard.mapping = resolve_mapping(
                table, known_names, saved=mapping_from_saved(saved) if saved else None
            )
            wizard.mapping_note = saved.name if saved else ""
    suggestions = resolve_mapping(table, known_names)
    fields: list[str | None] = [None, *known_fields(known_names)]
    labels: dict[str | None, str] = {None: _("— leave out —")}
    labels.update({key: _(label) for key, label in BUILTIN_FIELDS.items()})
    labels.update(known_names.importable_profile_fields)
    if wizard.mapping_note:
        st.info(_("Applied the saved mapping {name!r}.").format(name=wizard.mapping_note))
    for index in range(len(table.headers)):
        header, samples = table.column_name(index), table.data[index].head(3).tolist()
        header_col, sample_col, pick = st.columns([2, 3, 2])
        header_col.markdown(f"**{md(header)}**")
        sample_col.caption(" · ".join(md(v) for v in samples if v) or _("(empty)"))
        suggested = suggestions.get(index)
        wizard.mapping[index] = pick.selectbox(
            _("Field for {header}").format(header=header),
            fields,
            index=fields.index(wizard.mapping.get(index)),
            format_func=partial(_field_label, labels, suggested, _(" (suggested)")),
            key=f"map_{index}",
            label_visibility="collapsed",
        )
    check = check_mapping(table.headers, wizard.mapping, known_fields(known_names))
    for issue in check.issues:
        st.error(md(issue.text(current_language())))
    if check.ignored_columns:
        st.caption(_("Left out: ") + md(", ".join(check.ignored_columns)))
    with st.form("save_mapping", clear_on_submit=True):
        name = st.text_input(
            _("Save this mapping as"),
            help=_("Files with the same headers get it automatically next time."),
        )
        if st.form_submit_button(_("Save mapping")) and name.strip():
            with session_scope(engine) as session:
                save_mapping(
                    session=session,
                    name=name,
                    headers=table.headers,
                    mapping=wizard.mapping,
                    created_by=account.username,
                )
            st.success(md(_("Saved the mapping {name!r}.").format(name=name.strip())))
    step_buttons(wizard, can_next=check.ok)


def _field_label(
    labels: dict[str | None, str], suggested: str | None, words: str, field: str | None
) -> str:
    # The words are chosen when the page is drawn: this runs later, outside the page's run.
    return labels[field] + (words if field and field == suggested else "")
