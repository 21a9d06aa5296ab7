"""Links: imports that run by themselves, on a schedule, from the HR system's export.

A run fetches the source, skips it when its content is unchanged, and otherwise is an
ordinary import (the one pipeline, recorded as a job "started by link <name>"). Three
failed runs in a row pause the link; whoever the link mails hears of every failure.
"""

import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from core.config import Settings
from core.emails import check_email
from core.i18n import N_, format_moment, gettext, render
from core.issues import InstroomError, Issue, Refusal
from core.jobs import ImportResult, run_import
from core.keys import cookie_key_path, vault_key_path, vault_keys
from core.link_sources import (
    FETCH_SECONDS,
    FOLDER,
    SFTP,
    Access,
    Fetched,
    FolderRule,
    fetch,
    move_to_done,
    parse_source,
)
from core.mail import queue_message
from core.mail_templates import mail_language
from core.options import ImportOptions
from core.pipeline import ImportRequest, resolve_mapping
from core.read import ReadOptions, read_upload
from core.schedule import next_runs, parse_schedule
from core.validate import load_known_names
from core.vault import Vault
from db import links as link_queries
from db import queries
from db.engine import session_scope
from db.models import Link, LinkRun, id_of, utcnow
from db.vocabulary import JobStatus, RunStatus

log = logging.getLogger(__name__)
FAILURES_BEFORE_PAUSE = 3
# Why a link is paused, as stored; written in the reader's language when shown.
PAUSED_BY_HAND, PAUSED_AFTER_FAILURES = "by-hand", "failures"
MAX_NAME = 80
# Which secrets a link may hold; the CLI's --secret-stdin fills the one its source uses.
SECRET_KEYS = ("password", "private_key", "header")
# The vault purpose link secrets are sealed under.
LINK_SECRETS = "link secrets"


class LinkError(Refusal):
    """A link cannot be saved or found as asked."""


@dataclass(frozen=True)
class LinkDraft:
    """Everything a new link is made of, as the wizard or the CLI gathered it."""

    name: str
    source: str
    mapping: list[tuple[str, str | None]]
    options: ImportOptions
    read_options: ReadOptions
    schedule: str = ""
    header: str | None = None
    secrets: dict[str, str] | None = None
    notify: tuple[str, ...] = ()
    move_done: bool = False


@dataclass(frozen=True)
class LinkOutcome:
    """How one run ended: its status, its import (when it got that far) or the refusal."""

    link: str
    status: RunStatus
    dry_run: bool
    job_id: int | None = None
    result: ImportResult | None = None
    error: str | None = None
    paused: bool = False
    # The refusal that stopped the run, to be written in any language.
    refusal: Issue | None = None

    @property
    def code(self) -> str | None:
        """The refusal's stable code (None for a run that was not refused)."""
        return self.refusal.code if self.refusal else None

    def as_json(self, language: str = "en") -> dict[str, Any]:
        """The import command's JSON contract, with the link's name and an unchanged status."""
        if self.result is not None:
            return {"link": self.link, **self.result.as_json(language)}
        refusal = self.refusal or (Issue("", self.error) if self.error else None)
        issues = [refusal.as_contract(language)] if refusal else []
        return {
            "link": self.link,
            "job_id": None,
            "status": self.status,
            "dry_run": self.dry_run,
            "counts": None,
            "issues": issues,
            "emails": None,
        }


def secrets_for(source: str, secret: str) -> dict[str, str]:
    """Where a typed secret belongs: an SFTP password or private key, or a header's value."""
    if not secret:
        return {}
    kind = parse_source(source).kind
    if kind == FOLDER:
        raise LinkError.of("invalid-link", "folder-secret")
    if kind == SFTP:
        return {"private_key" if secret.lstrip().startswith("-----BEGIN") else "password": secret}
    return {"header": secret}


def folder_rule(settings: Settings) -> FolderRule:
    """The folders a folder link may read: the owner's choice, never Instroom's data or keys."""
    private = {cookie_key_path(settings).parent, vault_key_path(settings).parent}
    if settings.database_url.startswith("sqlite:///"):
        private.add(Path(settings.database_url.removeprefix("sqlite:///")).parent)
    return FolderRule(settings.link_folders, tuple(sorted(private)))


def vault_for(settings: Settings) -> Vault:
    """The vault of this portal's link secrets."""
    return Vault(vault_keys(settings), LINK_SECRETS)


