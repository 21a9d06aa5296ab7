"""Compare validated rows with the stored users: what the import would do to each row.

Pure: the stored users come through a UserStore, and nothing is written.
"""

from collections import Counter, namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from core.fields import describe_values
from core.issues import ERROR, SECRET_MASK, WARNING, Issue, issue
from core.options import ImportOptions
from core.validate import ValidatedRows
from db.users import ExistingUser, Member
from db.vocabulary import Mode, Outcome, UserStatus

COUNT_KEYS = (
    "rows",
    "created",
    "updated",
    "unchanged",
    "skipped",
    "blocked",
    "unblocked",
    "renamed",
    "deactivated",
    "deleted",
    "errors",
    "warnings",
)
_COUNTED_AS: dict[str, str] = {
    Outcome.CREATE: "created",
    Outcome.UPDATE: "updated",
    Outcome.UNCHANGED: "unchanged",
    Outcome.SKIP: "skipped",
    Outcome.BLOCK: "blocked",
    Outcome.UNBLOCK: "unblocked",
    Outcome.RENAME: "renamed",
    Outcome.ERROR: "errors",
}
SIMPLE_FIELDS = ("first_name", "name_insert", "last_name", "username", "role", "language", "kind")
CLEARABLE_FIELDS = ("name_insert", "language")
MASK = SECRET_MASK


@dataclass(slots=True)
class RowPlan:
    """What the import does with one row of the file."""

    row: int
    email: str
    outcome: str
    user_id: int | None = None
    # (before, after) by field key; empty for a new user, see row_changes.
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    groups_add: tuple[str, ...] = ()
    groups_remove: tuple[str, ...] = ()
    levels_add: tuple[str, ...] = ()
    values: dict[str, Any] = field(default_factory=dict)
    # Whether the stored user has chosen a password (a welcome to updated users skips them).
    activated: bool = False
    password: str = field(default="", repr=False)
    # The hash the password replaces, kept so a revert can restore it.
    old_password_hash: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Deactivation:
    """A user a full-list import would block because the file does not list them."""

    user_id: int
    email: str
    name: str
    status: str


@dataclass
class Plan:
    """The outcome of an import, or of one chunk of its rows, computed without writing."""

    rows: list[RowPlan]
    issues: list[Issue]
    deactivate: list[Deactivation]
    new_groups: list[str]
    new_levels: list[str]
    new_terms: dict[str, list[str]]
    welcome: list[str]
    notify: list[str]
    # Why the whole plan may not be written (a full-list import over its limit).
    refusal: Issue | None = None
    # Outcomes and rejected rows are tallied apart from rows, so a plan can drop its rows.
    outcomes: Counter[str] = field(default_factory=Counter)
    error_rows: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.outcomes.update(r.outcome for r in self.rows)
        self.error_rows.update(r.row for r in self.rows if r.outcome == Outcome.ERROR)

    @classmethod
    def empty(cls) -> "Plan":
        """A plan of nothing, to add chunks to."""
        return cls([], [], [], [], [], {}, [], [])

    def add(self, chunk: "Plan", *, keep_rows: bool = True) -> None:
        """Merge the plan of a later chunk of the same import into this one."""
        if keep_rows:
            self.rows.extend(chunk.rows)
        self.issues.extend(chunk.issues)
        self.deactivate.extend(chunk.deactivate)
        self.new_groups = sorted({*self.new_groups, *chunk.new_groups})
        self.new_levels = sorted({*self.new_levels, *chunk.new_levels})
        for key, terms in chunk.new_terms.items():
            self.new_terms[key] = sorted({*self.new_terms.get(key, []), *terms})
        self.welcome.extend(chunk.welcome)
        self.notify.extend(chunk.notify)
        self.refusal = self.refusal or chunk.refusal
        self.outcomes.update(chunk.outcomes)
        self.error_rows |= chunk.error_rows

    @property
    def refused(self) -> str | None:
        """The refusal's message, or None when the plan may be written."""
        return self.refusal.message if self.refusal else None

    @property
    def counts(self) -> dict[str, int]:
        """How many rows end in each outcome, in the CLI contract's names."""
        counts = dict.fromkeys(COUNT_KEYS, 0)
        for outcome, number in self.outcomes.items():
            counts[_COUNTED_AS[outcome]] += number
        counts["rows"] = self.outcomes.total()
        counts["deactivated"] = len(self.deactivate)
        counts["warnings"] = sum(1 for i in self.issues if i.severity == WARNING)
        return counts

    @property
    def writes_anything(self) -> bool:
        """Whether applying the plan would change the database."""
        return bool(self.deactivate) or any(
            number and outcome not in {Outcome.UNCHANGED, Outcome.SKIP, Outcome.ERROR}
            for outcome, number in self.outcomes.items()
        )


