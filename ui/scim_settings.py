"""Settings > SCIM: the identity providers that keep users in step, their tokens and rules."""

import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session

from core.accounts import SignedInAccount
from core.catalog import CatalogView
from core.config import Settings
from core.fields import VALUE_WORDS, labels_in
from core.i18n import N_
from core.scim import (
    PROFILE_ATTRIBUTES,
    create_connection,
    describe_mapping,
    list_connections,
    revoke_token,
    rotate_token,
    update_connection,
)
from db.engine import read_session
from db.models import ScimConnection
from db.vocabulary import Kind
from ui.text import _, current_language, moment
from ui.widgets import md, run_action

NEW_TOKEN = "scim_new_token"
ATTRIBUTE_WORDS = {
    "title": N_("Job title (title)"),
    "employeeNumber": N_("Employee number (employeeNumber)"),
    "department": N_("Department (department)"),
    "organization": N_("Organisation (organization)"),
    "manager": N_("Manager (manager)"),
}


def scim_section(
    engine: Engine, settings: Settings, account: SignedInAccount, view: CatalogView
) -> None:
    """The address providers call, each connection with its token and options, and a new one."""
    st.write(
        _(
            "Microsoft Entra ID, Okta and Google Workspace create, change and block users here "
            "by themselves (SCIM 2.0), with every rule an import has. Each change is in the "
            "history, one entry per connection per day, and can be undone."
        )
    )
    st.markdown(_("Address to enter at the identity provider (Tenant URL):"))
    st.code(settings.base_url.rstrip("/") + "/scim/v2", language=None)
    _show_new_token()
    with read_session(engine) as session:
        connections = list_connections(session=session)
    for connection in connections:
        _connection(engine, settings, connection, view)
    with st.form("scim_new", clear_on_submit=True):
        st.markdown("**" + _("New connection") + "**")
        name = st.text_input(_("Name"), placeholder="Entra ID")
        if st.form_submit_button(_("Make the connection and its token")):
            run_action(
                engine,
                _create,
                _("Connection {name} made.").format(name=md(name.strip())),
                name=name,
                created_by=account.username,
            )


def _create(*, session: Session, name: str, created_by: str) -> None:
    connection, token = create_connection(session=session, name=name, created_by=created_by)
    st.session_state[NEW_TOKEN] = (connection.name, token)


def _rotate(*, session: Session, name: str) -> None:
    st.session_state[NEW_TOKEN] = (name, rotate_token(session=session, name=name))


def _show_new_token() -> None:
    """The token of a connection just made or renewed: shown this once, never stored."""
    shown = st.session_state.pop(NEW_TOKEN, None)
    if shown is None:
        return
    name, token = shown
    st.warning(
        _(
            "The token of {name}: copy it now into the identity provider (Secret Token). "
            "Instroom keeps only a fingerprint of it and cannot show it again."
        ).format(name=md(name))
    )
    st.code(token, language=None)


def _state(connection: ScimConnection, time_zone: str) -> str:
    if connection.token_hash is None:
        return _("No token: the provider cannot call. Make a new token to connect again.")
    used = (
        _("last used {moment}").format(moment=moment(connection.last_used_at, time_zone))
        if connection.last_used_at
        else _("not used yet")
    )
    paused = _("Paused") if connection.paused else _("Active")
    made = moment(connection.token_created_at, time_zone) if connection.token_created_at else ""
    return _("{state}; token made {made}, {used}.").format(state=paused, made=made, used=used)


def _connection(
    engine: Engine, settings: Settings, connection: ScimConnection, view: CatalogView
) -> None:
    name = connection.name
    with st.expander(name, expanded=connection.paused):
        st.caption(_state(connection, settings.time_zone))
        with st.form(f"scim_{connection.id}"):
            options = _options(connection, view)
            if st.form_submit_button(_("Save")):
                run_action(engine, update_connection, _("Saved."), name=name, **options)
        st.markdown("**" + _("How the provider's values fill Instroom's fields") + "**")
        labels = labels_in(current_language(), {k: label for _i, k, label, *_r in view.fields})
        mapping = describe_mapping(connection)
        st.table(
            {
                _("SCIM attribute"): [_(attribute) for attribute, _key in mapping],
                _("Field in Instroom"): [labels.get(key, key) for _attribute, key in mapping],
            }
        )
        renew, revoke = st.columns(2)
        if renew.button(_("Make a new token"), key=f"scim_renew_{connection.id}"):
            run_action(engine, _rotate, _("The old token no longer works."), name=name)
        if revoke.button(
            _("Revoke the token"),
            key=f"scim_revoke_{connection.id}",
            disabled=connection.token_hash is None,
        ):
            run_action(engine, revoke_token, _("The token no longer works."), name=name)


def _options(connection: ScimConnection, view: CatalogView) -> dict[str, object]:
    """The connection's options as a form; what the form gives back is what is saved."""
    # Words made here, not in format_func: a test's selectbox formats outside the page run.
    roles = {"": _("none"), **{name: name for _i, name, _n in view.named["role"]}}
    languages = {"": _("the portal's default"), **{c: n for _i, c, n in view.languages}}
    fields = {"": _("not kept"), **{key: label for _i, key, label, *_r in view.fields}}
    kinds = {k.value: _(VALUE_WORDS["kind"][k.value]) for k in Kind}
    left, right = st.columns(2)
    chosen: dict[str, object] = {
        "paused": left.toggle(
            _("Paused: the provider's calls are refused until resumed"), connection.paused
        ),
        "welcome_new": left.checkbox(_("New users get the welcome mail"), connection.welcome_new),
        "may_deactivate": left.checkbox(
            _("May block users (active is false, or the provider removes them)"),
            connection.may_deactivate,
        ),
        "may_delete": left.checkbox(
            _("DELETE removes users for good (else it blocks them; no revert brings them back)"),
            connection.may_delete,
        ),
        "own_groups_only": left.checkbox(
            _("May change only the groups it made"), connection.own_groups_only
        ),
        "match_username": left.checkbox(
            _("userName is the username (user code), not the email address"),
            connection.match_username,
        ),
        "role": right.selectbox(
            _("Role of new users"),
            list(roles),
            index=list(roles).index(connection.role) if connection.role in roles else 0,
            format_func=roles.__getitem__,
        )
        or None,
        "language": right.selectbox(
            _("Language of new users without preferredLanguage"),
            list(languages),
            index=list(languages).index(connection.language)
            if connection.language in languages
            else 0,
            format_func=languages.__getitem__,
        )
        or None,
        "kind": right.selectbox(
            _("Kind of new users"),
            list(kinds),
            index=list(kinds).index(connection.kind),
            format_func=kinds.__getitem__,
        ),
    }
    profile_map = {}
    for attribute in PROFILE_ATTRIBUTES:
        current = connection.profile_map.get(attribute, "")
        key = right.selectbox(
            _(ATTRIBUTE_WORDS[attribute]),
            list(fields),
            index=list(fields).index(current) if current in fields else 0,
            format_func=fields.__getitem__,
        )
        if key:
            profile_map[attribute] = key
    chosen["profile_map"] = profile_map
    return chosen
