"""Welcome, update and completion emails: queued with the import, sent with yagmail."""

from __future__ import annotations

import secrets
import smtplib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.message import EmailMessage as MimeMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlmodel import Session

from core.config import Settings
from core.fields import FIELD_NOUNS
from core.i18n import N_, NP_, format_day, format_list, gettext, render, render_counted
from core.issues import InstroomError
from core.mail_templates import (
    DEFAULTS,
    Filled,
    TemplateRefused,
    fill_message,
    get_organisation,
    get_template,
    mail_language,
    render_message,
    to_html,
)
from core.one_time_links import start_invitation, token_hash
from core.options import ImportOptions
from core.plan import Plan, RowPlan, row_changes
from core.saved_settings import effective_settings
from core.source import job_file_words
from db import queries
from db.engine import session_scope
from db.mail import (
    claim_message,
    get_change_of,
    get_recipients,
    list_queued_message_ids,
    queue_messages,
    record_message,
    release_lost_messages,
    requeue_unsent,
)
from db.models import Account, EmailMessage, ImportJob, utcnow
from db.vocabulary import AccountRole, EmailStatus

if TYPE_CHECKING:
    import yagmail

DEFAULT_LANGUAGE = "nl"
NAME_KEYS = ("first_name", "name_insert", "last_name")
MAX_ATTEMPTS = 3
# A message still "sending" this long after it was claimed lost its sender (a crash, kill -9):
# far longer than a round may take.
SENDING_LEASE = timedelta(minutes=15)
NOT_CONFIGURED = N_("No mail server is configured (INSTROOM_SMTP_HOST); the message was not sent.")
LOST_WHILE_SENDING = N_(
    "The sender stopped while this message was being sent; whether it arrived is not known, "
    "so it is not sent again by itself. Use Send again if it did not arrive."
)
NO_PASSWORD = N_(
    "The mail server has a login name but no password for it; type the password under "
    "Settings > Mail (or set INSTROOM_SMTP_PASSWORD)."
)
ACCOUNT_GONE = N_("The account of this invitation is gone or disabled.")
USER_GONE = N_("The user of this message was removed; it is not sent.")
REFUSED = N_("The mail server refused the address: {detail}")
ANSWERED = N_("The mail server answered {detail}")
UNREACHABLE = N_("The mail server cannot be reached: {detail}")
NOT_SENDABLE = N_("The message cannot be sent: {detail}")
NOT_COMPOSED = N_("The message cannot be composed: {detail}")
# Why a message was not delivered, stored in English with the server's own words as {detail}
# and written again in the reader's language.
DELIVERY_ERRORS = (
    NOT_CONFIGURED,
    LOST_WHILE_SENDING,
    NO_PASSWORD,
    ACCOUNT_GONE,
    USER_GONE,
    REFUSED,
    ANSWERED,
    UNREACHABLE,
    NOT_SENDABLE,
    NOT_COMPOSED,
)


class MailError(InstroomError):
    """A message could not be delivered; `transient` says whether trying again may help."""

    def __init__(self, reason: str, transient: bool, detail: object = "") -> None:
        super().__init__(reason.format(detail=detail) if "{detail}" in reason else reason)
        self.transient = transient

    def text(self, language: str) -> str:
        """Why, in the reader's language."""
        return delivery_error_words(str(self), language)


def delivery_error_words(error: str, language: str) -> str:
    """A stored delivery error in the reader's language; the mail server's words stay as sent."""
    for reason in DELIVERY_ERRORS:
        head, has_detail, tail = reason.partition("{detail}")
        if error == reason:
            return gettext(reason, language)
        if has_detail and error.startswith(head) and error.endswith(tail):
            return render(reason, language, {"detail": error[len(head) : len(error) - len(tail)]})
    return error


@dataclass(frozen=True)
class DeliveryReport:
    """How many messages one delivery round sent, failed, skipped or left queued."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    queued: int = 0


def field_labels(*, session: Session, language: str) -> dict[str, str]:
    """Field key -> the label a reader of that language knows it by."""
    builtin = {key: gettext(noun, language) for key, noun in FIELD_NOUNS.items()}
    return builtin | {f.key: f.label for f in queries.list_profile_fields(session=session)}


def changed_fields(after: dict[str, Any], labels: dict[str, str], language: str) -> str:
    """What an update changed, by the fields' labels; a password is never named."""
    names = []
    for key in after:
        if key in {"password", "groups_removed", "levels_added"} or key.startswith("_"):
            continue
        key = "groups" if key == "groups_added" else key
        name = labels.get(key.removeprefix("profile."), key)
        if name not in names:
            names.append(name)
    if "levels_added" in after:
        names.append(labels["levels"])
    if "groups_removed" in after and labels["groups"] not in names:
        names.append(labels["groups"])
    return ", ".join(names) or ("je gegevens" if language == "nl" else "your details")


