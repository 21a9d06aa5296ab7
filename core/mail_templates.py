"""The mails' words: templates the organisation edits per language, rendered in Jinja2's sandbox.

An admin's template can reach only its placeholders: the sandbox refuses attributes such
as __class__, and a template that fails is refused when it is saved, with the reason. A
template is filled in with a time and size limit (loops, repetition and widths are bounded),
so none can hold the mail thread, and only its own link placeholders become links.
"""

import functools
import html
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import FrameType
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from sqlmodel import Session

from core.i18n import N_
from core.issues import Refusal
from db import queries
from db.models import AppSetting, MailTemplate, utcnow

MAIL_LANGUAGES = ("nl", "en")
MAX_TEMPLATE_LENGTH = 20_000
# What filling in one template may take: no real message needs a tenth of it.
RENDER_SECONDS = 2.0
MAX_RENDERED = 200_000
# No number in a template may ask for more (a width, a repetition, a range, a power).
MAX_NUMBER = 10_000
# The placeholders that are links: the one-time link is a button, the others plain links.
LINK_PLACEHOLDERS = {"activatielink": "button", "link": "link"}
# The messages that are useless without their link.
NEEDS_LINK = {"welcome": "activatielink", "invite": "activatielink"}
BUTTON_LABELS = {"nl": "Kies je wachtwoord", "en": "Choose your password"}
_BUTTON = (
    '<a href="{url}" style="display:inline-block;padding:10px 18px;background:#1f6feb;'
    'color:#ffffff;text-decoration:none;border-radius:6px">{label}</a>'
)
# Where a link placeholder stands in the filled-in text; file data can never hold these.
_MARK_OPEN, _MARK_CLOSE = "\ue000", "\ue001"
_MARKS = re.compile(f"{_MARK_OPEN}([a-z]+){_MARK_CLOSE}")
_FORMAT_NUMBER = re.compile(r"\d+")
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
        "Import {{ import }}: {{ status }}",
        "Import {{ import }} ({{ bestand }}): {{ status }}.\n\n"
        "{{ aantallen }}.\n\nBekijk de import: {{ link }}",
    ),
    ("completion", "en"): (
        "Import {{ import }}: {{ status }}",
        "Import {{ import }} ({{ bestand }}): {{ status }}.\n\n"
        "{{ aantallen }}.\n\nSee the import: {{ link }}",
    ),
}


class TemplateRefused(Refusal):
    """A mail template cannot be saved; the message says what is wrong in it."""


@dataclass(frozen=True)
class Organisation:
    """Who the mails come from: the organisation's name and the sender's."""

    name: str = ""
    sender_name: str = ""


@dataclass(frozen=True)
class Filled:
    """A message filled in: its subject, its text, and its HTML part."""

    subject: str
    text: str
    html: str


class TemplateTooSlow(Exception):
    """Filling in a template took longer, or wrote more, than a message may."""


