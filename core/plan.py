"""Compare validated rows with the database: what the import would do to each row. Pure."""

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, select
from sqlmodel import Session

from core.issues import ERROR, WARNING, Issue
from core.options import ImportOptions
from core.validate import ValidatedRows
from db.models import Group, Level, User, UserGroup, UserLevel
from db.seed import EVERYONE

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
    "errors",
    "warnings",
)
_COUNTED_AS = {
    "create": "created",
    "update": "updated",
    "unchanged": "unchanged",
    "skip": "skipped",
    "block": "blocked",
    "unblock": "unblocked",
    "rename": "renamed",
    "error": "errors",
}
SIMPLE_FIELDS = ("first_name", "name_insert", "last_name", "username", "role", "language", "kind")
MASK = "********"
QUERY_CHUNK = 5000


@dataclass(slots=True)
class ExistingUser:
    """A user as stored, with the group and level names they have."""

    id: int
    email: str
    first_name: str
    name_insert: str
    last_name: str
    username: str | None
    role: str | None
    language: str | None
    kind: str
    status: str
    is_protected: bool
    password_hash: str | None
    profile: dict[str, str]
    activated_at: Any
    groups: set[str] = field(default_factory=set)
    levels: set[str] = field(default_factory=set)

    def value(self, key: str) -> Any:
        """The stored value of a field key (profile fields as profile.<key>)."""
        if key.startswith("profile."):
            return self.profile.get(key[len("profile.") :], "")
        return getattr(self, key) or ""


@dataclass(slots=True)
class RowPlan:
    """What the import does with one row of the file."""

    row: int
    email: str
    outcome: str
    user_id: int | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    groups_add: tuple[str, ...] = ()
    groups_remove: tuple[str, ...] = ()
    levels_add: tuple[str, ...] = ()
    values: dict[str, Any] = field(default_factory=dict)
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
    """The whole outcome of an import, computed without writing anything."""

    rows: list[RowPlan]
    issues: list[Issue]
    deactivate: list[Deactivation]
    new_groups: list[str]
    new_levels: list[str]
    new_terms: dict[str, list[str]]
    welcome: list[str]
    notify: list[str]
    refused: str | None = None

    @property
    def error_rows(self) -> set[int]:
        """Rows that are rejected."""
        return {r.row for r in self.rows if r.outcome == "error"}

    @property
    def counts(self) -> dict[str, int]:
        """How many rows end in each outcome, in the CLI contract's names."""
        tally = Counter(_COUNTED_AS[r.outcome] for r in self.rows)
        counts = {key: tally.get(key, 0) for key in COUNT_KEYS}
        counts["rows"] = len(self.rows)
        counts["deactivated"] = len(self.deactivate)
        counts["warnings"] = sum(1 for i in self.issues if i.severity == WARNING)
        return counts

    @property
    def writes_anything(self) -> bool:
        """Whether applying the plan would change the database."""
        return bool(self.deactivate) or any(
            r.outcome not in {"unchanged", "skip", "error"} for r in self.rows
        )


def frame_records(frame: pd.DataFrame) -> dict[int, dict[str, Any]]:
    """Row number -> {column: value}; far faster than DataFrame.to_dict("index")."""
    columns = list(frame.columns)
    values = [frame[c].tolist() for c in columns]
    return {
        row: dict(zip(columns, cells, strict=True))
        for row, *cells in zip(frame.index.tolist(), *values, strict=True)
    }


