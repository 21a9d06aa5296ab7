"""The tabs of the Settings page, each a form over core.catalog or core.accounts."""

import streamlit as st
from sqlalchemy import Engine

from core import accounts, catalog
from core.catalog import CatalogView
from core.fields import PROFILE_FIELD_TYPES
from core.i18n import LANGUAGES
from ui.text import current_language
from ui.widgets import md, named_list_editor, pick_one, run_action


def profile_fields_tab(engine: Engine, view: CatalogView) -> None:
    """Profile fields: change label, type and import flag; add and delete."""
    st.dataframe(
        [
            {"Key": key, "Label": label, "Type": type_, "Open for import": importable}
            for _, key, label, type_, importable, _ in view.fields
        ],
        hide_index=True,
    )
    edit, add = st.columns(2)
    if view.fields:
        by_id = {f[0]: f for f in view.fields}
        field_id = edit.selectbox("Change field", list(by_id), format_func=lambda i: by_id[i][1])
        _, key, label, type_, importable, taxonomy_id = by_id[field_id]
        with edit.form(f"edit_field_{field_id}"):
            label = st.text_input("Label", value=label)
            type_ = st.selectbox("Type", PROFILE_FIELD_TYPES, PROFILE_FIELD_TYPES.index(type_))
            taxonomy_id = st.selectbox(
                "Taxonomy (for fields of type taxonomy)",
                [None, *view.taxonomy_names],
                format_func=lambda i: view.taxonomy_names.get(i, "—"),
                index=[None, *view.taxonomy_names].index(taxonomy_id),
            )
            importable = st.checkbox("Open for import", value=importable)
            delete = st.checkbox("Delete this field (stored values are kept but hidden)")
            if st.form_submit_button("Save field"):
                if delete:
                    run_action(
                        engine,
                        catalog.delete_profile_field,
                        "Profile field deleted.",
                        field_id=field_id,
                    )
                else:
                    run_action(
                        engine,
                        catalog.update_profile_field,
                        "Profile field saved.",
                        field_id=field_id,
                        label=label,
                        type=type_,
                        importable=importable,
                        taxonomy_id=taxonomy_id,
                    )
    with add.form("add_field", clear_on_submit=True):
        key = st.text_input("New field key", help="What files and the CLI map to, e.g. cost_center")
        label = st.text_input("New field label")
        type_ = st.selectbox("New field type", PROFILE_FIELD_TYPES)
        taxonomy_id = st.selectbox(
            "New field taxonomy",
            [None, *view.taxonomy_names],
            format_func=lambda i: view.taxonomy_names.get(i, "—"),
        )
        if st.form_submit_button("Add field"):
            run_action(
                engine,
                catalog.add_profile_field,
                f"Added profile field {key!r}.",
                key=key,
                label=label,
                type=type_,
                taxonomy_id=taxonomy_id,
            )


def languages_tab(engine: Engine, view: CatalogView) -> None:
    """Languages: add and delete."""
    st.dataframe(
        [{"Code": code, "Name": name} for _, code, name in view.languages], hide_index=True
    )
    add, delete = st.columns(2)
    with add.form("add_language", clear_on_submit=True):
        code = st.text_input("Language code", help="nl, en, de, fr-BE")
        name = st.text_input("Language name")
        if st.form_submit_button("Add language"):
            run_action(
                engine, catalog.add_language, f"Added language {code!r}.", code=code, name=name
            )
    if view.languages:
        with delete.form("delete_language"):
            codes = {lang_id: code for lang_id, code, _ in view.languages}
            lang_id = pick_one("Delete language", codes)
            force = st.checkbox("Also clear it for the users who have it")
            if st.form_submit_button("Delete language"):
                run_action(
                    engine,
                    catalog.delete_language,
                    "Language deleted.",
                    language_id=lang_id,
                    force=force,
                )


def taxonomies_tab(engine: Engine, view: CatalogView) -> None:
    """Taxonomies and their terms."""
    named_list_editor(engine, "taxonomy", view.named["taxonomy"])
    for t_id, t_name, _ in view.named["taxonomy"]:
        with st.expander(f"Terms of {md(t_name)}"):
            st.write(md(", ".join(name for _, name in view.terms[t_id])) or "No terms yet.")
            with st.form(f"add_term_{t_id}", clear_on_submit=True):
                term = st.text_input("New term")
                if st.form_submit_button("Add term"):
                    run_action(
                        engine,
                        catalog.add_term,
                        f"Added term {term!r}.",
                        taxonomy_id=t_id,
                        name=term,
                    )
            if view.terms[t_id]:
                with st.form(f"delete_term_{t_id}"):
                    names = dict(view.terms[t_id])
                    term_id = pick_one("Term", names)
                    if st.form_submit_button("Delete term"):
                        run_action(
                            engine,
                            catalog.delete_term,
                            f"Deleted term {names[term_id]!r}; users keep their value.",
                            term_id=term_id,
                        )


def protected_users_tab(engine: Engine, view: CatalogView) -> None:
    """Users that imports never touch."""
    st.write("Imports never change these users; their rows are reported instead.")
    st.dataframe([{"Email": email} for email in view.protected], hide_index=True)
    with st.form("protect"):
        email = st.text_input("Email address of an existing user")
        protect = st.radio("Action", ["Protect", "Remove protection"], horizontal=True)
        if st.form_submit_button("Save"):
            run_action(
                engine,
                catalog.set_user_protected,
                f"Saved protection for {email!r}.",
                email=email,
                protected=protect == "Protect",
            )


def accounts_tab(engine: Engine, view: CatalogView) -> None:
    """Portal accounts: add, reset a password, disable."""
    st.dataframe(
        [
            {
                "Username": u,
                "Name": n,
                "Email": e,
                "Role": r,
                "State": "disabled" if d else "active",
            }
            for u, n, e, r, d in view.accounts
        ],
        hide_index=True,
    )
    add, manage = st.columns(2)
    with add.form("add_account", clear_on_submit=True):
        username = st.text_input("Username")
        name = st.text_input("Name")
        email = st.text_input("Email")
        # Most new accounts are for support staff; an administrator is chosen on purpose.
        role = st.selectbox("Role", accounts.ROLES, index=accounts.ROLES.index("support"))
        language = st.selectbox(
            "Language",
            list(LANGUAGES),
            index=list(LANGUAGES).index(current_language()),
            format_func=lambda code: LANGUAGES[code],
        )
        password = st.text_input("Initial password", type="password")
        if st.form_submit_button("Add account"):
            run_action(
                engine,
                accounts.create_account,
                f"Account {username!r} added.",
                username=username,
                name=name,
                email=email,
                role=role,
                password=password,
                language=language,
            )
    with manage.form("manage_account"):
        username = st.selectbox("Account", [u for u, *_ in view.accounts])
        password = st.text_input("New password (leave empty to keep)", type="password")
        state = st.radio("State", ["Keep", "Disable", "Enable"], horizontal=True)
        if st.form_submit_button("Save account"):
            if password:
                run_action(
                    engine,
                    accounts.reset_password,
                    "Password reset.",
                    username=username,
                    password=password,
                )
            elif state != "Keep":
                run_action(
                    engine,
                    accounts.set_account_disabled,
                    f"Account {username!r} saved.",
                    username=username,
                    disabled=state == "Disable",
                )