def create_link(
    *, session: Session, settings: Settings, draft: LinkDraft, created_by: str, now: datetime
) -> Link:
    """Check and save a new link; its first run is the schedule's next time after now."""
    name = draft.name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise LinkError.of("invalid-link", "name", limit=MAX_NAME)
    if link_queries.get_link_by_name(session=session, name=name) is not None:
        raise LinkError.of("invalid-link", "exists", name=name)
    source = parse_source(draft.source)
    schedule = parse_schedule(draft.schedule) if draft.schedule.strip() else None
    if draft.options.full_list and draft.options.max_deactivate is None:
        raise LinkError.of("invalid-link", "full-list")
    for address in draft.notify:
        if check_email(address)[1] is not None:
            raise LinkError.of("invalid-link", "notify", value=address)
    if source.kind == FOLDER:
        folder_rule(settings).check(source.folder)
    secrets = {k: v for k, v in (draft.secrets or {}).items() if k in SECRET_KEYS and v}
    link = Link(
        name=name,
        source=source.text,
        header=(draft.header or "").strip() or None,
        secret=vault_for(settings).seal(secrets) if secrets else "",
        move_done=draft.move_done,
        mapping={"columns": [{"header": h, "field": f} for h, f in draft.mapping]},
        options=draft.options.as_dict(),
        read_options=draft.read_options.choices(),
        schedule=schedule.text if schedule else "",
        next_run_at=next_runs(schedule, after=now, time_zone=settings.time_zone, count=1)[0]
        if schedule
        else None,
        notify=list(draft.notify),
        created_by=created_by,
    )
    session.add(link)
    session.flush()
    return link


def get_link(*, session: Session, name: str) -> Link:
    """The link of this name; LinkError when there is none."""
    link = link_queries.get_link_by_name(session=session, name=name)
    if link is None:
        raise LinkError.of("unknown-link", name=name)
    return link


def upcoming_runs(
    link: Link, *, settings: Settings, now: datetime, count: int = 3
) -> list[datetime]:
    """The next run times of a link (none when it is paused or runs by hand only)."""
    if link.paused or not link.schedule:
        return []
    return next_runs(
        parse_schedule(link.schedule), after=now, time_zone=settings.time_zone, count=count
    )


def set_paused(
    *, session: Session, settings: Settings, name: str, paused: bool, now: datetime
) -> Link:
    """Pause a link, or let it run again on its schedule (its failure count starts over)."""
    link = get_link(session=session, name=name)
    link.paused = paused
    link.pause_reason = PAUSED_BY_HAND if paused else None
    if not paused:
        link.failures_in_row = 0
        runs = upcoming_runs(link, settings=settings, now=now, count=1)
        link.next_run_at = runs[0] if runs else None
    session.add(link)
    return link


def run_link(
    *,
    engine: Engine,
    settings: Settings,
    name: str,
    dry_run: bool = False,
    now: datetime | None = None,
) -> LinkOutcome:
    """Fetch the link's source and import it (or plan it only: dry_run); the run is recorded."""
    now = now or utcnow()
    with session_scope(engine) as session:
        link = get_link(session=session, name=name)
        # Recorded as running first, so a run its process never finishes is still found.
        run = LinkRun(
            link_id=id_of(link), started_at=now, status=RunStatus.RUNNING, dry_run=dry_run
        )
        session.add(run)
        session.flush()
        session.expunge_all()
    fetched: Fetched | None = None
    outcome: LinkOutcome
    try:
        fetched = _fetch(link, settings)
        run.file_name = fetched.name
        run.file_sha256 = hashlib.sha256(fetched.data).hexdigest()
        if not dry_run and run.file_sha256 == link.last_sha256:
            outcome = LinkOutcome(link.name, RunStatus.UNCHANGED, dry_run)
        else:
            result = _import(engine, settings, link, fetched, dry_run, id_of(run))
            outcome = LinkOutcome(
                link.name, RunStatus(result.status), dry_run, result.job_id, result
            )
    except InstroomError as exc:
        refusal = exc.issue if isinstance(exc, Refusal) else None
        outcome = LinkOutcome(link.name, RunStatus.FAILED, dry_run, error=str(exc), refusal=refusal)
    run.status, run.job_id, run.error = outcome.status, outcome.job_id, outcome.error
    refusal = outcome.refusal
    if outcome.result is not None:
        run.counts = outcome.result.counts
        run.error = outcome.result.plan.refused or run.error
        refusal = outcome.result.plan.refusal or refusal
    run.refusal = refusal.as_dict() if refusal is not None else None
    return _record(engine, link, run, outcome, fetched, settings)


def _fetch(link: Link, settings: Settings) -> Fetched:
    secrets = vault_for(settings).open(link.secret)
    access = Access(
        max_bytes=settings.max_upload_bytes,
        max_rows=settings.max_rows,
        secrets=secrets,
        header=link.header,
        host_key=link.host_key,
        max_memory_bytes=settings.max_read_bytes,
        folders=folder_rule(settings),
    )
    return fetch(parse_source(link.source), access)


