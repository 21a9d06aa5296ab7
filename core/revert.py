"""Take an import back: restore what it changed, unless a user was changed again since."""

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from core.apply import write_issues
from core.fields import describe_values
from core.history import SECRET_KEYS
from core.i18n import N_, gettext, render
from core.issues import Issue, JobError, issue
from core.jobs import job_transaction
from core.plan import MASK, SIMPLE_FIELDS
from db import queries
from db.imports import insert_changes
from db.locks import run_now
from db.models import Group, ImportJob, Level, User, id_of, utcnow
from db.revert import (
    add_to_groups,
    delete_user,
    get_name_ids,
    get_reverting_job_id,
    list_changes_newest_first,
    list_users_changed_after,
    remove_memberships,
    update_user,
)
from db.scim import close_day_job
from db.vocabulary import JobStatus, UserStatus

REVERTIBLE = {JobStatus.SUCCEEDED, JobStatus.COMPLETED_WITH_ERRORS}
RESTORABLE = {"email", "status", *SIMPLE_FIELDS}
# What a revert does to a user, and why it does not simply put one back, in words.
REVERT_ACTIONS = {
    "restore": N_("put back"),
    "remove": N_("removed"),
    "block": N_("blocked"),
    "skip": N_("left as it is"),
}
CONFLICTS = {
    "protected": N_("protected now"),
    "activated": N_("signed in or changed since the import"),
    "status": N_("status {status} since the import"),
    "changed": N_("changed again since the import"),
    "deleted": N_("deleted for good by the identity provider; there is nothing to put back"),
}


@dataclass
class RevertRow:
    """What reverting does to one user the import touched."""

    user_id: int | None
    email: str
    action: str  # restore, remove, block, skip (REVERT_ACTIONS)
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    groups_remove: list[str] = field(default_factory=list)
    groups_restore: list[str] = field(default_factory=list)
    levels_remove: list[str] = field(default_factory=list)
    # Why the user is not simply put back (CONFLICTS), and the status it has now.
    conflict: str | None = None
    status_now: str = ""


@dataclass
class RevertPlan:
    """The whole revert of one import, computed without writing anything."""

    job_id: int
    rows: list[RevertRow]

    @property
    def conflicts(self) -> list[RevertRow]:
        """Users changed again since the import, left alone."""
        return [r for r in self.rows if r.conflict and r.action == "skip"]

    @property
    def counts(self) -> dict[str, int]:
        """Counts in the shape of an import's, plus what is particular to a revert."""
        actions = [r.action for r in self.rows]
        return {
            "rows": len(self.rows),
            "created": 0,
            "updated": actions.count("restore"),
            "unchanged": 0,
            "skipped": actions.count("skip"),
            "blocked": actions.count("block"),
            "unblocked": sum(
                1
                for r in self.rows
                if r.action == "restore"
                and r.changes.get("status", ("", ""))[1] != UserStatus.BLOCKED
                and r.changes.get("status", ("", ""))[0] == UserStatus.BLOCKED
            ),
            "renamed": 0,
            "deactivated": 0,
            "errors": 0,
            "warnings": len(self.conflicts),
            "removed": actions.count("remove"),
            "conflicts": len(self.conflicts),
        }

    def row_words(
        self, row: RevertRow, labels: Mapping[str, str], language: str
    ) -> tuple[str, str, str]:
        """A row's action, changes and conflict as the reader says them."""
        changes = {k: v for k, v in row.changes.items() if k not in SECRET_KEYS}
        conflict = (
            render(CONFLICTS[row.conflict], language, {"status": gettext(row.status_now, language)})
            if row.conflict
            else ""
        )
        return (
            gettext(REVERT_ACTIONS[row.action], language),
            "; ".join(describe_values(changes, labels, language)),
            conflict,
        )

    @property
    def issues(self) -> list[Issue]:
        """One warning per conflict, saying what differs."""
        return [
            issue("revert-protected", field="email", value=r.email, email=r.email)
            if r.conflict == "protected"
            else issue(
                "revert-conflict",
                "status",
                field="email",
                value=r.email,
                email=r.email,
                status=r.status_now,
            )
            if r.conflict == "status"
            else issue("revert-conflict", "deleted", field="email", value=r.email, email=r.email)
            if r.conflict == "deleted"
            else issue("revert-conflict", field="email", value=r.email, email=r.email)
            for r in self.conflicts
        ]


def _current(user: User, key: str) -> Any:
    if key.startswith("profile."):
        return (user.profile or {}).get(key[len("profile.") :], "")
    return getattr(user, key) or ""


