"""What the history shows of each import: the job, its issues, its changes and its emails."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import PurePath
from typing import Any

import pandas as pd
from sqlmodel import Session

from core.export import frame_from_json, with_reasons
from core.fields import BUILTIN_FIELDS, value_in_words
from core.i18n import N_, NP_, format_list, gettext, language_name, render, render_counted
from core.issues import Issue
from core.jobs import CONNECTION_LOST, UNEXPECTED, WORKER_STOPPED
from core.mail import delivery_error_words
from core.mail_templates import KIND_NAMES
from core.plan import MASK
from core.source import job_file_words
from db import queries
from db.models import ImportChange, ImportIssue, ImportJob, id_of
from db.queries import ChangeRecord
from db.vocabulary import JobStatus, values

JOB_STATUSES = values(JobStatus)
# The headings of the history's tables: stable keys for the code, words for the reader.
COLUMN_WORDS = (
    N_("Import"),
    N_("When"),
    N_("Who"),
    N_("File"),
    N_("Rows"),
    N_("Field"),
    N_("Old"),
    N_("New"),
    N_("Value"),
    N_("Id"),
    N_("Attempts"),
    N_("Error"),
    N_("Sent"),
    N_("Day"),
    N_("Imports"),
)
# Keys in change records that never reach a screen or a file as values.
SECRET_KEYS = {"password", "password_hash"}


@dataclass(frozen=True)
class JobDetail:
    """Everything the history shows of one import."""

    job: ImportJob
    issue_counts: dict[str, int]
    issues: pd.DataFrame
    changes: pd.DataFrame
    emails: pd.DataFrame
    rejected: pd.DataFrame


@dataclass(frozen=True)
class HomeSummary:
    """What the home page shows: users by status and the last imports."""

    users_by_status: dict[str, int]
    recent_jobs: list[dict[str, Any]]


def get_home_summary(*, session: Session, language: str, recent: int = 5) -> HomeSummary:
    """Users by status and the newest imports, for the home page."""
    return HomeSummary(
        users_by_status=queries.count_users_by_status(session=session),
        recent_jobs=[
            {
                "Import": job.id,
                "When": job.created_at,
                "File": job_file_words(job, language),
                "Status": job.status,
            }
            for job in queries.list_recent_jobs(session=session, limit=recent)
        ],
    )


def list_job_rows(
    *,
    session: Session,
    statuses: list[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    person: str | None = None,
    language: str,
    limit: int = 500,
) -> pd.DataFrame:
    """Imports newest first, with the columns the history table shows."""
    found = queries.list_jobs_filtered(
        session=session,
        statuses=statuses or (),
        since=datetime.combine(since, time.min, tzinfo=UTC) if since else None,
        until=datetime.combine(until, time.max, tzinfo=UTC) if until else None,
        created_by=person,
        limit=limit,
    )
    rows = []
    for job in found:
        counts = job.counts or {}
        rows.append(
            {
                "Import": job.id,
                "When": job.created_at,
                "Who": job.created_by,
                "File": job_file_words(job, language),
                "Status": job.status,
                **{
                    k.capitalize(): counts.get(k, 0)
                    for k in ("rows", "created", "updated", "blocked", "errors")
                },
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "Import",
            "When",
            "Who",
            "File",
            "Status",
            "Rows",
            "Created",
            "Updated",
            "Blocked",
            "Errors",
        ],
    )


def list_people(*, session: Session) -> list[str]:
    """Everyone who started an import."""
    return queries.list_job_starters(session=session)


# Each status keeps its colour whichever statuses a chart shows.
STATUS_COLOURS = {
    "succeeded": "#2e9e44",
    "completed_with_errors": "#e3a21a",
    "failed": "#d1242f",
    "interrupted": "#8250df",
    "reverted": "#6e7781",
    "running": "#1f6feb",
    "queued": "#9ecbff",
}


def outcomes_over_time(*, session: Session) -> pd.DataFrame:
    """Imports per day and status, for the chart (columns in STATUS_COLOURS' order)."""
    rows = [
        {"Day": d, "Status": s, "Imports": n}
        for d, s, n in queries.count_jobs_by_day_and_status(session=session)
    ]
    frame = pd.DataFrame(rows, columns=["Day", "Status", "Imports"])
    table = frame.pivot_table(index="Day", columns="Status", values="Imports", fill_value=0)
    return table[[s for s in STATUS_COLOURS if s in table.columns]]


def _safe(key: str, value: Any) -> str:
    """A value as the history shows it: text, lists joined, passwords masked."""
    if key in SECRET_KEYS and value:
        return MASK
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


# What a change did, and the values of fixed choices, as a reader says them.
ACTION_WORDS = {
    "create": N_("created"),
    "update": N_("updated"),
    "block": N_("blocked"),
    "unblock": N_("unblocked"),
    "rename": N_("renamed"),
    "deactivate": N_("deactivated"),
    "delete": N_("deleted for good by the identity provider"),
    "revert-restore": N_("put back by a revert"),
    "revert-remove": N_("removed by a revert"),
    "revert-block": N_("blocked by a revert"),
    "revert-skip": N_("left as it is by a revert"),
}
_SIGNS = {"_added": "+", "_removed": "−"}


@dataclass(frozen=True)
class ChangeWords:
    """How a change log is written for one reader: field labels, language, reverted imports."""

    labels: dict[str, str]
    language: str = "en"
    # Revert job -> the import it took back, named where a change has no row of a file.
    reverted: dict[int, int] = field(default_factory=dict)

    def field(self, key: str) -> str:
        base = key.removeprefix("profile.")
        for suffix, sign in _SIGNS.items():
            if base.endswith(suffix):
                return f"{self.labels.get(base.removesuffix(suffix), base)} {sign}"
        return self.labels.get(base, base)

    def value(self, key: str, value: Any) -> str:
        return value_in_words(key, _safe(key, value), self.language)

    def row(self, change: ImportChange | ChangeRecord) -> str:
        if change.row is not None:
            return str(change.row)
        undone = self.reverted.get(change.job_id)
        return (
            render(N_("revert of import {job}"), self.language, {"job": undone}) if undone else ""
        )


def change_labels(*, session: Session, language: str) -> dict[str, str]:
    """Field key -> its label in the reader's language; profile fields by their own label."""
    builtin = {key: gettext(label, language) for key, label in BUILTIN_FIELDS.items()}
    return builtin | {f.key: f.label for f in queries.list_profile_fields(session=session)}


def change_rows(changes: Sequence[ImportChange | ChangeRecord], words: ChangeWords) -> pd.DataFrame:
    """One row per changed field: who, what, old and new, in words; passwords never shown."""
    rows = []
    # A few fields and actions, named again for every user otherwise.
    fields: dict[str, str] = {}
    actions: dict[str, str] = {}
    for change in changes:
        keys = [k for k in dict.fromkeys([*change.before, *change.after]) if not k.startswith("_")]
        if change.action not in actions:
            action = ACTION_WORDS.get(change.action)
            actions[change.action] = gettext(action, words.language) if action else change.action
        for key in keys or [""]:
            if key not in fields:
                fields[key] = words.field(key)
            rows.append(
                (
                    change.job_id,
                    words.row(change),
                    change.email,
                    actions[change.action],
                    fields[key],
                    words.value(key, change.before.get(key, "")),
                    words.value(key, change.after.get(key, "")),
                )
            )
    return pd.DataFrame(rows, columns=["Import", "Row", "Email", "Action", "Field", "Old", "New"])


def job_error_words(*, session: Session, job: ImportJob, language: str) -> str:
    """Why a job stopped, in the reader's language: a refusal as its stored issue says it."""
    error = job.error or ""
    head, _, tail = UNEXPECTED.partition("{detail}")
    if error in (CONNECTION_LOST, WORKER_STOPPED):
        return gettext(error, language)
    if error.startswith(head) and error.endswith(tail):
        return render(UNEXPECTED, language, {"detail": error[len(head) : len(error) - len(tail)]})
    for row in queries.list_job_issues(session=session, job_id=id_of(job)):
        if row.row is None and row.message == error:
            return stored_issue(row).text(language)
    return error


def stored_issue(row: ImportIssue) -> Issue:
    """An issue as it was stored; its text can be written in any language again."""
    return Issue(
        row.code,
        row.message,
        row.severity,
        row.row,
        row.column,
        row.field,
        row.value,
        row.variant,
        row.params,
    )


def job_change_rows(
    *, session: Session, job: ImportJob, labels: dict[str, str], language: str
) -> pd.DataFrame:
    """What a job changed, a row per field, in the reader's words and field labels."""
    changes = queries.list_job_changes(session=session, job_id=id_of(job))
    reverted = {id_of(job): job.reverts_job_id} if job.reverts_job_id else {}
    return change_rows(list(changes), ChangeWords(labels, language, reverted))


def get_job_detail(
    *, session: Session, job_id: int, language: str = "en", changes: pd.DataFrame | None = None
) -> JobDetail | None:
    """The job with its issues (in the reader's language), changes, emails and rejected rows;
    changes: its change rows as job_change_rows made them, when the caller has them."""
    job = queries.find_job(session=session, job_id=job_id, without_file=True)
    if job is None:
        return None
    issues = queries.list_job_issues(session=session, job_id=job_id)
    issue_frame = pd.DataFrame(
        [
            {
                # A file-level issue has no row or column: empty, not "None" or "nan".
                "Row": "" if i.row is None else str(i.row),
                "Column": i.column or "",
                "Code": i.code,
                "Severity": i.severity,
                "Problem and what to do": stored_issue(i).text(language),
                "Value": _safe(i.field or "", i.value),
            }
            for i in issues
        ],
        columns=["Row", "Column", "Code", "Severity", "Problem and what to do", "Value"],
    )
    if changes is None:
        labels = change_labels(session=session, language=language)
        changes = job_change_rows(session=session, job=job, labels=labels, language=language)
    emails = queries.list_job_emails(session=session, job_id=job_id)
    email_frame = pd.DataFrame(
        [
            {
                "Id": m.id,
                "To": m.recipient,
                "Message": gettext(KIND_NAMES[m.template], language),
                "Language": language_name(m.language, language),
                "Status": m.status,
                "Attempts": m.attempts,
                "Error": delivery_error_words(m.error, language) if m.error else "",
                "Sent": m.sent_at,
            }
            for m in emails
        ],
        columns=["Id", "To", "Message", "Language", "Status", "Attempts", "Error", "Sent"],
    )
    return JobDetail(
        job,
        dict(Counter(i.code for i in issues).most_common()),
        issue_frame,
        changes,
        email_frame,
        with_reasons(
            frame_from_json(job.rejected or {}), [stored_issue(i) for i in issues], language
        ),
    )


def get_rejected_rows(*, session: Session, job: ImportJob, language: str) -> pd.DataFrame:
    """A job's rejected rows, their reasons in the reader's language."""
    issues = queries.list_job_issues(session=session, job_id=id_of(job))
    frame = frame_from_json(job.rejected or {})
    return with_reasons(frame, [stored_issue(i) for i in issues], language)


def user_history(*, session: Session, user_id: int, language: str = "en") -> pd.DataFrame:
    """Every change imports made to one user, newest first, in the reader's words."""
    changes = list(queries.list_user_changes(session=session, user_id=user_id))
    ids = list(dict.fromkeys(c.job_id for c in changes))
    jobs = queries.list_jobs_by_id(session=session, job_ids=ids) if ids else {}
    reverted = {i: j.reverts_job_id for i, j in jobs.items() if j.reverts_job_id}
    labels = change_labels(session=session, language=language)
    frame = change_rows(changes, ChangeWords(labels, language, reverted))
    frame.insert(1, "When", [jobs[i].created_at for i in frame["Import"]])
    frame.insert(2, "Who", [jobs[i].created_by for i in frame["Import"]])
    return frame


def get_kept_file(*, session: Session, job_id: int) -> tuple[str, bytes] | None:
    """The uploaded file of a job whose administrator chose to keep it, while it is kept."""
    job = queries.find_job(session=session, job_id=job_id)
    if job is None or not job.source_data or job.keep_file_until is None:
        return None
    if any(c.get("field") == "password" for c in job.mapping.get("columns", [])):
        return f"{PurePath(job.file_name).stem} (without passwords).csv", job.source_data
    return job.file_name, job.source_data


def describe_added(added: dict[str, Any] | None, labels: dict[str, str], language: str) -> str:
    """What an import added to the catalogue, as the sentence its result shows (or "")."""
    added = added or {}
    parts = [
        render_counted(forms, len(names), language, names=", ".join(names))
        for forms, names in (
            (NP_("{count:,} group ({names})", "{count:,} groups ({names})"), added.get("groups")),
            (NP_("{count:,} level ({names})", "{count:,} levels ({names})"), added.get("levels")),
        )
        if names
    ]
    for key, names in sorted(added.get("terms", {}).items()):
        if names:
            forms = NP_(
                "{count:,} term of {field} ({names})", "{count:,} terms of {field} ({names})"
            )
            field = labels.get(key, key)
            parts.append(
                render_counted(forms, len(names), language, field=field, names=", ".join(names))
            )
    sentences = []
    if parts:
        sentences.append(
            gettext(N_("Added to the catalogue: {parts}."), language).format(
                parts=format_list(parts, language)
            )
        )
    # A provider's group changes (SCIM): renamed and removed groups.
    changed = [
        render_counted(forms, len(names), language, names=", ".join(names))
        for forms, names in (
            (
                NP_("{count:,} group renamed ({names})", "{count:,} groups renamed ({names})"),
                added.get("groups_renamed"),
            ),
            (
                NP_("{count:,} group removed ({names})", "{count:,} groups removed ({names})"),
                added.get("groups_removed"),
            ),
        )
        if names
    ]
    if changed:
        sentences.append(
            gettext(N_("Changed in the catalogue: {parts}."), language).format(
                parts=format_list(changed, language)
            )
        )
    return " ".join(sentences)
