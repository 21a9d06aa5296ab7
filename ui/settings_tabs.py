"""The tabs of the Settings page, each a form over core.catalog or core.accounts."""

from datetime import datetime

import streamlit as st
from sqlalchemy import Engine

from core import accounts, catalog
from core.catalog import CatalogView
from core.config import Settings
from core.fields import PROFILE_FIELD_TYPES
from core.i18n import LANGUAGES, N_
from core.invitations import Invitation, invite_account, send_password_link
from core.saved_settings import save_time_zone, time_zone_locked, time_zones
from db.models import utcnow
from db.vocabulary import AccountRole
from ui.auth import ROLE_LABELS
from ui.text import _, current_language, moment
from ui.widgets import md, named_list_editor, pick_one, run_action

_TERMS_OPEN = "terms_open"
FIELD_TYPE_WORDS = {
    "text": N_("text"),
    "date": N_("date"),
    "taxonomy": N_("a term of a taxonomy"),
}
ACCOUNT_STATES = {
    "active": N_("active"),
    "disabled": N_("disabled"),
    "invited": N_("invited, no password chosen yet"),
    "invitation-expired": N_("invited, the link has expired: send a new one"),
}


def profile_fields_tab(engine: Engine, view: CatalogView) -> None:
    """Profile fields: change label, type and import flag; add and delete."""
    # Written out now: AppTest and Streamlit call format functions outside this run.
    type_words = {t: _(FIELD_TYPE_WORDS[t]) for t in PROFILE_FIELD_TYPES}
    st.dataframe(
        [
            {
                _("Label"): label,
                _("Type"): type_words[type_],
                _("Open for import"): importable,
            }
            for _id, _key, label, type_, importable, _taxonomy in view.fields
        ],
        hide_index=True,
        placeholder="",
    )
    edit, add = st.columns(2)
    if view.fields:
        by_id = {f[0]: f for f in view.fields}
        field_id = edit.selectbox(_("Change field"), list(by_id), format_func=lambda i: by_id[i][2])
        _id, _key, label, type_, importable, taxonomy_id = by_id[field_id]
        with edit.form(f"edit_field_{field_id}"):
            label = st.text_input(_("Label"), value=label)
            type_ = st.selectbox(
                _("Type"),
                PROFILE_FIELD_TYPES,
                PROFILE_FIELD_TYPES.index(type_),
                format_func=type_words.__getitem__,
            )
            taxonomy_id = st.selectbox(
                _("Taxonomy (for fields of type taxonomy)"),
                [None, *view.taxonomy_names],
                format_func=lambda i: view.taxonomy_names.get(i, "—"),
                index=[None, *view.taxonomy_names].index(taxonomy_id),
            )
            importable = st.checkbox(_("Open for import"), value=importable)
            delete = st.checkbox(_("Delete this field (stored values are kept but hidden)"))
            if st.form_submit_button(_("Save field")):
                if delete:
                    run_action(
                        engine,
                        catalog.delete_profile_field,
                        _("Profile field deleted."),
                        field_id=field_id,
                    )
                else:
                    run_action(
                        engine,
                        catalog.update_profile_field,
                        _("Profile field saved."),
                        field_id=field_id,
                        label=label,
                        type=type_,
                        importable=importable,
                        taxonomy_id=taxonomy_id,
                    )
    with add.form("add_field", clear_on_submit=True):
        label = st.text_input(_("New field label"), placeholder=_("Cost centre"))
        type_ = st.selectbox(
            _("New field type"), PROFILE_FIELD_TYPES, format_func=type_words.__getitem__
        )
        taxonomy_id = st.selectbox(
            _("New field taxonomy"),
            [None, *view.taxonomy_names],
            format_func=lambda i: view.taxonomy_names.get(i, "—"),
        )
        if st.form_submit_button(_("Add field")):
            run_action(
                engine,
                catalog.add_profile_field,
                _("Added the profile field {label!r}.").format(label=label),
                label=label,
                type=type_,
                taxonomy_id=taxonomy_id,
            )


