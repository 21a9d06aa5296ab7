"""Step 3: the options of the import."""

import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session

from core.config import Settings
from core.i18n import language_name
from core.options import MAX_KEEP_FILE_DAYS, ImportOptions
from core.validate import load_known_names
from db import queries
from db.vocabulary import EmptyAction, Kind, MatchKey, Mode
from ui.text import _, current_language, reason
from ui.widgets import md
from ui.wizard.state import Wizard, step_buttons


def step_options(wizard: Wizard, settings: Settings, engine: Engine) -> None:
    with Session(engine) as session:
        groups = [g.name for g in queries.list_groups(session=session)]
        levels = [lv.name for lv in queries.list_levels(session=session)]
        roles = [r.name for r in queries.list_roles(session=session)]
        languages = [lang.code for lang in queries.list_languages(session=session)]
        taxonomy_fields = {
            key: spec
            for key, spec in load_known_names(session=session).profile_fields.items()
            if spec.type == "taxonomy" and spec.importable
        }
    o = wizard.options
    # The choices are the vocabulary's; only their words are the screen's.
    modes = {
        Mode.UPSERT: _("Create and update"),
        Mode.CREATE: _("Only create new users"),
        Mode.UPDATE: _("Only update existing users"),
    }
    words = {MatchKey.EMAIL: _("email address"), MatchKey.USERNAME: _("username (user code)")}
    kinds = {Kind.EMPLOYEE: _("employee"), Kind.CONTACT: _("contact")}
    empty_words = {
        EmptyAction.BLOCK: _("Block the user (as AFAS Profit: code 0)"),
        EmptyAction.NONE: _("No action"),
    }
    mode = st.radio(
        _("What to do"),
        list(modes),
        format_func=modes.get,
        index=list(modes).index(o.mode),
        horizontal=True,
        help=_("Rows are matched with existing users; choose which of them to handle."),
    )
    match = st.radio(
        _("Match users on"),
        list(words),
        index=list(words).index(o.match),
        format_func=words.get,
        horizontal=True,
        help=_("How a row is recognised as an existing user."),
    )
    fill_missing = st.checkbox(
        _("Only fill empty fields"),
        o.fill_missing,
        help=_("Leave values that are already filled in as they are."),
    )
    left, right = st.columns(2)
    group_choice = left.multiselect(
        _("Add every row to these groups"),
        sorted(set(groups) | set(o.groups)),
        list(o.groups),
        help=_("Groups are added; existing memberships stay."),
        accept_new_options=True,
        placeholder=_("Choose groups, or type a new one"),
    )
    level_choice = right.multiselect(
        _("Give every row these levels"),
        sorted(set(levels) | set(o.levels)),
        list(o.levels),
        help=_("Levels are only ever added; existing levels stay."),
        accept_new_options=True,
        placeholder=_("Choose levels, or type a new one"),
    )
    create_groups = left.checkbox(
        _("Create groups that do not exist yet"),
        o.create_groups,
        help=_("Otherwise an unknown group rejects its row."),
    )
    create_levels = right.checkbox(
        _("Create levels that do not exist yet"),
        o.create_levels,
        help=_("Otherwise an unknown level rejects its row."),
    )
    create_terms = left.checkbox(
        _("Create unknown taxonomy terms"),
        o.create_terms,
        help=_("Otherwise an unknown term rejects its row."),
    )
    chosen_terms, terms = o.term_for_every_row(), []
    nothing = _("— none —")
    for key, spec in taxonomy_fields.items():
        names = [None, *sorted(set(spec.terms.values()))]
        term = left.selectbox(
            _("Give every row without its own value the {label}").format(label=spec.label),
            names,
            index=names.index(chosen_terms.get(key)) if chosen_terms.get(key) in names else 0,
            format_func=lambda t: t or nothing,
            key=f"term_{key}",
        )
        if term:
            terms.append(f"{key}={term}")
    # Written out now: Streamlit (and AppTest) call format functions outside this run.
    role_words = {None: _("no default: the role from the file")} | {r: r for r in roles}
    language_words = {None: _("no default: the language from the file")} | {
        code: language_name(code, current_language()) for code in languages
    }
    role = left.selectbox(
        _("Role for new users"),
        [None, *roles],
        index=[None, *roles].index(o.role) if o.role in roles else 0,
        format_func=role_words.__getitem__,
        help=_("Used when the file gives none."),
    )
    language = right.selectbox(
        _("Language for new users"),
        [None, *languages],
        index=[None, *languages].index(o.language) if o.language in languages else 0,
        format_func=language_words.__getitem__,
        help=_("Chooses the language of their emails."),
    )
    kind = right.radio(
        _("Kind of new users"),
        list(kinds),
        index=list(kinds).index(o.kind),
        format_func=kinds.get,
        horizontal=True,
        help=_("Also the kind a full-list import covers."),
    )
    full_list = st.checkbox(
        _("This file is the full list"),
        o.full_list,
        help=_("Users of this kind who are not in the file get blocked."),
    )
    max_deactivate = st.text_input(
        _("Block at most"),
        o.max_deactivate or "10%",
        help=_("A number or a percentage; above it nothing is done."),
        disabled=not full_list,
    )
    st.markdown(_("**Emails**"))
    welcome_new = st.checkbox(
        _("Send new users a welcome email"),
        o.welcome_new,
        help=_("With a link to set their password."),
    )
    welcome_updated = st.checkbox(
        _("Send updated users who have not activated their account a welcome email"),
        o.welcome_updated,
        help=_("A new link to choose their password; users who already have one get none."),
    )
    notify_updated = st.checkbox(_("Tell updated users what changed"), o.notify_updated)
    notify_admin = st.checkbox(_("Email me when the import is done"), wizard.notify_me)
    strict = st.radio(
        _("When rows are rejected"),
        [False, True],
        index=int(o.strict),
        format_func={
            True: _("All or nothing: import nothing"),
            False: _("Import the valid rows; give me the rejected ones to fix"),
        }.get,
        help=_("Rejected rows come back as a file to correct and upload again."),
    )
    empty_action = o.empty_action
    if "action" in (wizard.mapping or {}).values():
        empty_action = st.radio(
            _("An empty code in the action column means"),
            list(empty_words),
            index=list(empty_words).index(o.empty_action),
            format_func=empty_words.get,
            horizontal=True,
        )
    keep_days = st.number_input(
        _("Keep the uploaded file for (days)"),
        0,
        MAX_KEEP_FILE_DAYS,
        o.keep_file_days,
        help=_(
            "0: the file is deleted as soon as the import has run. A kept file can be "
            "downloaded from the history until then."
        ),
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
            terms=tuple(terms),
            role=role,
            language=language,
            kind=kind,
            full_list=full_list,
            max_deactivate=max_deactivate if full_list else None,
            welcome_new=welcome_new,
            welcome_updated=welcome_updated,
            notify_updated=notify_updated,
            notify_admin=None,
            strict=strict,
            keep_file_days=int(keep_days),
            empty_action=empty_action,
        )
        wizard.notify_me = notify_admin
    except ValueError as exc:
        st.error(md(reason(exc)))
        return
    step_buttons(wizard)