def created_values(row: RowPlan) -> dict[str, Any]:
    """The values a new user is made with, by field key as shown and recorded: none empty."""
    values = row.values
    shown = {k: v for k, v in values.items() if v and k != "email" and k != "profile"}
    shown |= {f"profile.{k}": v for k, v in values["profile"].items()}
    if row.password:
        shown["password"] = MASK
    return shown


def row_changes(row: RowPlan) -> dict[str, tuple[Any, Any]]:
    """What a row changes, by field key: (before, after); a new user's from its values."""
    if row.outcome == Outcome.CREATE:
        return {k: ("", v) for k, v in created_values(row).items()}
    return row.changes


def describe_changes(
    row: RowPlan, labels: Mapping[str, str] | None = None, language: str = "en"
) -> str:
    """What a row changes, in one line by the fields' labels:
    'Last name: Smit → Smit-Jansen; Groups +Sales' ('Functie: leeg → Teamleider')."""
    labels = labels or {}
    parts = describe_values(row_changes(row), labels, language)
    if row.groups_add:
        parts.append(f"{labels.get('groups', 'groups')} +{', '.join(row.groups_add)}")
    if row.levels_add:
        parts.append(f"{labels.get('levels', 'levels')} +{', '.join(row.levels_add)}")
    return "; ".join(parts)


# A row of the validated frame: record.email, and record[position] for a profile column
# (whose name is no attribute name). A named tuple, not a dict: 2 s of a million rows.
Record = Any


def frame_records(
    frame: pd.DataFrame, record: Callable[[Iterable[Any]], Record]
) -> dict[int, Record]:
    """Row number -> the row as a record (see _Planner.record)."""
    values = [frame[c].tolist() for c in frame.columns]
    return dict(zip(frame.index.tolist(), map(record, zip(*values, strict=True)), strict=True))


class UserStore(Protocol):
    """Where the planner reads the stored users from (db.users.StoredUsers, or a test's)."""

    def by_email(self, emails: Iterable[str]) -> dict[str, ExistingUser]: ...

    def by_username(self, usernames: Iterable[str]) -> dict[str, ExistingUser]: ...

    def population(self, kind: str) -> list[Member]: ...

    def everyone_group(self) -> str | None: ...


# The stored users a slice names: by email, and by username folded to lower case.
_Found = tuple[dict[str, ExistingUser], dict[str, ExistingUser]]


