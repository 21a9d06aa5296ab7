"""SCIM connections, and what a provider's call writes: through the import pipeline, so a
provider meets every rule a file meets, recorded in one job per connection per day."""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from babel.dates import format_date
from sqlmodel import Session

from core.apply import write_issues
from core.i18n import N_
from core.issues import ERROR, Issue, ScimRefusal, issue
from core.one_time_links import token_hash
from core.options import ImportOptions
from core.pipeline import ImportRequest, run_pipeline
from core.plan import Plan
from core.read.table import Table
from db import scim as queries
from db.imports import add_memberships, insert_changes
from db.models import Group, ImportJob, ScimConnection, id_of, utcnow
from db.queries import list_languages, list_profile_fields, list_roles
from db.revert import delete_user
from db.users import ExistingUser, StoredUsers, load_user_by_id
from db.vocabulary import JobStatus, Kind, MatchKey, Mode, Outcome, UserStatus

TOKEN_BYTES = 32
NAME_MAX = 80
# SCIM attribute -> the column header an issue names ("the column as the provider wrote it").
HEADERS = {
    "email": "emails",
    "username": "userName",
    "first_name": "name.givenName",
    "name_insert": "name.middleName",
    "last_name": "name.familyName",
    "language": "preferredLanguage",
    "status": "active",
    "action": "active",
}
# What the Settings page and the CLI may set of a connection.
SETTINGS = {
    "paused",
    "welcome_new",
    "role",
    "language",
    "kind",
    "match_username",
    "own_groups_only",
    "may_deactivate",
    "may_delete",
    "profile_map",
}
# The attributes a connection may map to profile fields: title, and the enterprise ones.
PROFILE_ATTRIBUTES = ("title", "employeeNumber", "department", "organization", "manager")
# The enterprise attributes a new connection fills, where the default profile fields exist.
DEFAULT_PROFILE_MAP = {
    "title": "job_title",
    "department": "department",
    "employeeNumber": "employee_id",
}
# Issue codes a provider is told as a taken value (409) or a forbidden change (400).
UNIQUENESS_CODES = {"already-exists", "username-taken", "email-taken", "duplicate-email"}
MUTABILITY_CODES = {"protected-user"}


@dataclass(frozen=True)
class Person:
    """What a provider says of one user, in Instroom's fields: None is not said, "" is
    cleared (a PUT or a PATCH leaves out what the user no longer has)."""

    email: str
    username: str = ""
    first_name: str | None = None
    name_insert: str | None = None
    last_name: str | None = None
    language: str | None = None
    active: bool | None = None
    # Enterprise attributes the provider sent that the connection maps to no profile field.
    unkept: tuple[str, ...] = ()
    # The provider's own keys and words, kept so that the user reads back as it was sent:
    # external_id, scim_user_name, scim_words (empty: not said).
    provider_keys: dict[str, Any] = field(default_factory=dict)
    # Profile field key -> value, from the enterprise attributes the connection maps.
    profile: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Written:
    """What one call wrote: the user or group it is about, or the issue that refused it."""

    resource_id: int | None
    refusal: Issue | None = None