def queue_import_emails(
    *, session: Session, job_id: int, plan: Plan, options: ImportOptions, completion: bool = True
) -> int:
    """Queue the messages an applied import (or chunk of one) sends; returns how many.

    completion: also the message to the administrator that the import finished.
    """
    wanted = [("welcome", e) for e in plan.welcome] + [("updated", e) for e in plan.notify]
    users = get_recipients(session=session, emails=sorted({e for _, e in wanted}))
    rows = []
    for template, email in wanted:
        user_id, language = users[email]
        language = mail_language(language)
        rows.append(
            {
                "job_id": job_id,
                "user_id": user_id,
                "recipient": email,
                "template": template,
                "language": language,
                "status": EmailStatus.QUEUED,
                # Written out when it is sent, with the organisation's template of that day.
                "subject": DEFAULTS[(template, language)][0],
                "attempts": 0,
                "created_at": utcnow(),
            }
        )
    if completion and options.notify_admin:
        rows.append(
            {
                "job_id": job_id,
                "user_id": None,
                "recipient": options.notify_admin,
                "template": "completion",
                "language": DEFAULT_LANGUAGE,
                "status": EmailStatus.QUEUED,
                "subject": f"Import {job_id}",
                "attempts": 0,
                "created_at": utcnow(),
            }
        )
    queue_messages(session=session, rows=rows)
    return len(rows)


def queue_message(
    *, session: Session, recipient: str, subject: str, body: str, job_id: int | None = None
) -> None:
    """Queue a message written out already (a link's report to whoever it mails)."""
    session.add(
        EmailMessage(
            job_id=job_id,
            recipient=recipient,
            template="report",
            language=DEFAULT_LANGUAGE,
            subject=subject[:300],
            body=body,
        )
    )


def queue_invitation(*, session: Session, account: Account) -> None:
    """Queue the mail with which account chooses its password (a new link when it is sent)."""
    session.add(
        EmailMessage(
            account_id=account.id,
            recipient=account.email,
            template="invite",
            language=account.language,
            subject="Instroom",
        )
    )


def invitation_link(settings: Settings, token: str) -> str:
    """The address where a portal account chooses its password."""
    return f"{settings.base_url}/Activate?invite={token}"


def _invitation(account: Account, link: str, expires: str) -> dict[str, str]:
    """The placeholders of an invitation to the portal."""
    return {
        "naam": account.name,
        "gebruikersnaam": account.username,
        "activatielink": link,
        "geldig_tot": expires,
    }


@dataclass(frozen=True)
class _Prepared:
    """What a message is filled in from, gathered in a transaction and used after it."""

    kind: str
    language: str
    values: Mapping[str, object]
    subject: str
    body: str
    organisation: str
    sender_name: str

    def fill(self) -> Filled:
        """The message filled in (outside any transaction: a template may take its time)."""
        if not self.kind:  # written out already (a link's report)
            return Filled(self.subject, self.body, to_html(self.body, {}, self.language))
        return fill_message(
            self.kind,
            self.subject,
            self.body,
            self.values,
            organisation=self.organisation,
            language=self.language,
        )


def _prepare(session: Session, message: EmailMessage, settings: Settings) -> _Prepared:
    """The values and templates of a message; a one-time link is started here."""
    organisation = get_organisation(session=session)
    values: Mapping[str, object] = {}
    if message.body is not None:
        kind, subject, body = "", message.subject, message.body
    else:
        kind, values = _values(session, message, settings)
        subject, body = get_template(
            session=session, kind=kind, language=mail_language(message.language)
        )
    return _Prepared(
        kind, message.language, values, subject, body, organisation.name, organisation.sender_name
    )