def languages_tab(engine: Engine, view: CatalogView) -> None:
    """Languages: add and delete."""
    st.dataframe(
        [{_("Code"): code, _("Name"): name} for _id, code, name in view.languages],
        hide_index=True,
        placeholder="",
    )
    add, delete = st.columns(2)
    with add.form("add_language", clear_on_submit=True):
        code = st.text_input(
            _("Language code"), help=_("As the files write it, for example nl, en, de or fr-BE")
        )
        name = st.text_input(_("Language name"))
        if st.form_submit_button(_("Add language")):
            run_action(
                engine,
                catalog.add_language,
                _("Added language {code!r}.").format(code=code),
                code=code,
                name=name,
            )
    if view.languages:
        with delete.form("delete_language"):
            codes = {lang_id: code for lang_id, code, _name in view.languages}
            lang_id = pick_one(_("Delete language"), codes)
            force = st.checkbox(_("Also clear it for the users who have it"))
            if st.form_submit_button(_("Delete language")):
                run_action(
                    engine,
                    catalog.delete_language,
                    _("Language deleted."),
                    language_id=lang_id,
                    force=force,
                )


def taxonomies_tab(engine: Engine, view: CatalogView) -> None:
    """Taxonomies and their terms."""
    named_list_editor(engine, "taxonomy", view.named["taxonomy"])
    for t_id, t_name, _count in view.named["taxonomy"]:
        # The list just changed stays open, so a second term is typed without a search.
        is_open = st.session_state.get(_TERMS_OPEN) == t_id
        with st.expander(_("Terms of {name}").format(name=md(t_name)), expanded=is_open):
            st.write(md(", ".join(name for _id, name in view.terms[t_id])) or _("No terms yet."))
            with st.form(f"add_term_{t_id}", clear_on_submit=True):
                term = st.text_input(_("New term"))
                if st.form_submit_button(_("Add term")):
                    st.session_state[_TERMS_OPEN] = t_id
                    run_action(
                        engine,
                        catalog.add_term,
                        _("Added term {term!r}.").format(term=term),
                        taxonomy_id=t_id,
                        name=term,
                    )
            if view.terms[t_id]:
                with st.form(f"delete_term_{t_id}"):
                    names = dict(view.terms[t_id])
                    term_id = pick_one(_("Term"), names)
                    if st.form_submit_button(_("Delete term")):
                        run_action(
                            engine,
                            catalog.delete_term,
                            _("Deleted term {term!r}; users keep their value.").format(
                                term=names[term_id]
                            ),
                            term_id=term_id,
                        )


def protected_users_tab(engine: Engine, view: CatalogView) -> None:
    """Users that imports never touch."""
    st.write(_("Imports never change these users; their rows are reported instead."))
    st.dataframe([{_("Email"): email} for email in view.protected], hide_index=True, placeholder="")
    with st.form("protect"):
        email = st.text_input(_("Email address of an existing user"))
        protect = st.radio(_("Action"), [_("Protect"), _("Remove protection")], horizontal=True)
        if st.form_submit_button(_("Save")):
            run_action(
                engine,
                catalog.set_user_protected,
                _("Saved protection for {email!r}.").format(email=email),
                email=email,
                protected=protect == _("Protect"),
            )


def _account_state(state: str, until: datetime | None, time_zone: str) -> str:
    if state == "invited" and until is not None:
        return _("invited, the link works until {day}").format(day=moment(until, time_zone))
    return _(ACCOUNT_STATES[state])