def get_revertible_job(*, session: Session, job_id: int) -> ImportJob:
    """The import to revert, or a clear refusal."""
    job = queries.find_job(session=session, job_id=job_id)
    if job is None or job.kind != "import":
        raise JobError.of("unknown-import", job_id=job_id)
    if job.status == JobStatus.REVERTED:
        by = get_reverting_job_id(session=session, job_id=job_id)
        raise JobError.of("already-reverted", "by-job" if by else "", job_id=job_id, by=by)
    if job.status not in REVERTIBLE:
        raise JobError.of("not-revertible", job_id=job_id, status=job.status)
    return job


def plan_revert(
    *, session: Session, job_id: int, overwrite: AbstractSet[str] = frozenset()
) -> RevertPlan:
    """What reverting the import would do; overwrite lists emails whose conflicts to ignore."""
    job = get_revertible_job(session=session, job_id=job_id)
    finished = job.finished_at or utcnow()
    # Users a later import (or revert) changed; activation is the other change a user makes.
    changed_later = list_users_changed_after(session=session, job_id=job_id)
    changes = list_changes_newest_first(session=session, job_id=job_id)
    rows: list[RevertRow] = []
    for change in changes:
        if change.action == "delete":
            rows.append(RevertRow(None, change.email, "skip", conflict="deleted"))
            continue
        user = queries.find_user(session=session, user_id=change.user_id)
        if user is None:
            continue  # removed since; nothing to take back
        if user.is_protected:
            rows.append(RevertRow(user.id, user.email, "skip", conflict="protected"))
            continue
        later = user.id in changed_later or bool(user.activated_at and user.activated_at > finished)
        after = {
            k: v for k, v in change.after.items() if k in RESTORABLE or k.startswith("profile.")
        }
        differs = [k for k, v in after.items() if _current(user, k) != (v or "")]
        row = RevertRow(user.id, user.email, "restore")
        if change.action == "create":
            row.action = "remove"
            if later:
                row.action, row.conflict = "block", "activated"
                row.changes = {"status": (user.status, UserStatus.BLOCKED)}
        elif change.action == "deactivate":
            row.changes = {"status": (user.status, change.before.get("status", UserStatus.ACTIVE))}
            if user.status != UserStatus.BLOCKED:
                row.conflict, row.status_now = "status", user.status
        else:
            row.changes = {
                k: (_current(user, k), change.before.get(k, ""))
                for k in after
                if k in change.before
            }
            if "_password_hash" in change.before:
                row.changes["password_hash"] = (MASK, change.before["_password_hash"])
            row.groups_remove = list(change.after.get("groups_added", []))
            row.groups_restore = list(change.after.get("groups_removed", []))
            row.levels_remove = list(change.after.get("levels_added", []))
            if later and differs:
                row.conflict = "changed"
        if row.conflict and row.action != "block" and user.email not in overwrite:
            row.action = "skip"
        rows.append(row)
    return RevertPlan(job_id, rows)