def _values(
    session: Session, message: EmailMessage, settings: Settings
) -> tuple[str, Mapping[str, object]]:
    """The kind of a templated message and what its placeholders hold."""
    if message.template == "invite":
        account = queries.find_account(session=session, account_id=message.account_id)
        if account is None or account.is_disabled:
            raise MailError(ACCOUNT_GONE, transient=False)
        token, expires = start_invitation(account, days=settings.activation_days)
        session.add(account)
        day = format_day(expires, message.language, settings.time_zone)
        address = invitation_link(settings, token)
        return "invite", _invitation(account, address, day)
    if message.template == "completion":
        assert message.job_id is not None, "a completion message belongs to its import"
        job = queries.get_job(session=session, job_id=message.job_id)
        return "completion", _completion(job, settings, message.language)
    user = queries.find_user(session=session, user_id=message.user_id)
    if user is None:
        raise MailError(USER_GONE, transient=False)
    names = _names(user.first_name, user.name_insert, user.last_name)
    if message.template != "welcome":
        change = get_change_of(session=session, job_id=message.job_id, user_id=message.user_id)
        labels = field_labels(session=session, language=message.language)
        changes = changed_fields(change or {}, labels, message.language)
        return message.template, names | {"wijzigingen": changes}
    # A new token for every attempt: only its hash is kept, and an older link stops working.
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=settings.activation_days)
    user.activation_token_hash, user.activation_expires_at = token_hash(token), expires
    session.add(user)
    link = {
        "geldig_tot": format_day(expires, message.language, settings.time_zone),
        "activatielink": f"{settings.base_url}/Activate?token={token}",
    }
    return "welcome", names | link


# How an import ended, and what it did, as the completion mail says it.
ENDINGS = {
    "succeeded": N_("done"),
    "failed": N_("failed, nothing was imported"),
    "interrupted": N_("stopped half-way, nothing was imported"),
    "reverted": N_("reverted"),
}
REJECTED = NP_("done, {count:,} row rejected", "done, {count:,} rows rejected")
DONE_COUNTS = {
    "rows": NP_("{count:,} row", "{count:,} rows"),
    "created": NP_("{count:,} created", "{count:,} created"),
    "updated": NP_("{count:,} updated", "{count:,} updated"),
    "unchanged": NP_("{count:,} unchanged", "{count:,} unchanged"),
    "skipped": NP_("{count:,} skipped", "{count:,} skipped"),
    "blocked": NP_("{count:,} blocked", "{count:,} blocked"),
    "unblocked": NP_("{count:,} unblocked", "{count:,} unblocked"),
    "renamed": NP_("{count:,} renamed", "{count:,} renamed"),
    "deactivated": NP_("{count:,} deactivated", "{count:,} deactivated"),
    "deleted": NP_("{count:,} deleted", "{count:,} deleted"),
    "errors": NP_("{count:,} rejected", "{count:,} rejected"),
    "warnings": NP_("{count:,} warning", "{count:,} warnings"),
}


def _completion(job: ImportJob, settings: Settings, language: str) -> dict[str, object]:
    """The placeholders of the mail that says an import is done, in words of the language."""
    counts = job.counts or {}
    if job.status == "completed_with_errors":
        status = render_counted(REJECTED, counts.get("errors", 0), language)
    else:
        status = render(ENDINGS.get(job.status, N_("done")), language, {})
    done = [
        render_counted(DONE_COUNTS[key], value, language)
        for key, value in counts.items()
        if key in DONE_COUNTS and (value or key == "rows")
    ]
    return {
        "import": job.id,
        "bestand": job_file_words(job, language),
        "status": status,
        "aantallen": format_list(done, language),
        "link": f"{settings.base_url}/History?job={job.id}",
    }


def _render(
    session: Session, kind: str, language: str, values: Mapping[str, object]
) -> tuple[str, str]:
    return render_message(session=session, kind=kind, language=language, values=values)


def _names(first: object, insert: object, last: object) -> dict[str, str]:
    """The name placeholders of a user: naam (whole), voornaam, achternaam (with its insert)."""
    first, insert, last = (str(p or "") for p in (first, insert, last))
    return {
        "naam": " ".join(p for p in (first, insert, last) if p),
        "voornaam": first,
        "achternaam": " ".join(p for p in (insert, last) if p),
    }


def preview_message(
    *, session: Session, template: str, language: str, row: RowPlan, settings: Settings
) -> tuple[str, str]:
    """Subject and text of the message row's user will get (the activation link elided)."""
    after = {key: new for key, (_, new) in row_changes(row).items()}
    if (
        row.user_id is not None
        and (user := queries.find_user(session=session, user_id=row.user_id)) is not None
    ):
        stored = {"first_name": user.first_name, "name_insert": user.name_insert}
        stored["last_name"] = user.last_name
    else:
        stored = {}
    parts = {**stored, **{k: v for k, v in {**row.values, **after}.items() if k in NAME_KEYS}}
    names = _names(*(parts.get(k) for k in NAME_KEYS))
    if template == "welcome":
        link = f"{settings.base_url}/Activate?token=…"
        return _render(
            session, "welcome", language, names | {"geldig_tot": "…", "activatielink": link}
        )
    if row.groups_add:
        after["groups_added"] = row.groups_add
    labels = field_labels(session=session, language=language)
    changes = changed_fields(after, labels, language)
    return _render(session, template, language, names | {"wijzigingen": changes})