def accounts_tab(engine: Engine, settings: Settings, view: CatalogView) -> None:
    """Portal accounts: invite by mail, send a new password link, disable."""
    roles = {r: _(ROLE_LABELS[r]) for r in accounts.ROLES}
    st.dataframe(
        [
            {
                _("Username"): u,
                _("Name"): n,
                _("Email"): e,
                _("Role"): _(ROLE_LABELS[r]),
                _("State"): _account_state(state, until, settings.time_zone),
            }
            for u, n, e, r, state, until in view.accounts
        ],
        hide_index=True,
        placeholder="",
    )
    # settings holds the mail server entered in Settings > Mail too (ui.auth.get_context).
    if not settings.smtp_configured:
        st.info(
            _(
                "No mail server is set up (Settings > Mail), so the link to choose a password "
                "is shown here once, for you to pass on."
            )
        )
    add, manage = st.columns(2)
    with add.form("add_account", clear_on_submit=True):
        st.caption(_("The new account gets a mail with a link to choose its own password."))
        username = st.text_input(_("Username"))
        name = st.text_input(_("Name"))
        email = st.text_input(_("Email"))
        # Most new accounts are for support staff; an administrator is chosen on purpose.
        role = st.selectbox(
            _("Role"),
            accounts.ROLES,
            index=accounts.ROLES.index(AccountRole.SUPPORT),
            format_func=lambda r: roles[r],
        )
        language = st.selectbox(
            _("Language"),
            list(LANGUAGES),
            index=list(LANGUAGES).index(current_language()),
            format_func=lambda code: LANGUAGES[code],
        )
        if st.form_submit_button(_("Invite")):
            run_action(
                engine,
                invite_account,
                lambda invitation: _invitation_words(invitation, settings.time_zone),
                settings=settings,
                username=username,
                name=name,
                email=email,
                role=role,
                language=language,
            )
    with manage.form("manage_account"):
        username = st.selectbox(_("Account"), [u for u, *_ in view.accounts])
        state = st.radio(
            _("Change"),
            [_("Send a link to choose a new password"), _("Disable"), _("Enable")],
            horizontal=False,
        )
        if st.form_submit_button(_("Save account")):
            if state == _("Send a link to choose a new password"):
                run_action(
                    engine,
                    send_password_link,
                    lambda invitation: _invitation_words(invitation, settings.time_zone),
                    settings=settings,
                    username=username,
                )
            else:
                run_action(
                    engine,
                    accounts.set_account_disabled,
                    _("Account {username!r} saved.").format(username=username),
                    username=username,
                    disabled=state == _("Disable"),
                )


def _invitation_words(invitation: Invitation, time_zone: str) -> str:
    """What the admin reads after a password link was made."""
    if invitation.mailed:
        return _("A link to choose a password is being mailed to {email}.").format(
            email=md(invitation.email)
        )
    assert invitation.expires_at is not None, "a link shown has its end"
    return _(
        "Give {username} this link to choose a password; it works once, until {day}: {link}"
    ).format(
        username=md(invitation.username),
        day=moment(invitation.expires_at, time_zone),
        link=f"`{invitation.link}`",
    )


def time_zone_tab(engine: Engine, settings: Settings) -> None:
    """The portal's time zone: every time on screen, in mails and in downloads is shown in it."""
    zones = time_zones()
    st.write(
        _(
            "Every time on screen, in mails and in downloads is shown in this time zone; "
            "schedules of links run by it. The database keeps UTC."
        )
    )
    locked = time_zone_locked(settings)
    with st.form("time_zone"):
        zone = st.selectbox(
            _("Time zone"),
            zones,
            index=zones.index(settings.time_zone) if settings.time_zone in zones else None,
            disabled=locked,
            help=_("Set by INSTROOM_TIME_ZONE on the server") if locked else None,
        )
        st.caption(_("Now: {moment}").format(moment=moment(utcnow(), zone or settings.time_zone)))
        if st.form_submit_button(_("Save time zone"), disabled=locked):
            run_action(
                engine,
                save_time_zone,
                _("The portal's time zone is now {zone}.").format(zone=zone),
                settings=settings,
                name=zone or "",
            )