def _check_name(session: Session, name: str, current: ScimConnection | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise ScimRefusal.of("scim-refused", "name-empty")
    if len(name) > NAME_MAX:
        raise ScimRefusal.of("scim-refused", "name-too-long", limit=NAME_MAX)
    holder = queries.get_connection_by_name(session=session, name=name)
    if holder is not None and holder is not current:
        raise ScimRefusal.of("scim-refused", "name-taken", name=name)
    return name


def _check_settings(session: Session, settings: dict[str, Any]) -> None:
    """Refuse a role, language or profile field the catalogue does not have."""
    assert set(settings) <= SETTINGS, set(settings) - SETTINGS
    if settings.get("role") and settings["role"] not in {
        r.name for r in list_roles(session=session)
    }:
        raise ScimRefusal.of("scim-refused", "unknown-role", value=settings["role"])
    if settings.get("language") and settings["language"] not in {
        lang.code for lang in list_languages(session=session)
    }:
        raise ScimRefusal.of("scim-refused", "unknown-language", value=settings["language"])
    fields = {f.key for f in list_profile_fields(session=session)}
    for attribute, key in (settings.get("profile_map") or {}).items():
        if attribute not in PROFILE_ATTRIBUTES or key not in fields:
            raise ScimRefusal.of("scim-refused", "unknown-field", value=key)


def create_connection(
    *, session: Session, name: str, created_by: str, **settings: Any
) -> tuple[ScimConnection, str]:
    """A new connection and its bearer token, which is shown this once and kept as a hash."""
    if "profile_map" not in settings:
        fields = {f.key for f in list_profile_fields(session=session)}
        settings["profile_map"] = {a: k for a, k in DEFAULT_PROFILE_MAP.items() if k in fields}
    _check_settings(session, settings)
    connection = ScimConnection(name=_check_name(session, name), created_by=created_by, **settings)
    token = new_token(connection)
    session.add(connection)
    session.flush()
    return connection, token


def new_token(connection: ScimConnection) -> str:
    """Replace the connection's token; the old one stops working at once."""
    token = "scim_" + secrets.token_urlsafe(TOKEN_BYTES)
    connection.token_hash, connection.token_created_at = token_hash(token), utcnow()
    return token


def get_connection(*, session: Session, name: str) -> ScimConnection:
    """The connection of that name, or a refusal that says there is none."""
    connection = queries.get_connection_by_name(session=session, name=name)
    if connection is None:
        raise ScimRefusal.of("scim-refused", "unknown", name=name)
    return connection


def rotate_token(*, session: Session, name: str) -> str:
    connection = get_connection(session=session, name=name)
    token = new_token(connection)
    session.add(connection)
    return token


def revoke_token(*, session: Session, name: str) -> None:
    """No token of the connection works any more, until a new one is made."""
    connection = get_connection(session=session, name=name)
    connection.token_hash = None
    session.add(connection)


def update_connection(*, session: Session, name: str, **settings: Any) -> ScimConnection:
    """Change a connection's settings (paused, welcome_new, role, ...)."""
    connection = get_connection(session=session, name=name)
    if "name" in settings:
        settings["name"] = _check_name(session, settings["name"], connection)
    _check_settings(session, {k: v for k, v in settings.items() if k != "name"})
    for key, value in settings.items():
        setattr(connection, key, value)
    session.add(connection)
    return connection


def list_connections(*, session: Session) -> list[ScimConnection]:
    """Every connection, by name; revoked ones too (their history stays)."""
    return queries.list_connections(session=session)


def describe_mapping(connection: ScimConnection) -> list[tuple[str, str]]:
    """(SCIM attribute, the Instroom field key it fills) as the connection maps them; the
    attribute in words to translate (the attribute names themselves stay as the RFC's)."""
    key = "username" if connection.match_username else "email"
    rows = [
        ("userName", key),
        (N_('emails[primary eq true], else emails[type eq "work"]'), "email"),
        ("name.givenName", "first_name"),
        (N_('name.middleName, else split from name.familyName ("de Bruin")'), "name_insert"),
        ("name.familyName", "last_name"),
        (N_("preferredLanguage, else locale"), "language"),
        ("active", "status"),
    ]
    for attribute in PROFILE_ATTRIBUTES:
        if attribute in connection.profile_map:
            path = attribute if attribute == "title" else f"enterprise:{attribute}"
            rows.append((path, connection.profile_map[attribute]))
    return rows


def authenticate(*, session: Session, token: str) -> ScimConnection | None:
    """The connection whose token this is; None for an unknown or revoked one alike."""
    # Looked up by the hash of the token: the lookup learns nothing of how close a guess is.
    connection = queries.get_connection_by_token_hash(session=session, token_hash=token_hash(token))
    if connection is None:
        return None
    queries.touch_connection(session=session, connection_id=id_of(connection))
    return connection


# -- The day's job ----------------------------------------------------------------------


def day_job(
    *, session: Session, connection: ScimConnection, time_zone: str, language: str
) -> ImportJob:
    """The job that records this connection's changes of today, made by its first call."""
    today = datetime.now(ZoneInfo(time_zone)).date()
    key = f"scim:{connection.id}:{today.isoformat()}"
    job = queries.get_day_job(session=session, day_key=key)
    if job is not None:
        return job
    day = format_date(today, format="d MMMM", locale=language)
    job = ImportJob(
        kind="import",
        created_by=f"SCIM: {connection.name}",
        file_name=f"SCIM: {connection.name}, {day}",
        status=JobStatus.SUCCEEDED,
        options=options_of(connection, Mode.UPSERT).as_dict(),
        started_at=utcnow(),
        finished_at=utcnow(),
        day_key=key,
        mapping={"columns": []},
    )
    session.add(job)
    session.flush()
    return job


def _record(session: Session, job: ImportJob, counts: dict[str, int], issues: list[Issue]) -> None:
    """Add a call's counts and issues to the day's job."""
    total = dict(job.counts or {})
    for key, number in counts.items():
        total[key] = total.get(key, 0) + number
    job.counts, job.finished_at = total, utcnow()
    if total.get("errors"):
        job.status = JobStatus.COMPLETED_WITH_ERRORS
    session.add(job)
    write_issues(session=session, job_id=id_of(job), issues=issues)


def refuse(*, session: Session, job: ImportJob, refusal: Issue) -> Written:
    """Record a refused call on the day's job: the history lists it with its reason."""
    _record(session, job, {"rows": 1, "errors": 1}, [refusal])
    return Written(None, refusal)


def _call_row(job: ImportJob) -> int:
    """The "row" of a call in its day's job: calls are numbered as a file's rows are."""
    return int((job.counts or {}).get("rows", 0)) + 2


def options_of(connection: ScimConnection, mode: Mode) -> ImportOptions:
    return ImportOptions(
        mode=mode,
        match=MatchKey.USERNAME if connection.match_username else MatchKey.EMAIL,
        role=connection.role,
        language=connection.language,
        kind=connection.kind or Kind.EMPLOYEE,
        welcome_new=connection.welcome_new,
        # A provider's update is the user's whole state: what it leaves out, the user lost.
        clear_empty=mode != Mode.CREATE,
    )


# -- Users ------------------------------------------------------------------------------


class _PinnedUser:
    """The stored users as the planner reads them, with the user a call names by id found
    under the address the call gives (an address change of a user matched by email)."""

    def __init__(self, users: StoredUsers, user: ExistingUser, email: str) -> None:
        self.users, self.user, self.email = users, user, email

    def by_email(self, emails: Iterable[str]) -> dict[str, ExistingUser]:
        return self.users.by_email(emails) | {self.email: self.user}

    def by_username(self, usernames: Iterable[str]) -> dict[str, ExistingUser]:
        return self.users.by_username(usernames)

    def population(self, kind: str) -> list[Any]:
        return self.users.population(kind)

    def everyone_group(self) -> str | None:
        return self.users.everyone_group()


def write_person(
    *,
    session: Session,
    connection: ScimConnection,
    job: ImportJob,
    person: Person,
    user_id: int | None,
) -> Written:
    """Create (user_id None) or update a user from a provider's values, as a one-row import.

    The caller holds the import lock and commits, also after a refusal (which is recorded).
    """
    if user_id is None:
        user_id = _returning(session, connection, person)
    elif not queries.find_user_ids(session=session, attribute="id", value=str(user_id)):
        return Written(None, issue("scim-refused", "unknown-user", value=str(user_id)))
    stored = None
    if user_id is not None:
        stored = load_user_by_id(session=session, user_id=user_id)
        assert stored is not None
        if stored.is_protected:
            return refuse(
                session=session,
                job=job,
                refusal=issue(
                    "protected-user", row=_call_row(job), field="email", email=stored.email
                ),
            )
    blocks = stored is not None and stored.status != UserStatus.BLOCKED
    if person.active is False and blocks and not connection.may_deactivate:
        return refuse(session=session, job=job, refusal=issue("scim-refused", "deactivate"))
    if stored is not None and person.email != stored.email:
        holders = queries.find_user_ids(
            session=session, attribute="email", value=person.email, removed=None
        )
        if any(h != stored.id for h in holders):
            return refuse(
                session=session,
                job=job,
                refusal=issue(
                    "email-taken",
                    row=_call_row(job),
                    column=HEADERS["email"],
                    field="email",
                    email=person.email,
                ),
            )
    row = _call_row(job)
    plan = _import_row(session, connection, job, _cells(person, connection, stored), row, stored)
    counts = plan.counts
    written = plan.rows[0]
    errors = [i for i in plan.issues if i.severity == ERROR or i.code in UNIQUENESS_CODES]
    if written.outcome in {Outcome.ERROR, Outcome.SKIP} and errors:
        _record(session, job, counts, [])
        return Written(None, errors[0])
    user_id = written.user_id if written.user_id is not None else user_id
    assert user_id is not None
    if stored is not None and person.active and stored.status == UserStatus.BLOCKED:
        # An unblock is an action of its own in an import: it changes nothing else.
        unblock = [
            (HEADERS["email"], "email", person.email),
            (HEADERS["action"], "action", "unblock"),
        ]
        unblocked = _import_row(session, connection, job, unblock, row, stored).counts
        # One call is one row: unblocked, and updated only if something else changed too.
        counts = {k: counts[k] + unblocked[k] for k in counts} | {"rows": 1}
        if written.outcome == Outcome.UNCHANGED:
            counts["unchanged"] -= 1
    _record(session, job, counts, [])
    if person.provider_keys:
        queries.set_provider_keys(session=session, user_id=user_id, keys=person.provider_keys)
    _warn_unkept(session, job, person.unkept)
    return Written(user_id)


def _warn_unkept(session: Session, job: ImportJob, attributes: tuple[str, ...]) -> None:
    """Say once a day per attribute that a provider's value is kept nowhere."""
    said = queries.list_issue_values(session=session, job_id=id_of(job), code="scim-not-kept")
    warnings = [issue("scim-not-kept", value=a, attribute=a) for a in attributes if a not in said]
    if warnings:
        _record(session, job, {"warnings": len(warnings)}, warnings)


def _returning(session: Session, connection: ScimConnection, person: Person) -> int | None:
    """The user a provider removed and now creates again: they get their account back."""
    key, value = (
        ("username", person.username) if connection.match_username else ("email", person.email)
    )
    removed = queries.find_user_ids(session=session, attribute=key, value=value, removed=True)
    if not removed:
        return None
    queries.set_removed(session=session, user_id=removed[0], removed=False)
    return removed[0]


def _import_row(
    session: Session,
    connection: ScimConnection,
    job: ImportJob,
    cells: list[tuple[str, str, str]],
    row: int,
    stored: ExistingUser | None,
) -> Plan:
    """Run one row through the import pipeline, written to the day's job."""
    table = Table(
        headers=[header for header, _key, _value in cells],
        data=pd.DataFrame([[value for _h, _k, value in cells]], index=[row], dtype=object),
        source="scim",
        has_header=True,
        header_row=1,
    )
    mapping: dict[int, str | None] = {i: key for i, (_h, key, _v) in enumerate(cells)}
    options = options_of(connection, Mode.CREATE if stored is None else Mode.UPDATE)
    users = StoredUsers(session)
    if stored is not None:
        # Found by the id the call names, under the address the call gives.
        options = ImportOptions.from_dict(options.as_dict() | {"match": MatchKey.EMAIL})
    *_, plan = run_pipeline(
        session=session,
        request=ImportRequest(table=table, mapping=mapping, options=options),
        write=True,
        job_id=id_of(job),
        keep_rows=True,
        users=users if stored is None else _PinnedUser(users, stored, cells[0][2]),
    )
    # The pipeline has stored the row's issues on the job already; the caller counts it.
    return plan


def _cells(
    person: Person, connection: ScimConnection, stored: ExistingUser | None
) -> list[tuple[str, str, str]]:
    """(header, field key, value) of the one-row file a call becomes."""
    cells = [(HEADERS["email"], "email", person.email)]
    if person.username:
        cells.append((HEADERS["username"], "username", person.username))
    for key in ("first_name", "name_insert", "last_name", "language"):
        if getattr(person, key) is not None:
            cells.append((HEADERS[key], key, getattr(person, key)))
    if person.active is False and (stored is None or stored.status != UserStatus.BLOCKED):
        cells.append((HEADERS["status"], "status", UserStatus.BLOCKED.value))
    for attribute, key in connection.profile_map.items():
        if key in person.profile:
            header = f"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:{attribute}"
            cells.append((header, key, person.profile[key]))
    return cells


def block_person(
    *, session: Session, connection: ScimConnection, job: ImportJob, user_id: int
) -> Written:
    """What DELETE does: the user is blocked and kept with their history, and is gone to
    the providers (RFC 7644 3.6: not found from now on) until one creates them again."""
    stored = load_user_by_id(session=session, user_id=user_id)
    if stored is None:
        return Written(None, issue("scim-refused", "unknown-user", value=str(user_id)))
    person = Person(email=stored.email, active=False)
    written = write_person(
        session=session, connection=connection, job=job, person=person, user_id=user_id
    )
    if written.refusal is None:
        queries.set_removed(session=session, user_id=user_id, removed=True)
    return written


def delete_person(
    *, session: Session, connection: ScimConnection, job: ImportJob, user_id: int
) -> Written:
    """What DELETE does for a connection that may delete: the user is gone for good, their
    names kept in the day's record (never a password or a token), which no revert undoes."""
    found = queries.get_users(session=session, user_ids=[user_id])
    if not found:
        return Written(None, issue("scim-refused", "unknown-user", value=str(user_id)))
    user = found[0]
    if user.is_protected:
        refusal = issue("protected-user", row=_call_row(job), field="email", email=user.email)
        return refuse(session=session, job=job, refusal=refusal)
    groups = queries.list_group_names_of(session=session, user_ids=[user_id])[user_id]
    before = {
        "first_name": user.first_name,
        "name_insert": user.name_insert,
        "last_name": user.last_name,
        "status": user.status,
        "groups_removed": [g.name for g in groups],
    }
    record = {
        "job_id": id_of(job),
        "user_id": user_id,
        "email": user.email,
        "row": _call_row(job),
        "action": "delete",
        "before": before,
        "after": {},
    }
    insert_changes(session=session, records=[record])
    delete_user(session=session, user_id=user_id)
    _record(session, job, {"rows": 1, "deleted": 1}, [])
    return Written(user_id)


# -- Groups -----------------------------------------------------------------------------


def may_see_group(connection: ScimConnection, group: Group) -> bool:
    return not connection.own_groups_only or group.scim_connection_id == connection.id


def group_refusal(connection: ScimConnection, group: Group) -> Issue | None:
    """Why the connection may not change the group, if it may not."""
    if not may_see_group(connection, group):
        return issue("scim-refused", "not-own-group", name=group.name)
    if group.everyone:
        return issue("scim-refused", "everyone-group", name=group.name)
    return None


def create_group(
    *,
    session: Session,
    connection: ScimConnection,
    job: ImportJob,
    name: str,
    external_id: str | None,
    member_ids: list[int],
) -> Written:
    """A new group owned by the connection, with its first members."""
    name = " ".join(name.split())
    if queries.find_group_ids(session=session, attribute="name", value=name, owner=None):
        return refuse(
            session=session, job=job, refusal=issue("scim-refused", "group-taken", name=name)
        )
    group = Group(name=name, scim_connection_id=connection.id, external_id=external_id)
    session.add(group)
    session.flush()
    _note_catalogue(job, "groups", name)
    written = change_members(
        session=session, connection=connection, job=job, group=group, add=member_ids, remove=[]
    )
    return Written(id_of(group), written.refusal)


def _note_catalogue(job: ImportJob, key: str, words: str) -> None:
    """Add to the day's record of what the provider did to the catalogue."""
    noted = dict(job.catalogue_added or {})
    noted[key] = sorted({*noted.get(key, []), words})
    job.catalogue_added = noted


def change_members(
    *,
    session: Session,
    connection: ScimConnection,
    job: ImportJob,
    group: Group,
    add: Iterable[int],
    remove: Iterable[int],
) -> Written:
    """Add and remove members, each recorded as a change of the user; protected users are
    left as they are, with a warning in the history."""
    refusal = group_refusal(connection, group)
    if refusal is not None:
        return refuse(session=session, job=job, refusal=refusal)
    current = set(queries.list_member_ids(session=session, group_id=id_of(group)))
    adding = sorted(set(add) - current)
    removing = sorted(set(remove) & current)
    wanted = [*adding, *removing]
    users = {u.id: u for u in queries.get_users(session=session, user_ids=wanted, seen_only=False)}
    # A user the provider removed cannot join a group; they can still leave one.
    unknown = [i for i in wanted if i not in users or (i in adding and users[i].scim_removed_at)]
    if unknown:
        return refuse(
            session=session,
            job=job,
            refusal=issue("scim-refused", "unknown-member", value=str(unknown[0])),
        )
    warnings = [
        issue("protected-user", field="email", email=users[i].email)
        for i in wanted
        if users[i].is_protected
    ]
    adding = [i for i in adding if not users[i].is_protected]
    removing = [i for i in removing if not users[i].is_protected]
    group_id = id_of(group)
    add_memberships(
        session=session,
        groups=[(i, group_id) for i in adding],
        levels=[],
    )
    if removing:
        queries.remove_from_group(session=session, group_id=group_id, user_ids=removing)
    records = [
        {
            "job_id": id_of(job),
            "user_id": i,
            "email": users[i].email,
            "row": None,
            "action": Outcome.UPDATE,
            "before": {},
            "after": {"groups_added" if i in adding else "groups_removed": [group.name]},
        }
        for i in [*adding, *removing]
    ]
    insert_changes(session=session, records=records)
    counts = {"rows": 1, "updated": len(records), "warnings": len(warnings)}
    _record(session, job, counts, warnings)
    return Written(group_id)


def rename_group(
    *, session: Session, connection: ScimConnection, job: ImportJob, group: Group, name: str
) -> Written:
    name = " ".join(name.split())
    if name == group.name:
        return Written(group.id)
    refusal = group_refusal(connection, group)
    if refusal is not None:
        return refuse(session=session, job=job, refusal=refusal)
    if queries.find_group_ids(session=session, attribute="name", value=name, owner=None):
        return refuse(
            session=session, job=job, refusal=issue("scim-refused", "group-taken", name=name)
        )
    _note_catalogue(job, "groups_renamed", f"{group.name} → {name}")
    group.name = name
    session.add(group)
    session.add(job)
    return Written(group.id)


def remove_group(
    *, session: Session, connection: ScimConnection, job: ImportJob, group: Group
) -> Written:
    """Members leave the group (recorded per user), then the group itself goes; a group with
    a protected member stays, as the protected user's memberships do."""
    refusal = group_refusal(connection, group)
    if refusal is not None:
        return refuse(session=session, job=job, refusal=refusal)
    members = queries.list_member_ids(session=session, group_id=id_of(group))
    users = queries.get_users(session=session, user_ids=members, seen_only=False)
    protected = [u.email for u in users if u.is_protected]
    if protected:
        refusal = issue("scim-refused", "protected-member", name=group.name, email=protected[0])
        return refuse(session=session, job=job, refusal=refusal)
    written = change_members(
        session=session, connection=connection, job=job, group=group, add=[], remove=members
    )
    if written.refusal is None:
        _note_catalogue(job, "groups_removed", group.name)
        session.add(job)
        queries.delete_group(session=session, group_id=id_of(group))
    return written