def _import(
    engine: Engine, settings: Settings, link: Link, fetched: Fetched, dry_run: bool, run_id: int
) -> ImportResult:
    options = ImportOptions.from_dict(link.options)
    table = read_upload(
        fetched.data, fetched.name, ReadOptions(**link.read_options, **settings.read_limits)
    )
    overrides = [(c["header"], c["field"]) for c in link.mapping.get("columns", [])]
    with Session(engine) as session:
        mapping = resolve_mapping(table, load_known_names(session=session), overrides)
    return run_import(
        engine=engine,
        request=ImportRequest(table, mapping, options),
        file_name=fetched.name,
        file_bytes=fetched.data,
        created_by=f"link {link.name}",
        dry_run=dry_run,
        # Kept with its job (passwords hashed), so an import a crash stopped can start again.
        read_options=ReadOptions(**link.read_options),
        on_job=lambda session, job_id: _set_run_job(session, run_id, job_id),
    )


def _set_run_job(session: Session, run_id: int, job_id: int) -> None:
    run = queries.find_link_run(session=session, run_id=run_id)
    if run is not None:
        run.job_id = job_id
        session.add(run)


def _record(
    engine: Engine,
    snapshot: Link,
    run: LinkRun,
    outcome: LinkOutcome,
    fetched: Fetched | None,
    settings: Settings,
) -> LinkOutcome:
    """Save the run, and what it tells about the link: its content, host key, failures."""
    failed = outcome.status == RunStatus.FAILED
    with session_scope(engine) as session:
        link = queries.find_link(session=session, link_id=id_of(snapshot))
        if link is None:  # removed while it ran; the import itself is in the history
            return outcome
        run.finished_at = utcnow()
        run = session.merge(run)
        if fetched is not None and fetched.host_key and not link.host_key:
            link.host_key = fetched.host_key
        if not outcome.dry_run:
            if failed:
                link.failures_in_row += 1
            else:
                link.failures_in_row = 0
                if outcome.result is not None:
                    link.last_sha256 = run.file_sha256
            if failed and link.failures_in_row >= FAILURES_BEFORE_PAUSE and not link.paused:
                link.paused = True
                link.pause_reason = PAUSED_AFTER_FAILURES
                outcome = replace(outcome, paused=True)
            if failed:
                _report_failure(session, link, outcome, run, settings.time_zone)
        session.add(link)
    applied = outcome.result is not None and outcome.result.applied and not outcome.dry_run
    if applied and fetched is not None and fetched.path and snapshot.move_done:
        move_to_done(fetched, folder_rule(settings))
    return outcome


def _report_failure(
    session: Session, link: Link, outcome: LinkOutcome, run: LinkRun, time_zone: str
) -> None:
    """Mail whoever the link mails why the run failed, in the mails' language (Dutch)."""
    recipients = list(dict.fromkeys([*link.notify, *_admin_of(link)]))
    if not recipients:
        return
    language = mail_language(None)
    refusal = outcome.result.plan.refusal if outcome.result is not None else outcome.refusal
    reason = refusal.text(language) if refusal else run.error or outcome.error or ""
    params = {
        "name": link.name,
        "when": format_moment(run.started_at, language, time_zone),
        "reason": reason,
        "count": len(outcome.result.plan.deactivate) if outcome.result else 0,
        "failures": link.failures_in_row,
    }

    def say(template: str) -> str:
        return render(template, language, params)

    body = [
        say(N_('The link "{name}" could not import ({when}).')),
        "",
        say(N_("Reason: {reason}")),
    ]
    if outcome.result is not None and outcome.result.plan.refused:
        body += ["", say(N_("Nothing was changed. These {count:,} users would have been blocked:"))]
        body += [""] + [
            f"- {d.email}" + (f" ({d.name})" if d.name else "")
            for d in outcome.result.plan.deactivate
        ]
    if outcome.paused:
        text = N_(
            "The link is paused after {failures} failed runs in a row. Turn it on again under "
            'Settings > Links, or with: python cli.py links resume "{name}".'
        )
        body += ["", say(text)]
    subject = N_('Link "{name}" paused') if outcome.paused else N_('Link "{name}": import failed')
    for recipient in recipients:
        queue_message(
            session=session,
            recipient=recipient,
            subject=say(subject),
            body="\n".join(body),
            job_id=outcome.job_id,
        )


def _admin_of(link: Link) -> list[str]:
    admin = link.options.get("notify_admin")
    return [admin] if admin else []