def sample_values(
    *, session: Session, kind: str, language: str, email: str, settings: Settings
) -> Mapping[str, object]:
    """What the placeholders of a message would hold for this user (or the newest import)."""
    if kind == "completion":
        jobs = queries.list_recent_jobs(session=session, limit=1)
        return _completion(jobs[0], settings, language) if jobs else {}
    expires = format_day(
        utcnow() + timedelta(days=settings.activation_days), language, settings.time_zone
    )
    if kind == "invite":
        account = queries.get_account_by_email(session=session, email=email)
        example = account or Account(
            username="", email="", role=AccountRole.SUPPORT, password_hash=""
        )
        return _invitation(example, invitation_link(settings, "…"), expires)
    user = queries.get_user_by_email(session=session, email=email)
    names = _names(user.first_name, user.name_insert, user.last_name) if user else {}
    if kind == "welcome":
        return names | {
            "geldig_tot": expires,
            "activatielink": f"{settings.base_url}/Activate?token=…",
        }
    labels = field_labels(session=session, language=language)
    return names | {"wijzigingen": ", ".join([labels["first_name"], labels["groups"]])}


def smtp_client(settings: Settings) -> yagmail.SMTP:
    """A yagmail client for the configured server."""
    import yagmail  # only a process that sends mail loads it

    if settings.smtp_user and not settings.smtp_password:
        # yagmail would ask a keyring or the terminal for it, and a worker would wait for ever.
        raise MailError(NO_PASSWORD, transient=False)
    client = yagmail.SMTP(
        # The login name is the sender when there is one, else INSTROOM_MAIL_FROM.
        user=settings.smtp_user or settings.mail_from,
        password=settings.smtp_password,
        host=settings.smtp_host,
        port=settings.smtp_port,
        smtp_ssl=settings.smtp_security == "ssl",
        smtp_starttls=settings.smtp_security == "starttls",
        smtp_skip_login=not settings.smtp_user,
        soft_email_validation=False,
        # Passed on to smtplib: a server that accepts but never answers must not hang a worker.
        timeout=settings.smtp_timeout,
    )
    if settings.smtp_user:
        # Logged in as typed: yagmail would make "name" into "name@gmail.com".
        client.user = settings.smtp_user
    return client


def _send(
    settings: Settings,
    recipient: str,
    message: Filled,
    timeout: float | None = None,
    sender_name: str = "",
) -> None:
    if timeout is not None:
        settings = replace(settings, smtp_timeout=max(0.1, min(settings.smtp_timeout, timeout)))
    try:
        client = smtp_client(settings)
        # yagmail connects (SSL, STARTTLS, login); the message itself is built here, because
        # yagmail puts its HTML (with <br>) into the plain-text part as well.
        mail = MimeMessage()
        mail["From"] = (
            formataddr((sender_name, settings.mail_from)) if sender_name else settings.mail_from
        )
        mail["To"], mail["Subject"] = recipient, message.subject
        mail["Date"], mail["Message-ID"] = formatdate(localtime=True), make_msgid()
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        try:
            client.login()
            refused = client.smtp.send_message(mail)
        finally:
            client.close()
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(REFUSED, transient=False, detail=exc) from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(
            ANSWERED,
            transient=exc.smtp_code < 500,
            detail=f"{exc.smtp_code}: {exc.smtp_error!r}",
        ) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(UNREACHABLE, transient=True, detail=exc) from exc
    except ValueError as exc:  # a header smtplib refuses, such as a line break in an address
        raise MailError(NOT_SENDABLE, transient=False, detail=exc) from exc
    if refused:
        raise MailError(REFUSED, transient=False, detail=refused)


