"""Settings > Mail: who the mails come from, and their words per message and language."""

import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session

from core.accounts import SignedInAccount
from core.config import Settings
from core.i18n import LANGUAGES, N_, gettext
from core.issues import InstroomError
from core.mail import sample_values, send_test_mail
from core.mail_templates import (
    KIND_NAMES,
    MAIL_LANGUAGES,
    PLACEHOLDERS,
    check_template,
    get_organisation,
    get_template,
    is_edited,
    render_text,
    reset_template,
    save_organisation,
    save_template,
)
from core.saved_settings import MAIL_SERVER_FIELDS, SECURITY, load_mail_server, save_mail_server
from ui.text import _, current_language, reason
from ui.widgets import md, run_action

# How the connection to the mail server is secured, in words.
SECURITY_WORDS = {
    "none": N_("none (only on a trusted network)"),
    "starttls": N_("STARTTLS (usually port 587)"),
    "ssl": N_("SSL/TLS (usually port 465)"),
}


def mail_section(engine: Engine, settings: Settings, account: SignedInAccount) -> None:
    """The organisation's name and the sender's, then one message at a time to edit."""
    with Session(engine) as session:
        organisation = get_organisation(session=session)
    with st.form("organisation"):
        name = st.text_input(_("Name of the organisation"), organisation.name)
        sender = st.text_input(
            _("Name of the sender"),
            organisation.sender_name,
            help=_("Mails come from {address}.").format(address=settings.mail_from),
        )
        if st.form_submit_button(_("Save")):
            run_action(engine, save_organisation, _("Saved."), name=name, sender_name=sender)
    _server_form(engine, settings, account)

    kinds = {k: _(v) for k, v in KIND_NAMES.items()}
    kind = st.selectbox(_("Message"), list(kinds), format_func=lambda k: kinds[k])
    language = st.radio(
        _("Language"), MAIL_LANGUAGES, format_func=lambda code: LANGUAGES[code], horizontal=True
    )
    with Session(engine) as session:
        subject, body = get_template(session=session, kind=kind, language=language)
        edited = is_edited(session=session, kind=kind, language=language)
    editor, guide = st.columns([3, 2])
    # Keyed by message and language: switching shows that message's words, not the last typed.
    subject = editor.text_input(_("Subject"), subject, key=f"mail_subject_{kind}_{language}")
    body = editor.text_area(_("Text"), body, height=260, key=f"mail_body_{kind}_{language}")
    guide.markdown(
        "**"
        + _("Placeholders")
        + "**\n\n"
        + "\n".join(
            f"- `{{{{ {name} }}}}`: {gettext(words, current_language())}"
            for name, words in PLACEHOLDERS[kind].items()
        )
    )
    guide.caption(_("Instroom's own text.") if not edited else _("The organisation's own text."))
    _preview(engine, settings, kind, language, subject, body)
    save, restore = st.columns(2)
    if save.button(_("Save the message"), type="primary"):
        run_action(
            engine,
            save_template,
            _("{message} ({language}) saved.").format(
                message=kinds[kind], language=LANGUAGES[language]
            ),
            kind=kind,
            language=language,
            subject=subject,
            body=body,
            updated_by=account.username,
        )
    if edited and restore.button(_("Use Instroom's own text again")):
        for key in (f"mail_subject_{kind}_{language}", f"mail_body_{kind}_{language}"):
            st.session_state.pop(key, None)
        run_action(
            engine,
            reset_template,
            _("Instroom's own text is used again."),
            kind=kind,
            language=language,
        )


def _server_form(engine: Engine, settings: Settings, account: SignedInAccount) -> None:
    """The mail server: what the environment sets is locked; a password is sealed."""
    with Session(engine) as session:
        server = load_mail_server(session=session, settings=settings)
    if not server.host:
        st.info(_("No mail server is set yet: messages are kept, not sent."))
    with st.expander(_("Mail server"), expanded=not server.host), st.form("mail_server"):
        if server.locked:
            st.caption(
                _("Set in the environment or secrets.toml, so locked here: {names}.").format(
                    names=", ".join(MAIL_SERVER_FIELDS[f] for f in sorted(server.locked))
                )
            )
        host = st.text_input(_("Server"), server.host, disabled="smtp_host" in server.locked)
        port = st.number_input(
            _("Port"), 1, 65535, server.port, disabled="smtp_port" in server.locked
        )
        security = st.selectbox(
            _("Security"),
            SECURITY,
            index=SECURITY.index(server.security),
            format_func={s: _(SECURITY_WORDS[s]) for s in SECURITY}.__getitem__,
            disabled="smtp_security" in server.locked,
        )
        user = st.text_input(_("User name"), server.user, disabled="smtp_user" in server.locked)
        password = st.text_input(
            _("Password"),
            type="password",
            placeholder=_("kept; type to change") if server.has_password else "",
            disabled="smtp_password" in server.locked,
        )
        sender = st.text_input(
            _("Sender's address"), server.mail_from, disabled="mail_from" in server.locked
        )
        if st.form_submit_button(_("Save the mail server")):
            run_action(
                engine,
                save_mail_server,
                _("The mail server is saved."),
                settings=settings,
                host=host,
                port=int(port),
                security=security,
                user=user,
                password=password or None,
                mail_from=sender,
            )
    if st.button(_("Send a test mail to {address}").format(address=account.email)):
        try:
            send_test_mail(engine=engine, settings=settings, recipient=account.email)
        except InstroomError as exc:
            st.error(md(_("The test mail was not sent: {reason}").format(reason=reason(exc))))
        else:
            st.success(
                _("The mail server accepted the test mail for {address}.").format(
                    address=account.email
                )
            )


def _preview(
    engine: Engine, settings: Settings, kind: str, language: str, subject: str, body: str
) -> None:
    """The message as a real user (or the newest import) would get it, as it is typed."""
    email = ""
    if kind != "completion":
        label = (
            _("Preview for the portal account with this email address")
            if kind == "invite"
            else _("Preview for the user with this email address")
        )
        email = st.text_input(label, key=f"mail_preview_{kind}")
    try:
        check_template(kind, subject, body)
        with Session(engine) as session:
            values = sample_values(
                session=session, kind=kind, language=language, email=email, settings=settings
            )
            shown = render_text(
                session=session, kind=kind, subject=subject, body=body, values=values
            )
    except InstroomError as exc:
        st.error(md(reason(exc)))
        return
    with st.container(border=True):
        st.markdown(f"**{md(shown[0])}**")
        st.text(shown[1])