def _set_profile(user: User, changes: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {
        k: (v or None if k in {"username", "role", "language"} else v)
        for k, (_, v) in changes.items()
        if not k.startswith("profile.")
    }
    profile = dict(user.profile or {})
    for key, (_, old) in changes.items():
        if key.startswith("profile."):
            name = key[len("profile.") :]
            if old:
                profile[name] = old
            else:
                profile.pop(name, None)
    if any(k.startswith("profile.") for k in changes):
        values["profile"] = profile
    return values


def apply_revert(*, session: Session, plan: RevertPlan, revert_job_id: int) -> None:
    """Write the revert and record it as the revert job's changes; the caller commits."""
    names = get_name_ids(session=session)
    records = []
    for row in plan.rows:
        if row.action == "skip":
            continue
        user = queries.find_user(session=session, user_id=row.user_id)
        if user is None:
            continue  # removed since: nothing to take back
        before, after = _revert_user(session, row, user, names)
        records.append(
            {
                "job_id": revert_job_id,
                "user_id": None if row.action == "remove" else row.user_id,
                "email": row.email,
                "row": None,
                "action": f"revert-{row.action}",
                "before": before,
                "after": after,
            }
        )
    insert_changes(session=session, records=records)


def _revert_user(
    session: Session,
    row: RevertRow,
    user: User,
    names: dict[type[Group | Level], dict[str, int]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Put one user back (or remove it); what it was and what it is now, for the record."""
    before = {k: old for k, (old, _) in row.changes.items() if k != "password_hash"}
    after = {k: new for k, (_, new) in row.changes.items() if k != "password_hash"}
    if "password_hash" in row.changes:
        before["password"], after["password"] = MASK, "(restored)"
    user_id = id_of(user)
    if row.action == "remove":
        delete_user(session=session, user_id=user_id)
        return {"email": row.email}, {}
    values = _set_profile(user, row.changes)
    values["updated_at"] = utcnow()
    update_user(session=session, user_id=user_id, values=values)
    # A group or level deleted since the import has no memberships left to change.
    groups, levels = names[Group], names[Level]
    remove_memberships(
        session=session,
        user_id=user_id,
        group_ids=[groups[g] for g in row.groups_remove if g in groups],
        level_ids=[levels[lv] for lv in row.levels_remove if lv in levels],
    )
    add_to_groups(
        session=session,
        user_id=user_id,
        group_ids=[groups[g] for g in row.groups_restore if g in groups],
    )
    for key, names_of in (
        ("groups_removed", row.groups_remove),
        ("groups_added", row.groups_restore),
        ("levels_removed", row.levels_remove),
    ):
        if names_of:
            after[key] = names_of
    return before, after


@dataclass
class RevertResult:
    """What a revert (or its dry run) did, shaped like an import's CLI result."""

    job_id: int | None
    status: str
    dry_run: bool
    plan: RevertPlan

    def as_json(self, language: str = "en") -> dict[str, Any]:
        """The object `cli.py revert --json` prints, its messages in the language."""
        return {
            "job_id": self.job_id,
            "status": self.status,
            "dry_run": self.dry_run,
            "counts": self.plan.counts,
            "issues": [i.as_contract(language) for i in self.plan.issues],
            "emails": {"welcome": 0, "updated": 0},
        }


def create_revert_job(
    *,
    session: Session,
    job_id: int,
    created_by: str,
    overwrite: AbstractSet[str] = frozenset(),
    status: JobStatus = JobStatus.QUEUED,
) -> ImportJob:
    """Record a revert of job_id as a job of its own."""
    original = get_revertible_job(session=session, job_id=job_id)
    if original.day_key:
        # A provider would undo the revert with its next call: its connection pauses first,
        # and a call after it is resumed starts a new job.
        close_day_job(session=session, day_key=original.day_key)
    job = ImportJob(
        kind="revert",
        created_by=created_by,
        reverts_job_id=job_id,
        file_name=original.file_name,
        options={"overwrite": sorted(overwrite)},
        status=status,
    )
    session.add(job)
    session.flush()
    return job


def execute_revert(*, engine: Engine, revert_job_id: int) -> RevertResult:
    """Run a recorded revert job in one transaction; the original becomes `reverted`."""
    # After any import still writing: its changes are then seen, as conflicts.
    with job_transaction(engine, revert_job_id, restartable=False) as session:
        job = queries.get_job(session=session, job_id=revert_job_id)
        job.status, job.started_at = JobStatus.RUNNING, utcnow()
        reverted_id = job.reverts_job_id
        assert reverted_id is not None, "a revert job names the import it reverts"
        plan = plan_revert(
            session=session,
            job_id=reverted_id,
            overwrite=set(job.options.get("overwrite", [])),
        )
        apply_revert(session=session, plan=plan, revert_job_id=revert_job_id)
        status = JobStatus.COMPLETED_WITH_ERRORS if plan.conflicts else JobStatus.SUCCEEDED
        job.status, job.counts, job.finished_at = status, plan.counts, utcnow()
        queries.get_job(session=session, job_id=reverted_id).status = JobStatus.REVERTED
        write_issues(session=session, job_id=revert_job_id, issues=plan.issues)
    return RevertResult(revert_job_id, status, False, plan)


def run_revert(
    *,
    engine: Engine,
    job_id: int,
    created_by: str,
    dry_run: bool = False,
    overwrite: AbstractSet[str] = frozenset(),
) -> RevertResult:
    """Revert an import now, in this process (the CLI); a dry run only plans it."""
    if dry_run:
        with Session(engine) as session:
            plan = plan_revert(session=session, job_id=job_id, overwrite=overwrite)
        return RevertResult(
            None,
            JobStatus.COMPLETED_WITH_ERRORS if plan.conflicts else JobStatus.SUCCEEDED,
            True,
            plan,
        )
    return run_now(
        engine,
        lambda session: id_of(
            create_revert_job(
                session=session,
                job_id=job_id,
                created_by=created_by,
                overwrite=overwrite,
                status=JobStatus.RUNNING,
            )
        ),
        lambda revert_id: execute_revert(engine=engine, revert_job_id=revert_id),
    )