def deliver_pending(
    *,
    engine: Engine,
    settings: Settings,
    job_id: int | None = None,
    backoff: float = 2.0,
    sleep: Callable[[float], object] = time.sleep,
    budget: float | None = None,
) -> DeliveryReport:
    """Send queued messages, retrying transient failures with backoff; record every outcome.

    budget: seconds this round may take in all; what it cannot reach stays queued.
    """
    deadline = None if budget is None else time.monotonic() + budget
    settings = effective_settings(engine, settings)
    recover_lost_messages(engine=engine)
    with Session(engine) as session:
        ids = list_queued_message_ids(session=session, job_id=job_id)
    sent = failed = skipped = left = 0
    for message_id in ids:
        if deadline is not None and time.monotonic() >= deadline:
            break
        # Claim the message first, so two workers never send it twice.
        with session_scope(engine) as session:
            claimed = claim_message(session=session, message_id=message_id, now=utcnow())
        if not claimed:
            continue
        if not settings.smtp_configured:
            _record(engine, message_id, EmailStatus.SKIPPED, NOT_CONFIGURED)
            skipped += 1
            continue
        outcome = _deliver(engine, message_id, settings, deadline, backoff, sleep)
        if outcome == EmailStatus.SENT:
            sent += 1
        elif outcome == EmailStatus.FAILED:
            failed += 1
        else:
            left += 1
    return DeliveryReport(sent, failed, skipped, left)


def recover_lost_messages(*, engine: Engine, now: datetime | None = None) -> int:
    """Messages left "sending" by a sender that died: queued once more, or failed when they
    were tried as often as a message may be (it may have reached its recipient)."""
    with session_scope(engine) as session:
        return release_lost_messages(
            session=session,
            claimed_before=(now or utcnow()) - SENDING_LEASE,
            last_attempt=MAX_ATTEMPTS - 1,
            error=LOST_WHILE_SENDING,
        )


def _record(
    engine: Engine,
    message_id: int,
    status: EmailStatus,
    error: str | None,
    subject: str | None = None,
) -> None:
    written = {"subject": subject[:300]} if subject is not None else {}
    values = {
        "status": status,
        "error": error[:1000] if error else None,
        "sent_at": utcnow() if status == EmailStatus.SENT else None,
        **written,
    }
    with session_scope(engine) as session:
        record_message(session=session, message_id=message_id, values=values)


def _deliver(
    engine: Engine,
    message_id: int,
    settings: Settings,
    deadline: float | None,
    backoff: float,
    sleep: Callable[[float], object],
) -> EmailStatus:
    """Try one claimed message until it is sent, fails for good, or the budget is spent.

    No transaction is open while a template is filled in or the mail server is talked to:
    on SQLite an open one would keep every other writer (logins, imports) waiting.
    """
    error, transient, attempts = "", True, 0
    while transient:
        left = None if deadline is None else deadline - time.monotonic()
        with session_scope(engine) as session:
            message = queries.find_email_message(session=session, message_id=message_id)
            if message is None:
                return EmailStatus.FAILED
            attempts = message.attempts
            if attempts >= MAX_ATTEMPTS or (left is not None and left <= 0):
                break
            message.attempts = attempts = attempts + 1
            try:
                prepared = _prepare(session, message, settings)
            except (LookupError, MailError, AttributeError, TypeError) as exc:  # user or job gone
                error, transient = NOT_COMPOSED.format(detail=repr(exc)), False
                break
            recipient = message.recipient
        try:
            filled = prepared.fill()
        except TemplateRefused as exc:
            error, transient = NOT_COMPOSED.format(detail=exc), False
            break
        try:
            _send(settings, recipient, filled, left, prepared.sender_name)
        except MailError as exc:
            error, transient = str(exc), exc.transient
            pause = backoff * 2 ** (attempts - 1)
            if transient and attempts < MAX_ATTEMPTS and (left is None or pause < left):
                sleep(pause)
            continue
        _record(engine, message_id, EmailStatus.SENT, None, filled.subject)
        return EmailStatus.SENT
    if transient and attempts < MAX_ATTEMPTS:
        # Out of time, not out of tries: the next round tries again.
        _record(engine, message_id, EmailStatus.QUEUED, error or None)
        return EmailStatus.QUEUED
    _record(engine, message_id, EmailStatus.FAILED, error)
    return EmailStatus.FAILED


def send_test_mail(*, engine: Engine, settings: Settings, recipient: str) -> None:
    """Send one short message now; MailError says exactly what the server answered."""
    settings = effective_settings(engine, settings)
    if not settings.smtp_configured:
        raise MailError(NOT_CONFIGURED, transient=False)
    with Session(engine) as session:
        sender = get_organisation(session=session).sender_name
    text = (
        "Dit bericht laat zien dat Instroom via deze mailserver kan mailen.\n\n"
        "This message shows that Instroom can send mail through this server."
    )
    subject = "Instroom: testbericht / test message"
    _send(settings, recipient, Filled(subject, text, to_html(text, {}, "nl")), sender_name=sender)


def requeue_messages(*, session: Session, message_ids: list[int]) -> int:
    """Put failed or skipped messages back in the queue, to be sent again."""
    return requeue_unsent(session=session, message_ids=message_ids)
