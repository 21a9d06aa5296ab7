"""The mails' words: templates the organisation edits per language, rendered in Jinja2's sandbox.

An admin's template can reach only its placeholders: the sandbox refuses attributes such
as __class__, and a template that fails is refused when it is saved, with the reason.
"""

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from sqlmodel import Session

from core.i18n import N_
from core.issues import Refusal
from db import queries
from db.models import AppSetting, MailTemplate, utcnow

MAIL_LANGUAGES = ("nl", "en")
MAX_TEMPLATE_LENGTH = 20_000
ORGANISATION, SENDER_NAME = "organisation_name", "sender_name"
# What each message may say, and what each placeholder holds (shown beside the editor).
PLACEHOLDERS: dict[str, dict[str, str]] = {
    "welcome": {
        "naam": N_("the user's whole name"),
        "voornaam": N_("the user's first name"),
        "achternaam": N_("the user's last name, with its insert"),
        "activatielink": N_("the one-time link to choose a password"),
        "geldig_tot": N_("the day the link stops working"),
        "organisatie": N_("the organisation's name"),
    },
    "updated": {
        "naam": N_("the user's whole name"),
        "voornaam": N_("the user's first name"),
        "achternaam": N_("the user's last name, with its insert"),
        "wijzigingen": N_("the fields that were changed"),
        "organisatie": N_("the organisation's name"),
    },
    "invite": {
        "naam": N_("the name of the new portal account"),
        "gebruikersnaam": N_("the username to log in with"),
        "activatielink": N_("the one-time link to choose a password"),
        "geldig_tot": N_("the day the link stops working"),
        "organisatie": N_("the organisation's name"),
    },
    "completion": {
        "import": N_("the import's number"),
        "bestand": N_("the file's name"),
        "status": N_("how the import ended"),
        "aantallen": N_("what the import did, counted"),
        "link": N_("the address of the import in the history"),
        "organisatie": N_("the organisation's name"),
    },
}
KIND_NAMES = {
    "welcome": N_("Welcome mail"),
    "updated": N_("Update notice"),
    "completion": N_("Completion mail"),
    "invite": N_("Invitation to the portal"),
}
DEFAULTS: dict[tuple[str, str], tuple[str, str]] = {
    ("welcome", "nl"): (
        "Welkom, je account is klaar",
        "Beste {{ naam }},\n\nEr is een account voor je aangemaakt. Kies je wachtwoord via "
        "deze link; hij werkt één keer en is geldig tot {{ geldig_tot }}:\n\n"
        "{{ activatielink }}\n\nMet vriendelijke groet,\nDe beheerder",
    ),
    ("welcome", "en"): (
        "Welcome, your account is ready",
        "Dear {{ naam }},\n\nAn account has been created for you. Choose your password with "
        "this link; it works once and is valid until {{ geldig_tot }}:\n\n{{ activatielink }}"
        "\n\nKind regards,\nThe administrator",
    ),
    ("updated", "nl"): (
        "Je gegevens zijn bijgewerkt",
        "Beste {{ naam }},\n\nDe beheerder heeft je gegevens bijgewerkt: {{ wijzigingen }}. "
        "Klopt er iets niet? Neem dan contact op met de beheerder.\n\nMet vriendelijke "
        "groet,\nDe beheerder",
    ),
    ("updated", "en"): (
        "Your details were updated",
        "Dear {{ naam }},\n\nThe administrator has updated your details: {{ wijzigingen }}. "
        "If anything is wrong, please contact the administrator.\n\nKind regards,\n"
        "The administrator",
    ),
    ("invite", "nl"): (
        "Je account voor Instroom",
        "Beste {{ naam }},\n\nEr is een account voor je gemaakt op het portaal waarmee "
        "{{ organisatie or 'de organisatie' }} gebruikers importeert. Je gebruikersnaam is "
        "{{ gebruikersnaam }}. Kies je wachtwoord via deze link; hij werkt één keer en is "
        "geldig tot {{ geldig_tot }}:\n\n{{ activatielink }}\n\nMet vriendelijke groet,\n"
        "De beheerder",
    ),
    ("invite", "en"): (
        "Your Instroom account",
        "Dear {{ naam }},\n\nAn account has been made for you on the portal through which "
        "{{ organisatie or 'the organisation' }} imports its users. Your username is "
        "{{ gebruikersnaam }}. Choose your password with this link; it works once and is valid "
        "until {{ geldig_tot }}:\n\n{{ activatielink }}\n\nKind regards,\nThe administrator",
    ),
    ("completion", "nl"): (
        "Import {{ import }} is klaar: {{ status }}",
        "Import {{ import }} ({{ bestand }}) is klaar met status {{ status }}.\n\n"
        "{{ aantallen }}\n\nBekijk de import: {{ link }}",
    ),
    ("completion", "en"): (
        "Import {{ import }} finished: {{ status }}",
        "Import {{ import }} ({{ bestand }}) finished with status {{ status }}.\n\n"
        "{{ aantallen }}\n\nSee the import: {{ link }}",
    ),
}