class _BoundedSandbox(SandboxedEnvironment):
    """Jinja2's sandbox with every number a template may use to ask for work bounded."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%" and isinstance(left, str):
            _check_numbers(left)
        else:
            _check_numbers(left, right)
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, str) and attribute in {"format", "format_map"}:
            _check_numbers(obj)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, str) and argument in {"format", "format_map"}:
            _check_numbers(obj)
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_numbers(*args, *kwargs.values())
        return super().call(__context, __obj, *args, **kwargs)


class NumberTooLarge(SecurityError):
    """A template asked for work by a number (or a width in a format) above MAX_NUMBER."""

    def __init__(self, number: float) -> None:
        super().__init__(f"the number {number:,} is larger than {MAX_NUMBER:,}")
        self.number = number


def _check_numbers(*values: Any) -> None:
    """Refuse a number (or a width written in a format) above MAX_NUMBER."""
    for value in values:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if abs(value) > MAX_NUMBER:
                raise NumberTooLarge(value)
        elif isinstance(value, str):
            widths = [int(n) for n in _FORMAT_NUMBER.findall(value)]
            if widths and max(widths) > MAX_NUMBER:
                raise NumberTooLarge(max(widths))


_OPENER = re.compile(r"\{\{|\{%|\}\}|%\}")
_UNKNOWN_TAG = re.compile(r"unknown tag '(\w+)'")
_NEEDED_BLOCK = re.compile(r"innermost block that needs to be closed is '(\w+)'")


def _open_line(text: str) -> int | None:
    """The line of the last {{ or {% that is not closed, if one is not."""
    open_lines: list[int] = []
    for match in _OPENER.finditer(text):
        if match.group() in ("{{", "{%"):
            open_lines.append(text.count("\n", 0, match.start()) + 1)
        elif open_lines:
            open_lines.pop()
    return open_lines[-1] if open_lines else None


def _block_line(text: str, block: str) -> int:
    """The line of the last {% block %} opened."""
    starts = [m.start() for m in re.finditer(r"\{%-?\s*" + re.escape(block) + r"\b", text)]
    return text.count("\n", 0, starts[-1]) + 1 if starts else 1


def _unreadable(part: str, text: str, exc: TemplateError) -> TemplateRefused:
    """Why a template cannot be parsed, in words a reader of any language gets, on the line
    the reader must look at (where the unclosed brace was opened, not where the text ends)."""
    message = exc.message or ""
    line = getattr(exc, "lineno", None) or 1
    if needed := _NEEDED_BLOCK.search(message):
        block = needed.group(1)
        return TemplateRefused.of(
            "invalid-template",
            "unclosed-block",
            part=part,
            block=block,
            line=_block_line(text, block),
        )
    if message.lower().startswith("unexpected end of template"):
        opened = _open_line(text) or line
        return TemplateRefused.of("invalid-template", "unclosed", part=part, line=opened)
    if unknown := _UNKNOWN_TAG.search(message):
        return TemplateRefused.of(
            "invalid-template", "unknown-tag", part=part, name=unknown.group(1), line=line
        )
    # A brace left open earlier is what breaks the line Jinja stumbles on.
    opened = _open_line(text)
    line = opened if opened is not None and opened < line else line
    return TemplateRefused.of("invalid-template", "syntax", part=part, line=line)


def _bounded(filter_: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _check_numbers(*args[1:], *kwargs.values())
        return filter_(*args, **kwargs)

    return guarded


@functools.cache
def _sandbox() -> SandboxedEnvironment:
    # Text, not HTML: the HTML part is made from the text with every value escaped.
    sandbox = _BoundedSandbox(undefined=StrictUndefined, autoescape=False)
    for name in ("center", "indent", "truncate", "wordwrap", "batch", "slice", "format"):
        sandbox.filters[name] = _bounded(sandbox.filters[name])
    sandbox.filters["format"] = _bounded_format(sandbox.filters["format"])
    return sandbox


def _bounded_format(filter_: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_numbers(str(value), *args, *kwargs.values())
        return filter_(value, *args, **kwargs)

    return guarded


def _fill(template: Template, context: Mapping[str, object]) -> str:
    """The template filled in, stopped past RENDER_SECONDS or MAX_RENDERED characters;
    TemplateRefused says why a template was stopped or refused.

    A loop in a loop runs in Python; a trace on the template's own lines ends it on time.
    """
    deadline = time.monotonic() + RENDER_SECONDS

    def on_line(frame: FrameType, event: str, arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise TemplateTooSlow
        return on_line

    def on_call(frame: FrameType, event: str, arg: Any) -> Any:
        return on_line if frame.f_code.co_filename == "<template>" else None

    parts, size = [], 0
    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        for part in template.generate(context):
            size += len(part)
            if size > MAX_RENDERED or time.monotonic() > deadline:
                raise TemplateTooSlow
            parts.append(part)
    except TemplateTooSlow:
        raise TemplateRefused.of(
            "invalid-template", "too-slow", seconds=RENDER_SECONDS, limit=MAX_RENDERED
        ) from None
    except NumberTooLarge as exc:
        raise TemplateRefused.of(
            "invalid-template", "number", number=exc.number, limit=MAX_NUMBER
        ) from None
    except SecurityError:
        raise TemplateRefused.of("invalid-template", "unsafe") from None
    finally:
        sys.settrace(previous)
    return "".join(parts)


def mail_language(code: str | None) -> str:
    """The language a user's mails are written in (Dutch when theirs has no templates)."""
    return code if code in MAIL_LANGUAGES else MAIL_LANGUAGES[0]


def check_template(kind: str, subject: str, body: str) -> None:
    """Refuse a template that is too long, does not parse, names an unknown placeholder,
    reaches outside its placeholders, fails to render or lacks the link it exists for."""
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
            _fill(_sandbox().from_string(text), sample)
        except TemplateError as exc:
            raise _unreadable(part, text, exc) from None
        except (ArithmeticError, TypeError, ValueError, LookupError):
            raise TemplateRefused.of("invalid-template", "fails", part=part) from None
    needed = NEEDS_LINK.get(kind)
    if needed and needed not in meta.find_undeclared_variables(_sandbox().parse(body)):
        raise TemplateRefused.of(
            "invalid-template", "no-link", part="body", placeholder="{{ " + needed + " }}"
        )


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
    organisation = get_organisation(session=session).name
    filled = fill_message(kind, subject, body, values, organisation=organisation, language="en")
    return filled.subject, filled.text


def fill_message(
    kind: str,
    subject: str,
    body: str,
    values: Mapping[str, object],
    *,
    organisation: str,
    language: str,
) -> Filled:
    """A message filled in, within the limits; TemplateRefused when the template exceeds them.

    Values are text: only the template's own link placeholders become links in the HTML.
    """
    context = {name: "" for name in PLACEHOLDERS[kind]}
    context |= {k: _MARKS.sub("", str(v)).translate(_NO_MARKS) for k, v in values.items()}
    context["organisatie"] = organisation.translate(_NO_MARKS)
    links = {name: context[name] for name in LINK_PLACEHOLDERS if name in context}
    context |= {name: f"{_MARK_OPEN}{name}{_MARK_CLOSE}" for name in links}
    sandbox = _sandbox()
    # A subject is one line, whatever a value holds.
    subject_text = " ".join(_fill(sandbox.from_string(subject), context).split())
    marked = _fill(sandbox.from_string(body), context)

    def written(match: re.Match[str]) -> str:
        return links.get(match.group(1), "")

    return Filled(
        _MARKS.sub(written, subject_text),
        _MARKS.sub(written, marked),
        to_html(marked, links, language),
    )


_NO_MARKS = {ord(_MARK_OPEN): None, ord(_MARK_CLOSE): None}


def to_html(marked: str, links: Mapping[str, str], language: str) -> str:
    """The HTML part: every word escaped, paragraphs kept, only link placeholders as links."""

    def link(match: re.Match[str]) -> str:
        name = match.group(1)
        url = html.escape(links.get(name, ""), quote=True)
        if not url:
            return ""
        if LINK_PLACEHOLDERS.get(name) == "button":
            label = BUTTON_LABELS.get(language, BUTTON_LABELS[MAIL_LANGUAGES[0]])
            return _BUTTON.format(url=url, label=label) + f"<br><small>{url}</small>"
        return f'<a href="{url}">{url}</a>'

    paragraphs = [
        "<p>" + _MARKS.sub(link, html.escape(p)).replace("\n", "<br>") + "</p>"
        for p in marked.split("\n\n")
    ]
    return "<html><body>" + "".join(paragraphs) + "</body></html>"


def get_organisation(*, session: Session) -> Organisation:
    """The organisation's name and the sender's name, as Settings keeps them."""
    values = queries.list_app_settings(session=session, keys=(ORGANISATION, SENDER_NAME))
    return Organisation(values.get(ORGANISATION, ""), values.get(SENDER_NAME, ""))


def save_organisation(*, session: Session, name: str, sender_name: str) -> None:
    """Keep the organisation's name and the sender's name."""
    for key, value in ((ORGANISATION, name.strip()), (SENDER_NAME, sender_name.strip())):
        setting = queries.find_setting(session=session, key=key) or AppSetting(key=key, value="")
        setting.value = value
        session.add(setting)