def _chunks(values: list[Any], size: int = QUERY_CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


_USER_COLUMNS = (
    User.id,
    User.email,
    User.first_name,
    User.name_insert,
    User.last_name,
    User.username,
    User.role,
    User.language,
    User.kind,
    User.status,
    User.is_protected,
    User.password_hash,
    User.profile,
    User.activated_at,
)


def load_users(*, session: Session, column: Any, keys: Iterable[str]) -> dict[str, ExistingUser]:
    """Users whose column (email or username) is one of keys, with groups and levels: keyed."""
    # Core rows, not ORM objects: a large import reads many thousands of users.
    connection = session.connection()
    found: dict[str, ExistingUser] = {}
    wanted = sorted({k for k in keys if k})
    folded = column is User.username
    for chunk in _chunks(wanted):
        condition = (
            func.lower(column).in_([k.casefold() for k in chunk]) if folded else column.in_(chunk)
        )
        for row in connection.execute(select(*_USER_COLUMNS).where(condition)):
            user = ExistingUser(*row)
            user.profile = dict(user.profile or {})
            key = user.username if folded else user.email
            found[key.casefold() if folded else key] = user
    by_id = {u.id: u for u in found.values()}
    for link, model, attribute in ((UserGroup, Group, "groups"), (UserLevel, Level, "levels")):
        for chunk in _chunks(list(by_id)):
            query = (
                select(link.user_id, model.name)
                .join(model, model.id == getattr(link, f"{model.__name__.lower()}_id"))
                .where(link.user_id.in_(chunk))
            )
            for user_id, name in connection.execute(query):
                getattr(by_id[user_id], attribute).add(name)
    return found


class _Planner:
    def __init__(self, session: Session, validated: ValidatedRows, options: ImportOptions) -> None:
        self.session, self.v, self.options = session, validated, options
        self.frame = validated.frame
        self.issues = list(validated.issues)
        self.rows: list[RowPlan] = []
        self.profile_keys = [c for c in self.frame.columns if c.startswith("profile.")]
        self.by_email = load_users(
            session=session, column=User.email, keys=self.frame["email"].tolist()
        )
        usernames = self.frame["username"].tolist() + self.frame["new_username"].tolist()
        self.by_username = load_users(session=session, column=User.username, keys=usernames)
        self.created_usernames: dict[str, RowPlan] = {}
        # Renames run after every other row, so they can rename a user this file creates.
        self.pending_renames: list[tuple[RowPlan, dict[str, Any]]] = []

    def issue(
        self,
        plan: RowPlan,
        code: str,
        key: str | None,
        message: str,
        severity: str = ERROR,
        value: str | None = None,
    ) -> None:
        self.issues.append(
            Issue(
                code,
                message,
                severity,
                row=plan.row,
                field=key,
                column=self.v.columns.get(key or ""),
                value=value,
            )
        )
        if severity == ERROR:
            plan.outcome = "error"

    def run(self) -> Plan:
        records = frame_records(self.frame)
        # A file that renames X to Y (action 4) means Y wherever its other rows say X, so the
        # file's end state is the same on every import and a second import changes nothing.
        renames = {
            r["username"].casefold(): r["new_username"]
            for row, r in records.items()
            if r["action"] == "rename"
            and r["username"]
            and r["new_username"]
            and row not in self.v.error_rows
        }
        for record in records.values():
            if record["action"] != "rename" and record["username"].casefold() in renames:
                record["username"] = renames[record["username"].casefold()]
        for row, record in records.items():
            plan = RowPlan(row=row, email=record["email"], outcome="unchanged")
            self.rows.append(plan)
            if row in self.v.error_rows:
                plan.outcome = "error"
                continue
            self.plan_row(plan, record)
        for plan, record in self.pending_renames:
            self.plan_rename(plan, record)
        deactivate, refused = self.plan_full_list()
        return Plan(
            rows=self.rows,
            issues=sorted(self.issues, key=lambda i: (i.row or 0, i.code)),
            deactivate=deactivate,
            new_groups=sorted(self.v.new_groups),
            new_levels=sorted(self.v.new_levels),
            new_terms={k: sorted(v) for k, v in self.v.new_terms.items() if v},
            welcome=[
                r.email
                for r in self.rows
                if r.outcome == "create" and r.values.get("status") != "blocked"
            ]
            if self.options.welcome_new
            else [],
            notify=[r.email for r in self.rows if r.outcome in {"update", "rename"}]
            if self.options.notify_updated
            else [],
            refused=refused,
        )

    def find_user(self, plan: RowPlan, record: dict[str, Any]) -> ExistingUser | None:
        if self.options.match == "username":
            if not record["username"]:
                self.issue(
                    plan,
                    "missing-username",
                    "username",
                    "This import matches users on "
                    "their username, but the row has none. Fill it in.",
                )
                return None
            return self.by_username.get(record["username"].casefold())
        return self.by_email.get(record["email"])

    def plan_row(self, plan: RowPlan, record: dict[str, Any]) -> None:
        action = record["action"]
        if action == "rename":
            self.pending_renames.append((plan, record))
            return
        user = self.find_user(plan, record)
        if plan.outcome == "error":
            return
        if user is None and action in {"block", "unblock", "password"}:
            self.issue(
                plan,
                "not-found",
                "email",
                f"No user with the email address "
                f"{record['email']} exists, so it cannot be {action}ed. Check the address.",
            )
            return
        if user is not None and user.is_protected:
            plan.outcome, plan.user_id = "skip", user.id
            self.issue(
                plan,
                "protected-user",
                "email",
                f"{user.email} is a protected user; imports never change it. The row was skipped.",
                WARNING,
            )
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
                plan,
                "username-taken",
                "username",
                f"The username {username!r} already belongs to {holder.email}. Choose another one.",
                value=username,
            )

    def plan_create(self, plan: RowPlan, record: dict[str, Any]) -> None:
        if self.options.mode == "update":
            plan.outcome = "skip"
            self.issue(
                plan,
                "not-found",
                "email",
                f"No user {record['email']} exists and this "
                "import only updates users; the row was skipped.",
                WARNING,
            )
            return
        missing = [k.replace("_", " ") for k in ("first_name", "last_name") if not record[k]]
        if missing:
            self.issue(
                plan,
                "missing-name",
                "first_name" if "first name" in missing else "last_name",
                f"{record['email']} is a new user and needs a "
                f"{' and a '.join(missing)}. Fill them in, or correct the email address "
                "if the user should already exist.",
            )
            return
        self.check_username(plan, record["username"], None)
        if plan.outcome == "error":
            return
        status = record["status"] or "invited"
        if record["action"] == "import_block":
            status = "blocked"
        values: dict[str, Any] = {
            "email": record["email"],
            **{k: record[k] for k in ("first_name", "name_insert", "last_name")},
            "username": record["username"] or None,
            "role": record["role"] or self.options.role or None,
            "language": record["language"] or self.options.language or None,
            "kind": record["kind"] or self.options.kind,
            "status": status,
            "profile": {k[len("profile.") :]: record[k] for k in self.profile_keys if record[k]},
        }
        plan.outcome, plan.values, plan.password = "create", values, record["password"]
        plan.groups_add = tuple(dict.fromkeys((EVERYONE, *record["groups"])))
        plan.levels_add = tuple(record["levels"])
        if values["username"]:
            self.created_usernames[values["username"].casefold()] = plan
        plan.changes = {
            k: ("", v) for k, v in values.items() if v and k not in {"email", "profile"}
        }
        plan.changes |= {f"profile.{k}": ("", v) for k, v in values["profile"].items()}
        if plan.password:
            plan.changes["password"] = ("", MASK)

    def plan_update(self, plan: RowPlan, record: dict[str, Any], user: ExistingUser) -> None:
        plan.user_id = user.id
        if self.options.mode == "create":
            plan.outcome = "skip"
            self.issue(
                plan,
                "already-exists",
                "email",
                f"{user.email} already exists and this "
                "import only creates users; the row was skipped.",
                WARNING,
            )
            return
        action = record["action"]
        changes: dict[str, tuple[Any, Any]] = {}
        if action == "block":
            target_status = "blocked"
            plan.groups_remove = tuple(sorted(g for g in user.groups if g != EVERYONE))
        elif action == "unblock":
            target_status = "active" if user.activated_at else "invited"
            target_status = target_status if user.status == "blocked" else user.status
        else:
            target_status = "blocked" if action == "import_block" else record["status"]
            if target_status == "invited":
                target_status = ""  # an existing user cannot be sent back to "invited"
            if self.options.match == "username" and record["email"] != user.email:
                if record["email"] in self.by_email:
                    self.issue(
                        plan,
                        "duplicate-email",
                        "email",
                        f"{record['email']} already belongs to another user.",
                        value=record["email"],
                    )
                    return
                changes["email"] = (user.email, record["email"])
            keys = [*SIMPLE_FIELDS, *self.profile_keys]
            for key in keys:
                new = record[key]
                old = user.value(key)
                if not new or new == old or (self.options.fill_missing and old):
                    continue
                changes[key] = (old, new)
            if "username" in changes:
                self.check_username(plan, changes["username"][1], user.id)
                if plan.outcome == "error":
                    return
            plan.groups_add = tuple(g for g in record["groups"] if g not in user.groups)
            plan.levels_add = tuple(lv for lv in record["levels"] if lv not in user.levels)
        if action == "password" and not record["password"]:
            self.issue(
                plan,
                "missing-password",
                "password",
                "Action 5 sets a password, but the password cell is empty. Fill it in.",
            )
            return
        if record["password"]:
            plan.password, plan.old_password_hash = record["password"], user.password_hash
            changes["password"] = (MASK, MASK + " (new)")
        if target_status and target_status != user.status:
            changes["status"] = (user.status, target_status)
        if plan.groups_remove:
            changes["groups"] = (
                ", ".join(sorted(user.groups)),
                EVERYONE if EVERYONE in user.groups else "",
            )
        plan.changes = changes
        if "status" in changes:
            plan.outcome = "block" if changes["status"][1] == "blocked" else "unblock"
        elif changes or plan.groups_add or plan.levels_add:
            plan.outcome = "update"
        else:
            plan.outcome = "unchanged"
        if plan.outcome != "unchanged":
            plan.values = {
                k: v for k, (_, v) in changes.items() if k in {"email", "status", *SIMPLE_FIELDS}
            }
            profile = {
                k[len("profile.") :]: new
                for k, (_, new) in changes.items()
                if k.startswith("profile.")
            }
            if profile:
                plan.values["profile"] = {**user.profile, **profile}

    def plan_rename(self, plan: RowPlan, record: dict[str, Any]) -> None:
        old, new = record["username"], record["new_username"]
        if not old or not new:
            self.issue(
                plan,
                "missing-username",
                "new_username" if old else "username",
                "Changing a username needs the current username and the new one; fill in both.",
            )
            return
        user = self.by_username.get(old.casefold())
        renamed = self.by_username.get(new.casefold())
        created = self.created_usernames.get(new.casefold())
        if created is not None:
            # An earlier row of this file creates the user, already under the new name.
            plan.outcome, plan.email, plan.changes = (
                "rename",
                created.email,
                {"username": (old, new)},
            )
            return
        if user is None and renamed is not None and renamed.email == plan.email:
            plan.outcome, plan.user_id = "unchanged", renamed.id
            return
        if user is None:
            self.issue(
                plan,
                "not-found",
                "username",
                f"No user has the username {old!r}, so it cannot be changed. Check the username.",
                value=old,
            )
            return
        if user.is_protected:
            plan.outcome, plan.user_id = "skip", user.id
            self.issue(
                plan,
                "protected-user",
                "username",
                f"{user.email} is a protected user; imports never change it. The row was skipped.",
                WARNING,
            )
            return
        self.check_username(plan, new, user.id)
        if plan.outcome == "error":
            return
        plan.outcome, plan.user_id, plan.email = "rename", user.id, user.email
        plan.values = {"username": new}
        plan.changes = {"username": (old, new)}

    def plan_full_list(self) -> tuple[list[Deactivation], str | None]:
        if not self.options.full_list:
            return [], None
        listed = {r.email for r in self.rows}
        kind = self.options.kind
        query = select(
            User.id, User.email, User.first_name, User.name_insert, User.last_name, User.status
        ).where(and_(User.kind == kind, ~User.is_protected))
        population, deactivate = 0, []
        for user_id, email, first, insert, last, status in self.session.execute(query):
            if status == "blocked":
                continue
            population += 1
            if email not in listed:
                name = " ".join(p for p in (first, insert, last) if p)
                deactivate.append(Deactivation(user_id, email, name, status))
        limit = self.options.deactivation_limit(population)
        if limit is not None and len(deactivate) > limit:
            return deactivate, (
                f"This full-list import would deactivate {len(deactivate):,} of {population:,} "
                f"{kind} users, more than the limit of {limit:,} ({self.options.max_deactivate}). "
                "Nothing was changed. Check that the file is complete, or raise the limit."
            )
        return deactivate, None


def make_plan(*, session: Session, validated: ValidatedRows, options: ImportOptions) -> Plan:
    """What importing the validated rows would do; reads the database, writes nothing."""
    return _Planner(session, validated, options).run()