# A run with no import yet after this long has lost its process: a fetch and a read each
# end by their own deadlines long before.
LOST_RUN_AFTER = timedelta(seconds=FETCH_SECONDS + 300 + 120)


def recover_lost_runs(
    *, engine: Engine, settings: Settings, now: datetime | None = None
) -> list[LinkOutcome]:
    """Runs whose process died (kill -9, a restart) are recorded as failed and mailed.

    A run's import marked interrupted tells at once; a run that died before its import
    began is known by its age.
    """
    now = now or utcnow()
    outcomes = []
    for run, job_status in link_queries.list_running_link_runs(engine):
        lost = job_status == JobStatus.INTERRUPTED or (
            job_status is None and run.started_at < now - LOST_RUN_AFTER
        )
        if not lost:
            continue
        with Session(engine) as session:
            link = queries.find_link(session=session, link_id=run.link_id)
            if link is not None:
                session.expunge(link)
        if link is None:
            continue
        refusal = Refusal.of("run-interrupted").issue
        run.status, run.refusal, run.error = RunStatus.FAILED, refusal.as_dict(), refusal.message
        outcome = LinkOutcome(link.name, RunStatus.FAILED, run.dry_run, run.job_id, refusal=refusal)
        outcomes.append(_record(engine, link, run, outcome, None, settings))
    return outcomes


def run_due_links(
    *, engine: Engine, settings: Settings, now: datetime | None = None
) -> list[LinkOutcome]:
    """Run every link whose time has come, each once; a run's failure never stops the others."""
    now = now or utcnow()
    outcomes = []

    def after_now(link: Link) -> datetime | None:
        runs = upcoming_runs(link, settings=settings, now=now, count=1)
        return runs[0] if runs else None

    while (link_id := link_queries.claim_due_link(engine, now=now, next_run=after_now)) is not None:
        with Session(engine) as session:
            link = queries.find_link(session=session, link_id=link_id)
            name = link.name if link else None
        if name is None:
            continue
        try:
            outcomes.append(run_link(engine=engine, settings=settings, name=name, now=now))
        except Exception:  # the run is lost, not the loop: the next link still runs
            log.exception("Link %r failed", name)
    return outcomes


def describe_link(
    link: Link, *, session: Session, settings: Settings, now: datetime, language: str = "en"
) -> dict[str, Any]:
    """A link as the CLI and the Links screen show it; its secrets only as whether it has one."""
    zone = ZoneInfo(settings.time_zone)
    runs = link_queries.list_link_runs(session=session, link_id=id_of(link), limit=1)
    last = runs[0] if runs else None
    return {
        "name": link.name,
        "source": link.source,
        "source_text": parse_source(link.source).describe(language),
        "header": link.header,
        "has_secret": bool(link.secret),
        "host_key": link.host_key,
        "schedule": link.schedule or None,
        "schedule_text": parse_schedule(link.schedule).describe(language)
        if link.schedule
        else gettext(N_("by hand only"), language),
        "next_runs": [
            r.astimezone(zone).isoformat() for r in upcoming_runs(link, settings=settings, now=now)
        ],
        "paused": link.paused,
        "pause_reason": _pause_reason(link, last, language),
        "failures_in_row": link.failures_in_row,
        "notify": link.notify,
        "last_run": None
        if last is None
        else {
            "status": last.status,
            "dry_run": last.dry_run,
            "started_at": last.started_at.astimezone(zone).isoformat(),
            "job_id": last.job_id,
            "error": run_error(last, language),
        },
    }


def run_error(run: LinkRun, language: str) -> str | None:
    """Why a run failed, in the language (as recorded, for runs from before refusals were kept)."""
    if run.refusal is not None:
        return Issue(**run.refusal).text(language)
    return run.error


def _pause_reason(link: Link, last: LinkRun | None, language: str) -> str | None:
    """Why a link is paused, in the language."""
    if not link.paused:
        return None
    if link.pause_reason == PAUSED_BY_HAND:
        return gettext(N_("Paused by hand."), language)
    if link.pause_reason == PAUSED_AFTER_FAILURES:
        reason = (run_error(last, language) if last else None) or "—"
        return render(
            N_("Paused after {count} failed runs in a row; the last: {reason}"),
            language,
            {"count": link.failures_in_row, "reason": reason},
        )
    return link.pause_reason  # written out by an earlier version


def forget_host_key(*, session: Session, name: str) -> Link:
    """Forget an SFTP server's pinned host key; the next run pins the key it is shown."""
    link = get_link(session=session, name=name)
    link.host_key = None
    session.add(link)
    return link


def remove_link(*, session: Session, name: str) -> None:
    """Delete a link and its runs; its imports stay in the history."""
    session.delete(get_link(session=session, name=name))
