"""Write a plan in the caller's transaction: bulk statements in batches, and what changed."""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from core.gc_pause import without_collector
from core.issues import Issue
from core.passwords import hash_imported
from core.plan import MASK, Plan, RowPlan, created_values
from db import queries
from db.bulk import BATCH, batches
from db.imports import (
    add_memberships,
    add_terms,
    block_users,
    ensure_names,
    get_user_ids_by_email,
    insert_import_changes,
    insert_issues,
    insert_users,
    remove_from_groups,
    reserve_user_ids,
    update_users,
)
from db.models import Group, Level, utcnow
from db.vocabulary import Outcome, UserStatus

Progress = Callable[[int, int], None]
WRITTEN_OUTCOMES = {Outcome.CREATE, Outcome.UPDATE, Outcome.BLOCK, Outcome.UNBLOCK, Outcome.RENAME}


def _hash_passwords(rows: list[RowPlan]) -> dict[int, str]:
    with_password = [r for r in rows if r.password]
    hashes = hash_imported([r.password for r in with_password])
    return dict(zip((r.row for r in with_password), hashes, strict=True))


def _record_added(
    session: Session, job_id: int, groups: list[str], levels: list[str], terms: dict[str, list[str]]
) -> None:
    """Keep on the job what it added to the catalogue, for its result and its history."""
    if not (groups or levels or any(terms.values())):
        return
    job = queries.find_job(session=session, job_id=job_id)
    assert job is not None, "a written import is recorded as a job first"
    added = dict(job.catalogue_added or {})
    added["groups"] = sorted({*added.get("groups", []), *groups})
    added["levels"] = sorted({*added.get("levels", []), *levels})
    kept_terms = dict(added.get("terms", {}))
    for key, names in terms.items():
        kept_terms[key] = sorted({*kept_terms.get(key, []), *names})
    added["terms"] = kept_terms
    # A new dict, so the JSON column is seen as changed.
    job.catalogue_added = added
    session.add(job)


def _before_after(plan: RowPlan) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a row's change record keeps of the user before and after it."""
    created = plan.outcome == Outcome.CREATE
    # A new user had nothing before; the history shows an empty old value for every key.
    if created:
        before, after = {}, created_values(plan)
    else:
        before = {k: old for k, (old, _) in plan.changes.items()}
        after = {k: new for k, (_, new) in plan.changes.items()}
    if "password" in after:
        after["password"] = "(changed)"
        if not created:
            # A hash, never the password; keys starting with _ are never shown.
            before["password"], before["_password_hash"] = MASK, plan.old_password_hash
    if plan.groups_add:
        after["groups_added"] = list(plan.groups_add)
    if plan.groups_remove:
        after["groups_removed"] = list(plan.groups_remove)
    if plan.levels_add:
        after["levels_added"] = list(plan.levels_add)
    return before, after


@without_collector
def apply_plan(
    *, session: Session, plan: Plan, job_id: int, progress: Progress | None = None
) -> None:
    """Write every change of plan, its change records and its issues; the caller commits."""
    written = [r for r in plan.rows if r.outcome in WRITTEN_OUTCOMES]
    total, done = len(written) + len(plan.deactivate), 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(done, total)

    needed_groups = sorted({g for r in written for g in r.groups_add})
    group_ids, added_groups = ensure_names(
        session=session, model=Group, names=[g for g in needed_groups if g in plan.new_groups]
    )
    level_ids, added_levels = ensure_names(session=session, model=Level, names=plan.new_levels)
    add_terms(session=session, new_terms=plan.new_terms)
    _record_added(session, job_id, added_groups, added_levels, plan.new_terms)
    hashes = _hash_passwords(written)
    now = utcnow()

    creates = [r for r in written if r.outcome == Outcome.CREATE]
    for r, user_id in zip(
        creates, reserve_user_ids(session=session, count=len(creates)), strict=True
    ):
        r.user_id = user_id
    # Column by column: the same fields for every new user (see plan_create).
    fields = list(creates[0].values) if creates else []
    for batch in batches(creates, 10 * BATCH):
        new_users = {"id": [r.user_id for r in batch]}
        new_users |= {key: [r.values[key] for r in batch] for key in fields}
        new_users["password_hash"] = [hashes.get(r.row) for r in batch]
        shared = {"is_protected": False, "created_at": now, "updated_at": now}
        insert_users(session=session, columns=new_users, shared=shared)
        advance(len(batch))

    # A rename of a user this file creates names them by email only.
    unknown = [r for r in written if r.user_id is None]
    for batch in batches(unknown):
        ids = get_user_ids_by_email(session=session, emails=[r.email for r in batch])
        for r in batch:
            r.user_id = ids.get(r.email)

    by_columns: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
    for r in written:
        if r.outcome == Outcome.CREATE or r.user_id is None:
            continue
        changed: dict[str, Any] = dict(r.values)
        if r.row in hashes:
            changed["password_hash"] = hashes[r.row]
        changed["updated_at"] = now
        by_columns[frozenset(changed)].append({"_id": r.user_id, **changed})
    for columns, rows in by_columns.items():
        for batch in batches(rows):
            update_users(session=session, columns=columns, rows=batch)
            advance(len(batch))

    memberships = [(r.user_id, group_ids[g]) for r in written for g in r.groups_add]
    levels = [(r.user_id, level_ids[lv]) for r in written for lv in r.levels_add]
    add_memberships(session=session, groups=memberships, levels=levels)
    removals = [r.user_id for r in written if r.groups_remove and r.user_id is not None]
    remove_from_groups(session=session, user_ids=removals)

    for batch in batches(plan.deactivate):
        block_users(session=session, user_ids=[d.user_id for d in batch], now=now)
        advance(len(batch))

    kept = [_before_after(r) for r in written]
    kept += [({"status": d.status}, {"status": UserStatus.BLOCKED}) for d in plan.deactivate]
    deactivated = len(plan.deactivate)
    change_columns: dict[str, list[Any]] = {
        "user_id": [r.user_id for r in written] + [d.user_id for d in plan.deactivate],
        "email": [r.email for r in written] + [d.email for d in plan.deactivate],
        "row": [r.row for r in written] + [None] * deactivated,
        "action": [r.outcome for r in written] + [Outcome.DEACTIVATE] * deactivated,
        "before": [before for before, _ in kept],
        "after": [after for _, after in kept],
    }
    insert_import_changes(session=session, columns=change_columns, shared={"job_id": job_id})
    write_issues(session=session, job_id=job_id, issues=plan.issues)


def write_issues(*, session: Session, job_id: int, issues: list[Issue]) -> None:
    """Store an import's issues; password values never leave the row they came from."""
    rows = [
        {
            "job_id": job_id,
            "row": i.row,
            "column": i.column,
            "field": i.field,
            "code": i.code,
            "severity": i.severity,
            "message": i.message,
            "value": MASK if i.field == "password" else i.value,
            "variant": i.variant,
            "params": i.params,
        }
        for i in issues
    ]
    insert_issues(session=session, rows=rows)
