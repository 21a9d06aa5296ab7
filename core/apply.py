"""Write a plan in the caller's transaction: bulk statements in batches, and what changed."""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlmodel import Session, col

from core.bulk import without_collector
from core.issues import Issue
from core.passwords import hash_imported
from core.plan import MASK, Plan, RowPlan
from core.vocabulary import Outcome
from db.bulk import BATCH, batches, bulk_insert, new_user_ids
from db.models import (
    Group,
    ImportChange,
    ImportIssue,
    ImportJob,
    Level,
    ProfileField,
    Term,
    User,
    UserGroup,
    UserLevel,
    table_of,
    utcnow,
)
from db.seed import EVERYONE

Progress = Callable[[int, int], None]
USERS = table_of(User)
WRITTEN_OUTCOMES = {Outcome.CREATE, Outcome.UPDATE, Outcome.BLOCK, Outcome.UNBLOCK, Outcome.RENAME}


def _hash_passwords(rows: list[RowPlan]) -> dict[int, str]:
    with_password = [r for r in rows if r.password]
    hashes = hash_imported([r.password for r in with_password])
    return dict(zip((r.row for r in with_password), hashes, strict=True))


def _ensure_names(
    session: Session, model: type[Group | Level], names: list[str]
) -> tuple[dict[str, int], list[str]]:
    """Every name's id, after adding the missing names; and the names added."""
    name, model_id = col(model.name), col(model.id)
    missing: list[str] = []
    if names:
        existing = set(session.execute(select(name).where(name.in_(names))).scalars())
        missing = [n for n in names if n not in existing]
        if missing:
            now = utcnow()
            session.execute(
                insert(table_of(model)), [{"name": n, "created_at": now} for n in missing]
            )
    return {n: i for n, i in session.execute(select(name, model_id))}, missing


def _ensure_terms(session: Session, new_terms: dict[str, list[str]]) -> None:
    for key, names in new_terms.items():
        taxonomy_id = session.execute(
            select(col(ProfileField.taxonomy_id)).where(col(ProfileField.key) == key)
        ).scalar_one()
        session.execute(
            insert(table_of(Term)), [{"taxonomy_id": taxonomy_id, "name": n} for n in names]
        )


def _record_added(
    session: Session, job_id: int, groups: list[str], levels: list[str], terms: dict[str, list[str]]
) -> None:
    """Keep on the job what it added to the catalogue, for its result and its history."""
    if not (groups or levels or any(terms.values())):
        return
    job = session.get(ImportJob, job_id)
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


def _change_record(job_id: int, plan: RowPlan, user_id: int | None) -> dict[str, Any]:
    after = {k: new for k, (_, new) in plan.changes.items()}
    created = plan.outcome == Outcome.CREATE
    # A new user had nothing before; the history shows an empty old value for every key.
    before = {} if created else {k: old for k, (old, _) in plan.changes.items()}
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
    return {
        "job_id": job_id,
        "user_id": user_id,
        "email": plan.email,
        "row": plan.row,
        "action": plan.outcome,
        "before": before,
        "after": after,
    }


@without_collector
def apply_plan(
    *, session: Session, plan: Plan, job_id: int, progress: Progress | None = None
) -> None:
    """Write every change of plan, its change records and its issues; the caller commits."""
    # Core statements on the session's connection: same transaction, no ORM bookkeeping.
    connection = session.connection()
    written = [r for r in plan.rows if r.outcome in WRITTEN_OUTCOMES]
    total, done = len(written) + len(plan.deactivate), 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(done, total)

    needed_groups = sorted({g for r in written for g in r.groups_add} | {EVERYONE})
    group_ids, added_groups = _ensure_names(
        session, Group, [g for g in needed_groups if g in plan.new_groups or g == EVERYONE]
    )
    level_ids, added_levels = _ensure_names(session, Level, plan.new_levels)
    _ensure_terms(session, plan.new_terms)
    _record_added(session, job_id, added_groups, added_levels, plan.new_terms)
    hashes = _hash_passwords(written)
    now = utcnow()

    creates = [r for r in written if r.outcome == Outcome.CREATE]
    for r, user_id in zip(creates, new_user_ids(connection, len(creates)), strict=True):
        r.user_id = user_id
    for batch in batches(creates, 10 * BATCH):
        values = [
            {
                "id": r.user_id,
                **r.values,
                "password_hash": hashes.get(r.row),
                "is_protected": False,
                "created_at": now,
                "updated_at": now,
            }
            for r in batch
        ]
        bulk_insert(connection, USERS, values)
        advance(len(batch))

    # A rename of a user this file creates names them by email only.
    unknown = [r for r in written if r.user_id is None]
    for batch in batches(unknown):
        query = select(USERS.c.email, USERS.c.id).where(USERS.c.email.in_([r.email for r in batch]))
        ids: dict[str, int] = {email: i for email, i in connection.execute(query)}
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
        statement = (
            update(USERS)
            .where(USERS.c.id == bindparam("_id"))
            .values({c: bindparam(c) for c in columns})
        )
        for batch in batches(rows):
            connection.execute(statement, batch)
            advance(len(batch))

    memberships = [
        {"user_id": r.user_id, "group_id": group_ids[g]} for r in written for g in r.groups_add
    ]
    levels = [
        {"user_id": r.user_id, "level_id": level_ids[lv]} for r in written for lv in r.levels_add
    ]
    for table, rows in ((table_of(UserGroup), memberships), (table_of(UserLevel), levels)):
        bulk_insert(connection, table, rows)
    removals = [r.user_id for r in written if r.groups_remove]
    for batch in batches(removals):
        connection.execute(
            delete(table_of(UserGroup)).where(
                col(UserGroup.user_id).in_(batch), col(UserGroup.group_id) != group_ids[EVERYONE]
            )
        )

    for batch in batches(plan.deactivate):
        connection.execute(
            update(USERS)
            .where(USERS.c.id.in_([d.user_id for d in batch]))
            .values(status="blocked", updated_at=now)
        )
        advance(len(batch))

    changes = [_change_record(job_id, r, r.user_id) for r in written]
    changes += [
        {
            "job_id": job_id,
            "user_id": d.user_id,
            "email": d.email,
            "row": None,
            "action": Outcome.DEACTIVATE,
            "before": {"status": d.status},
            "after": {"status": "blocked"},
        }
        for d in plan.deactivate
    ]
    bulk_insert(connection, table_of(ImportChange), changes)
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
    bulk_insert(session.connection(), table_of(ImportIssue), rows)