class TemplateRefused(Refusal):
    """A mail template cannot be saved; the message says what is wrong in it."""


@dataclass(frozen=True)
class Organisation:
    """Who the mails come from: the organisation's name and the sender's."""

    name: str = ""
    sender_name: str = ""


@functools.cache
def _sandbox() -> SandboxedEnvironment:
    # Text, not HTML: the HTML part is made from the text with every value escaped.
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def mail_language(code: str | None) -> str:
    """The language a user's mails are written in (Dutch when theirs has no templates)."""
    return code if code in MAIL_LANGUAGES else MAIL_LANGUAGES[0]


def check_template(kind: str, subject: str, body: str) -> None:
    """Refuse a template that is too long, does not parse, names an unknown placeholder,
    reaches outside its placeholders or fails to render."""
    allowed = PLACEHOLDERS[kind]
    sample = {name: f"[{name}]" for name in allowed}
    for part, text in (("subject", subject), ("body", body)):
        if len(text) > MAX_TEMPLATE_LENGTH:
            raise TemplateRefused.of("invalid-template", "too-long", limit=MAX_TEMPLATE_LENGTH)
        try:
            unknown = meta.find_undeclared_variables(_sandbox().parse(text)) - set(allowed)
            if unknown:
                raise TemplateRefused.of(
                    "invalid-template",
                    "unknown",
                    names=", ".join(sorted(unknown)),
                    allowed=", ".join(allowed),
                )
            _sandbox().from_string(text).render(sample)
        except SecurityError as exc:
            raise TemplateRefused.of(
                "invalid-template", "unsafe", reason=str(exc).rstrip(".")
            ) from None
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            raise TemplateRefused.of(
                "invalid-template", "syntax", part=part, line=line or 1, reason=exc.message or ""
            ) from None
        except (ArithmeticError, TypeError, ValueError, LookupError) as exc:
            raise TemplateRefused.of(
                "invalid-template", "unsafe", reason=str(exc).rstrip(".")
            ) from None


def get_template(*, session: Session, kind: str, language: str) -> tuple[str, str]:
    """The organisation's subject and body of a message, or Instroom's own."""
    stored = queries.get_mail_template(session=session, kind=kind, language=language)
    return (stored.subject, stored.body) if stored else DEFAULTS[(kind, language)]


def is_edited(*, session: Session, kind: str, language: str) -> bool:
    """Whether the organisation wrote its own version of this message."""
    return get_template(session=session, kind=kind, language=language) != DEFAULTS[(kind, language)]


def save_template(
    *, session: Session, kind: str, language: str, subject: str, body: str, updated_by: str
) -> None:
    """Check and store the organisation's version of a message."""
    check_template(kind, subject, body)
    stored = queries.get_mail_template(session=session, kind=kind, language=language)
    if stored is None:
        stored = MailTemplate(kind=kind, language=language, subject="", body="")
    stored.subject, stored.body = subject.strip(), body
    stored.updated_by, stored.updated_at = updated_by, utcnow()
    session.add(stored)


def reset_template(*, session: Session, kind: str, language: str) -> None:
    """Go back to Instroom's own words for a message."""
    stored = queries.get_mail_template(session=session, kind=kind, language=language)
    if stored is not None:
        session.delete(stored)


def render_message(
    *, session: Session, kind: str, language: str, values: Mapping[str, object]
) -> tuple[str, str]:
    """Subject and plain-text body of a message, the organisation's name filled in too."""
    subject, body = get_template(session=session, kind=kind, language=mail_language(language))
    return render_text(session=session, kind=kind, subject=subject, body=body, values=values)


def render_text(
    *, session: Session, kind: str, subject: str, body: str, values: Mapping[str, object]
) -> tuple[str, str]:
    """A subject and body (stored, or being typed) filled in; placeholders without a value
    are empty."""
    context = {name: "" for name in PLACEHOLDERS[kind]}
    context |= {k: str(v) for k, v in values.items()}
    context["organisatie"] = get_organisation(session=session).name
    sandbox = _sandbox()
    # A subject is one line, whatever a value holds.
    one_line = " ".join(sandbox.from_string(subject).render(context).split())
    return one_line, sandbox.from_string(body).render(context)


def get_organisation(*, session: Session) -> Organisation:
    """The organisation's name and the sender's name, as Settings keeps them."""
    values = queries.list_app_settings(session=session, keys=(ORGANISATION, SENDER_NAME))
    return Organisation(values.get(ORGANISATION, ""), values.get(SENDER_NAME, ""))


def save_organisation(*, session: Session, name: str, sender_name: str) -> None:
    """Keep the organisation's name and the sender's name."""
    for key, value in ((ORGANISATION, name.strip()), (SENDER_NAME, sender_name.strip())):
        setting = session.get(AppSetting, key) or AppSetting(key=key, value="")
        setting.value = value
        session.add(setting)