class _Planner:
    def __init__(self, users: UserStore, validated: ValidatedRows, options: ImportOptions) -> None:
        self.users, self.v, self.options = users, validated, options
        # Every user is in this group without a stored membership: never added or removed.
        self.everyone = users.everyone_group()
        self.frame = validated.frame
        columns = list(self.frame.columns)
        record_type: Any = namedtuple("Record", columns, rename=True)  # type: ignore[misc]
        self.record: Callable[[Iterable[Any]], Record] = record_type._make
        # (column, key in the stored profile, position in a record) of the file's profile fields.
        self.stored_keys = [
            (c, c[len("profile.") :], i) for i, c in enumerate(columns) if c.startswith("profile.")
        ]
        # What an import that clears with empty cells may clear: never a name or a key.
        self.clearable = {k for k in validated.columns if k in CLEARABLE_FIELDS} | {
            c for c, _key, _i in self.stored_keys
        }
        self.issues: list[Issue] = []
        self.by_email: dict[str, ExistingUser] = {}
        self.by_username: dict[str, ExistingUser] = {}
        # Folded username -> email of the users this file creates, across chunks.
        self.created_usernames: dict[str, str] = {}
        # A file that renames X to Y (action 4) means Y wherever its other rows say X, so the
        # file's end state is the same on every import and a second import changes nothing.
        frame = self.frame
        renaming = (
            frame["action"].eq("rename")
            & frame["username"].ne("")
            & frame["new_username"].ne("")
            & ~frame.index.isin(list(validated.error_rows))
        )
        self.renames = dict(
            zip(
                frame.loc[renaming, "username"].str.casefold().tolist(),
                frame.loc[renaming, "new_username"].tolist(),
                strict=True,
            )
        )

    def issue(
        self,
        plan: RowPlan,
        code: str,
        key: str | None,
        variant: str = "",
        /,
        *,
        value: str | None = None,
        **params: Any,
    ) -> None:
        found = issue(
            code,
            variant,
            row=plan.row,
            field=key,
            column=self.v.columns.get(key or ""),
            value=value,
            **params,
        )
        self.issues.append(found)
        if found.severity == ERROR:
            plan.outcome = Outcome.ERROR

    def chunks(self, size: int) -> Iterator[Plan]:
        """Plans of consecutive slices of the rows; the last one renames and deactivates."""
        # Computed before any row is written, so the limit counts the users as they were.
        deactivate, refused = self.plan_full_list()
        # Renames run after every other row, so they can rename a user this file creates.
        renames: list[tuple[RowPlan, Record]] = []
        starts = range(0, len(self.frame), size)
        # A slice's users are read before the slice ahead of it is yielded (and written), so
        # the writer can write one chunk while the next is planned. That next chunk sees the
        # users as the two chunks together would: rows that could depend on each other
        # (one address or username in two rows) are refused as duplicates of the file.
        upcoming = self.read_slice(starts[0], size) if starts else None
        for start in starts:
            assert upcoming is not None
            records, self.by_email, self.by_username = upcoming
            chunk = self.plan_slice(records, renames, refused, first=start == 0)
            # This slice's records and users are let go before the next slice's are read.
            del records
            upcoming, self.by_email, self.by_username = None, {}, {}
            if start + size < len(self.frame):
                upcoming = self.read_slice(start + size, size)
            yield chunk
        self.by_email, self.by_username = self.read_users(record for _, record in renames)
        for plan, record in renames:
            self.plan_rename(plan, record)
        chunk = self.finish([plan for plan, _ in renames], first=len(self.frame) == 0)
        chunk.deactivate = deactivate
        yield chunk

    def read_slice(self, start: int, size: int) -> tuple[dict[int, Record], *_Found]:
        """The records of a slice of the rows, and the stored users they name."""
        records = frame_records(self.frame.iloc[start : start + size], self.record)
        if self.renames:
            for row, record in records.items():
                renamed = self.renames.get(record.username.casefold())
                if record.action != "rename" and renamed is not None:
                    records[row] = record._replace(username=renamed)
        return records, *self.read_users(records.values())

    def plan_slice(
        self,
        records: dict[int, Record],
        renames: list[tuple[RowPlan, Record]],
        refused: Issue | None,
        *,
        first: bool,
    ) -> Plan:
        """The plan of some consecutive rows; their renames are left for the last chunk."""
        rows = []
        for row, record in records.items():
            plan = RowPlan(row=row, email=record.email, outcome=Outcome.UNCHANGED)
            if row in self.v.error_rows:
                plan.outcome = Outcome.ERROR
            elif record.action == "rename":
                renames.append((plan, record))
                continue
            else:
                self.plan_row(plan, record)
            rows.append(plan)
        return self.finish(rows, first=first, refused=refused)

    def read_users(self, records: Iterable[Record]) -> _Found:
        """The stored users the records name, by email and by folded username."""
        emails: list[str] = []
        usernames: list[str] = []
        for record in records:
            emails.append(record.email)
            usernames += (record.username, record.new_username)
        return self.users.by_email(emails), self.users.by_username(usernames)

    def finish(self, rows: list[RowPlan], *, first: bool, refused: Issue | None = None) -> Plan:
        """The plan of one chunk; the first one carries what the whole file shares."""
        issues, self.issues = self.issues, []
        if first:
            issues += self.v.issues
        welcome, notify = self.options.welcome_new, self.options.notify_updated
        updated = {Outcome.UPDATE, Outcome.RENAME}
        welcome_updated = self.options.welcome_updated
        return Plan(
            rows=rows,
            issues=sorted(issues, key=lambda i: (i.row or 0, i.code)),
            deactivate=[],
            new_groups=sorted(self.v.new_groups) if first else [],
            new_levels=sorted(self.v.new_levels) if first else [],
            new_terms={k: sorted(v) for k, v in self.v.new_terms.items() if v} if first else {},
            welcome=[
                r.email
                for r in rows
                if (
                    (welcome and r.outcome == Outcome.CREATE)
                    or (welcome_updated and r.outcome in updated and not r.activated)
                )
                and r.values.get("status") != UserStatus.BLOCKED
            ],
            notify=[r.email for r in rows if notify and r.outcome in updated],
            refusal=refused if first else None,
        )

    def find_user(self, plan: RowPlan, record: Record) -> ExistingUser | None:
        if self.options.match == "username":
            if not record.username:
                self.issue(plan, "missing-username", "username", "match")
                return None
            return self.by_username.get(record.username.casefold())
        return self.by_email.get(record.email)

    def plan_row(self, plan: RowPlan, record: Record) -> None:
        action = record.action
        user = self.find_user(plan, record)
        if plan.outcome == Outcome.ERROR:
            return
        if user is None and action in {"block", "unblock", "password"}:
            # Named by the key the user is recognised by, not always the email address.
            if self.options.match == "username":
                self.issue(
                    plan,
                    "unknown-user",
                    "username",
                    "by-username",
                    username=record.username,
                    done=_DONE[action],
                )
            else:
                self.issue(
                    plan,
                    "unknown-user",
                    "email",
                    "email",
                    email=record.email,
                    done=_DONE[action],
                )
            return
        if user is not None and user.is_protected:
            plan.outcome, plan.user_id = Outcome.SKIP, user.id
            self.issue(plan, "protected-user", "email", email=user.email)
            return
        if user is None:
            self.plan_create(plan, record)
        else:
            self.plan_update(plan, record, user)

    def check_username(self, plan: RowPlan, username: str, owner_id: int | None) -> None:
        if not username:
            return
        holder = self.by_username.get(username.casefold())
        if holder is not None and holder.id != owner_id:
            self.issue(
                plan, "username-taken", "username", "stored", value=username, holder=holder.email
            )

    def plan_create(self, plan: RowPlan, record: Record) -> None:
        if self.options.mode == Mode.UPDATE:
            plan.outcome = Outcome.SKIP
            self.issue(plan, "not-found", "email", email=record.email)
            return
        if not (record.first_name and record.last_name):
            first, last = not record.first_name, not record.last_name
            self.issue(
                plan,
                "missing-name",
                "first_name" if first else "last_name",
                "both" if first and last else ("first-name" if first else "last-name"),
                email=record.email,
            )
            return
        self.check_username(plan, record.username, None)
        if plan.outcome == Outcome.ERROR:
            return
        status = record.status or UserStatus.INVITED
        if record.action == "import_block":
            status = UserStatus.BLOCKED
        values: dict[str, Any] = {
            "email": record.email,
            "first_name": record.first_name,
            "name_insert": record.name_insert,
            "last_name": record.last_name,
            "username": record.username or None,
            "role": record.role or self.options.role or None,
            "language": record.language or self.options.language or None,
            "kind": record.kind or self.options.kind,
            "status": status,
            "profile": {stored: record[i] for _c, stored, i in self.stored_keys if record[i]},
        }
        plan.outcome, plan.values, plan.password = Outcome.CREATE, values, record.password
        groups = dict.fromkeys(record.groups)
        groups.pop(self.everyone, None)
        plan.groups_add = tuple(groups)
        plan.levels_add = tuple(record.levels)
        if values["username"]:
            self.created_usernames[values["username"].casefold()] = plan.email
        # No changes dict: row_changes derives it from the values when one is shown, and the
        # change record is written from them (a million users' two dicts less, 3 s).

    def plan_update(self, plan: RowPlan, record: Record, user: ExistingUser) -> None:
        plan.user_id, plan.activated = user.id, user.activated
        if self.options.mode == Mode.CREATE:
            plan.outcome = Outcome.SKIP
            self.issue(plan, "already-exists", "email", email=user.email)
            return
        action = record.action
        changes: dict[str, tuple[Any, Any]] = {}
        target_status: str  # a UserStatus, or "" to leave the status as it is
        if action == "block":
            target_status = UserStatus.BLOCKED
            plan.groups_remove = tuple(sorted(g for g in user.groups if g != self.everyone))
        elif action == "unblock":
            target_status = UserStatus.ACTIVE if user.activated else UserStatus.INVITED
            target_status = target_status if user.status == UserStatus.BLOCKED else user.status
        else:
            target_status = UserStatus.BLOCKED if action == "import_block" else record.status
            if target_status == UserStatus.INVITED:
                target_status = ""  # an existing user cannot be sent back to "invited"
            if not self.changed_values(plan, record, user, changes):
                return
        if action == "password" and not record.password:
            self.issue(plan, "missing-password", "password")
            return
        if record.password:
            plan.password, plan.old_password_hash = record.password, user.password_hash
            changes["password"] = (MASK, MASK + " (new)")
        if target_status and target_status != user.status:
            changes["status"] = (user.status, target_status)
        if plan.groups_remove:
            changes["groups"] = (
                ", ".join(sorted(user.groups)),
                self.everyone or "",
            )
        plan.changes = changes
        self.settle_update(plan, user)

    def changed_values(
        self,
        plan: RowPlan,
        record: Record,
        user: ExistingUser,
        changes: dict[str, tuple[Any, Any]],
    ) -> bool:
        """Add to changes what the row changes of the user's values, groups and levels;
        False when the row is rejected (an address or username another user has)."""
        # Matched by username (or by id, for SCIM), the address in the row may be a new one.
        if record.email != user.email:
            holder = self.by_email.get(record.email)
            if holder is not None and holder.id != user.id:
                self.issue(plan, "email-taken", "email", value=record.email, email=record.email)
                return False
            changes["email"] = (user.email, record.email)
        fill_missing = self.options.fill_missing
        # An empty cell leaves a value as it is, unless the import says it clears it.
        clears = self.clearable if self.options.clear_empty else set()
        for key in SIMPLE_FIELDS:
            new = getattr(record, key)
            old = getattr(user, key) or ""
            if (new or key in clears) and new != old and not (fill_missing and old):
                changes[key] = (old, new)
        for key, stored_key, position in self.stored_keys:
            new = record[position]
            old = user.profile.get(stored_key, "")
            if (new or key in clears) and new != old and not (fill_missing and old):
                changes[key] = (old, new)
        if "username" in changes:
            self.check_username(plan, changes["username"][1], user.id)
            if plan.outcome == Outcome.ERROR:
                return False
        plan.groups_add = tuple(g for g in record.groups if g not in user.groups)
        plan.levels_add = tuple(lv for lv in record.levels if lv not in user.levels)
        return True

    @staticmethod
    def settle_update(plan: RowPlan, user: ExistingUser) -> None:
        """The outcome of an update from its changes, and the values it writes."""
        changes = plan.changes
        if "status" in changes:
            plan.outcome = (
                Outcome.BLOCK if changes["status"][1] == UserStatus.BLOCKED else Outcome.UNBLOCK
            )
        elif changes or plan.groups_add or plan.levels_add:
            plan.outcome = Outcome.UPDATE
        else:
            plan.outcome = Outcome.UNCHANGED
        if plan.outcome != Outcome.UNCHANGED:
            plan.values = {
                k: v for k, (_, v) in changes.items() if k in {"email", "status", *SIMPLE_FIELDS}
            }
            profile = {
                k[len("profile.") :]: new
                for k, (_, new) in changes.items()
                if k.startswith("profile.")
            }
            if profile:
                merged = {**user.profile, **profile}
                plan.values["profile"] = {k: v for k, v in merged.items() if v}

    def plan_rename(self, plan: RowPlan, record: Record) -> None:
        old, new = record.username, record.new_username
        if not old or not new:
            self.issue(plan, "missing-username", "new_username" if old else "username", "rename")
            return
        user = self.by_username.get(old.casefold())
        renamed = self.by_username.get(new.casefold())
        created = self.created_usernames.get(new.casefold())
        if created is not None:
            # An earlier row of this file creates the user, already under the new name.
            plan.outcome, plan.email, plan.changes = (
                Outcome.RENAME,
                created,
                {"username": (old, new)},
            )
            return
        if user is None and renamed is not None and renamed.email == plan.email:
            plan.outcome, plan.user_id = Outcome.UNCHANGED, renamed.id
            return
        if user is None:
            self.issue(plan, "unknown-user", "username", "username", value=old, username=old)
            return
        if user.is_protected:
            plan.outcome, plan.user_id = Outcome.SKIP, user.id
            self.issue(plan, "protected-user", "username", email=user.email)
            return
        self.check_username(plan, new, user.id)
        if plan.outcome == Outcome.ERROR:
            return
        plan.outcome, plan.user_id, plan.email = Outcome.RENAME, user.id, user.email
        plan.values = {"username": new}
        plan.changes = {"username": (old, new)}

    def plan_full_list(self) -> tuple[list[Deactivation], Issue | None]:
        if not self.options.full_list:
            return [], None
        listed = set(self.frame["email"].tolist())
        kind = self.options.kind
        population, deactivate = 0, []
        for member in self.users.population(kind):
            if member.status == UserStatus.BLOCKED:
                continue
            population += 1
            if member.email not in listed:
                deactivate.append(Deactivation(member.id, member.email, member.name, member.status))
        limit = self.options.deactivation_limit(population)
        if limit is not None and len(deactivate) > limit:
            return deactivate, issue(
                "too-many-deactivations",
                count=len(deactivate),
                population=population,
                kind=kind,
                limit=limit,
                setting=self.options.max_deactivate,
            )
        return deactivate, None


CHUNK_ROWS = 20_000
# How an action on a user that does not exist is named in its message.
_DONE = {"block": "blocked", "unblock": "unblocked", "password": "given a password"}


def plan_chunks(
    *, users: UserStore, validated: ValidatedRows, options: ImportOptions, size: int = CHUNK_ROWS
) -> Iterator[Plan]:
    """Plans of the validated rows a chunk at a time, so memory stays bounded; writes nothing.

    Each chunk reads the users as they were before the chunk ahead of it was applied, so
    that chunk can be written while this one is planned; a rename is planned in the last
    chunk, after every row it could depend on has been written.
    """
    # The caller pauses the cycle collector around the whole loop (see core.gc_pause).
    return _Planner(users, validated, options).chunks(size)
