"""Settings > Sign-in: the identity providers configured, local passwords, the login log."""

import streamlit as st
from sqlalchemy import Engine

from core.config import Settings
from core.signin import PROVIDER_KINDS, list_attempts, local_passwords_allowed, set_local_passwords
from db.engine import read_session
from ui.auth import configured_providers
from ui.text import _, current_language, shown
from ui.widgets import md, run_action


def signin_section(engine: Engine, settings: Settings) -> None:
    """What secrets.toml configures (never its secrets), and the choice of local passwords."""
    providers = configured_providers()
    if providers:
        st.markdown(
            _("Sign-in through an identity provider, configured in secrets.toml: {names}.").format(
                names=", ".join(md(PROVIDER_KINDS.get(p, p)) for p in providers)
            )
        )
    else:
        st.info(
            _(
                "No identity provider is configured. Add an [auth] section to secrets.toml to "
                "offer Sign in with Microsoft or Google (see the README)."
            )
        )
    allowed_from = [
        _("Microsoft Entra ID tenant: {tenant}").format(tenant=md(settings.signin_tenant))
        if settings.signin_tenant
        else _("Microsoft Entra ID tenant: not set (INSTROOM_SIGNIN_TENANT)"),
        _("Google Workspace domain: {domain}").format(domain=md(settings.signin_domain))
        if settings.signin_domain
        else _("Google Workspace domain: not set (INSTROOM_SIGNIN_DOMAIN)"),
    ]
    st.caption("  \n".join(allowed_from))
    with read_session(engine) as session:
        allowed = local_passwords_allowed(session=session)
        attempts = list_attempts(session=session, language=current_language())
    wanted = st.toggle(
        _("Local passwords allowed"),
        allowed,
        disabled=not providers and allowed,
        help=_(
            "Off: only the identity providers sign people in. An administrator can always get "
            "back in on the server with cli.py reset-password, which allows them again."
        ),
    )
    if wanted != allowed:
        run_action(
            engine,
            set_local_passwords,
            _("Local passwords are allowed.") if wanted else _("Local passwords are off."),
            allowed=wanted,
            providers=providers,
        )
    st.markdown("**" + _("Latest sign-in attempts") + "**")
    if attempts:
        st.dataframe(shown(attempts, settings.time_zone), hide_index=True, placeholder="")
    else:
        st.write(_("No sign-in attempts yet."))
