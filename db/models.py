"""Every table of Instroom, as SQLModel classes."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import defer
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

from db.vocabulary import AccountRole, EmailStatus, JobStatus, Kind, RunStatus, UserStatus


class StoredModel(SQLModel):
    """The base of every table: pydantic builds a table's validator when one is first used."""

    # Rows are built from the database or by our own code and never validated as they are
    # made; building 22 validators at start-up took 0.04-0.09 s of every command's start.
    model_config = SQLModelConfig(defer_build=True)


def utcnow() -> datetime:
    """The current time in UTC; SQLModel's datetime columns require aware values."""
    return datetime.now(UTC)


class Words(TypeDecorator[StrEnum]):
    """A vocabulary's member stored as its plain text (a VARCHAR, no database enum type), so a
    new word needs no migration and a row reads back as the member."""

    impl = String
    cache_ok = True

    def __init__(self, vocabulary: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.vocabulary = vocabulary
        # A dictionary, not vocabulary(text): a million rows are read on a large import.
        self.members = {member.value: member for member in vocabulary}

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.members.get(value, value)


class User(StoredModel, table=True):
    """A person whose account an import creates or updates."""

    __tablename__ = "users"
    # A provider's userName and a username are matched whatever their case; a token and a
    # provider's key by value. Most users have none of these: each index holds only the
    # users that do (a new user's insert skips them), and a lookup by a lowered name says
    # "IS NOT NULL" too, as SQLite does not infer that from lower(name) = value.
    __table_args__ = (
        *(
            Index(
                f"ix_users_lower_{name}",
                func.lower(text(name)),
                sqlite_where=text(f"{name} IS NOT NULL"),
                postgresql_where=text(f"{name} IS NOT NULL"),
            )
            for name in ("username", "scim_user_name")
        ),
        *(
            Index(
                f"ix_users_{name}",
                name,
                sqlite_where=text(f"{name} IS NOT NULL"),
                postgresql_where=text(f"{name} IS NOT NULL"),
            )
            for name in ("activation_token_hash", "external_id")
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    first_name: str = Field(default="", max_length=200)
    name_insert: str = Field(default="", max_length=50)
    last_name: str = Field(default="", max_length=200)
    username: str | None = Field(default=None, max_length=20, unique=True)
    role: str | None = Field(default=None, max_length=100)
    language: str | None = Field(default=None, max_length=20)
    kind: Kind = Field(default=Kind.EMPLOYEE, sa_type=Words(Kind, 20), index=True)
    status: UserStatus = Field(
        default=UserStatus.INVITED, sa_type=Words(UserStatus, 20), index=True
    )
    is_protected: bool = Field(default=False)
    password_hash: str | None = Field(default=None, max_length=200)
    profile: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    activation_token_hash: str | None = Field(default=None, max_length=64)
    activation_expires_at: datetime | None = None
    activated_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # The identity provider's own key for the user (SCIM externalId), as it sent it.
    external_id: str | None = Field(default=None, max_length=200)
    # The provider's userName as sent (often the UPN), so it reads back the same.
    scim_user_name: str | None = Field(default=None, max_length=320)
    # When a provider removed the user (SCIM DELETE): blocked, and to the provider gone.
    scim_removed_at: datetime | None = None
    # How the provider wrote the user, kept only to read it back the same: the address's
    # type and primary flag, and whether it sends the insert as name.middleName.
    scim_words: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class ProfileField(StoredModel, table=True):
    """A configurable field of a user's profile."""

    __tablename__ = "profile_fields"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=50, unique=True)
    label: str = Field(max_length=100)
    type: str = Field(default="text", max_length=20)
    importable: bool = Field(default=True)
    taxonomy_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("taxonomies.id"), nullable=True)
    )
    position: int = Field(default=0)


class Taxonomy(StoredModel, table=True):
    """A controlled vocabulary for taxonomy profile fields."""

    __tablename__ = "taxonomies"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)


class Term(StoredModel, table=True):
    """One allowed value of a taxonomy."""

    __tablename__ = "terms"
    __table_args__ = (UniqueConstraint("taxonomy_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    taxonomy_id: int = Field(
        sa_column=Column(Integer, ForeignKey("taxonomies.id", ondelete="CASCADE"), nullable=False)
    )
    name: str = Field(max_length=200)


class Group(StoredModel, table=True):
    """A group users belong to; many per user."""

    __tablename__ = "groups"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    # The SCIM connection that created the group (one limited to its own groups may only
    # change these); connections are revoked, never removed, so the id keeps its meaning.
    scim_connection_id: int | None = None
    external_id: str | None = Field(default=None, max_length=200)
    # The one group every user is in without a stored membership (Iedereen): a million
    # users need no million links, and a rename keeps it the same group.
    everyone: bool = Field(default=False)


class UserGroup(StoredModel, table=True):
    """Membership of a user in a group."""

    __tablename__ = "user_groups"
    # On SQLite one tree, in key order: a link is written once, not as a row and its key.
    __table_args__ = {"sqlite_with_rowid": False}

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    group_id: int = Field(
        sa_column=Column(Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    )


class Level(StoredModel, table=True):
    """An access level; imports only ever add levels."""

    __tablename__ = "levels"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow)


class UserLevel(StoredModel, table=True):
    """A level held by a user."""

    __tablename__ = "user_levels"
    # On SQLite one tree, in key order: a link is written once, not as a row and its key.
    __table_args__ = {"sqlite_with_rowid": False}

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    )
    level_id: int = Field(
        sa_column=Column(Integer, ForeignKey("levels.id", ondelete="CASCADE"), primary_key=True)
    )


class Role(StoredModel, table=True):
    """A role a user can have in the organisation's platform."""

    __tablename__ = "roles"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)


class Language(StoredModel, table=True):
    """A language users can have; it chooses the text of their emails."""

    __tablename__ = "languages"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=100)


class ImportJob(StoredModel, table=True):
    """One import (or revert): what was asked, how it went, and its counts."""

    __tablename__ = "import_jobs"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="import", max_length=20)
    created_by: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    file_name: str = Field(default="", max_length=500)
    file_size: int = Field(default=0)
    file_sha256: str = Field(default="", max_length=64)
    mapping: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: JobStatus = Field(default=JobStatus.QUEUED, sa_type=Words(JobStatus, 30), index=True)
    dry_run: bool = Field(default=False)
    progress_done: int = Field(default=0)
    progress_total: int = Field(default=0)
    counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = None
    # What a worker needs to run a queued import; cleared when the job finishes.
    source_data: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    read_options: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    corrections: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    heartbeat_at: datetime | None = None
    # Set when the administrator chose to keep the uploaded file after the import.
    keep_file_until: datetime | None = None
    # The rejected rows with their original columns and an Error column (passwords masked),
    # kept so they can be downloaded after the file itself is gone.
    rejected: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reverts_job_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("import_jobs.id"), nullable=True)
    )
    # The one job a SCIM connection's changes of one day are recorded in ("scim:3:2026-12-06").
    day_key: str | None = Field(default=None, max_length=100, unique=True, index=True)
    # The groups, levels and terms (per field key) this import added to the catalogue;
    # None when it added none, or ran before this was kept.
    catalogue_added: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )


class ImportIssue(StoredModel, table=True):
    """One problem found in an import, tied to a row and column of the file."""

    __tablename__ = "import_issues"

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    row: int | None = None
    column: str | None = Field(default=None, max_length=500)
    field: str | None = Field(default=None, max_length=50)
    code: str = Field(max_length=50)
    severity: str = Field(default="error", max_length=10)
    # The English text; code, variant and params write it again in the reader's language.
    message: str
    value: str | None = None
    variant: str = Field(default="", max_length=50)
    params: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class ImportChange(StoredModel, table=True):
    """What one import did to one user: the action and the values before and after."""

    __tablename__ = "import_changes"

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    user_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    email: str = Field(max_length=320)
    row: int | None = None
    action: str = Field(max_length=20)
    before: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    after: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class EmailMessage(StoredModel, table=True):
    """One email an import queued, with its delivery state."""

    __tablename__ = "email_messages"

    id: int | None = Field(default=None, primary_key=True)
    job_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    user_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    # An invitation to the portal is for an account, not an imported user.
    account_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True),
    )
    recipient: str = Field(max_length=320)
    template: str = Field(max_length=50)
    language: str = Field(default="nl", max_length=20)
    subject: str = Field(default="", max_length=300)
    status: EmailStatus = Field(
        default=EmailStatus.QUEUED, sa_type=Words(EmailStatus, 20), index=True
    )
    # The text of a message composed when it was queued (a link's report to its admins).
    body: str | None = None
    attempts: int = Field(default=0)
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    # When a sender took it; a message left "sending" long after was lost with its sender.
    claimed_at: datetime | None = None


class Account(StoredModel, table=True):
    """A portal login for an administrator or support member."""

    __tablename__ = "accounts"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, unique=True)
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    role: AccountRole = Field(sa_type=Words(AccountRole, 20))
    password_hash: str = Field(max_length=200)
    is_disabled: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = None
    # Raised by logout, a password reset and disabling: every login cookie issued before ends.
    session_version: int = Field(default=0)
    # The language the portal speaks to this account.
    language: str = Field(default="nl", max_length=20)
    # An invited account has no password ("") until its one-time link is used.
    invite_token_hash: str | None = Field(default=None, max_length=64, index=True)
    invite_expires_at: datetime | None = None
    # The identity provider's stable key for the person ("entra:<tid>:<oid>",
    # "google:<hd>:<sub>", "<iss>|<sub>"), set by their first sign-in; never the email address.
    identity: str | None = Field(default=None, max_length=400, unique=True, index=True)


class LoginEvent(StoredModel, table=True):
    """One attempt to sign in to the portal, with a password or through a provider."""

    __tablename__ = "login_events"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    # As typed (a password login) or as linked (a provider's); "" when nobody was found.
    username: str = Field(default="", max_length=100)
    # "password", or the provider's name in secrets.toml ("microsoft", "google", ...).
    method: str = Field(max_length=50)
    signed_in: bool
    address: str = Field(default="", max_length=100)


class SavedMapping(StoredModel, table=True):
    """A named column mapping, recognised again by the file's headers."""

    __tablename__ = "saved_mappings"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    headers_key: str = Field(max_length=64, index=True)
    mapping: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)


class MailTemplate(StoredModel, table=True):
    """The organisation's own subject and body of one message in one language."""

    __tablename__ = "mail_templates"
    __table_args__ = (UniqueConstraint("kind", "language"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    language: str = Field(max_length=20)
    subject: str = Field(max_length=300)
    body: str
    updated_by: str = Field(default="", max_length=100)
    updated_at: datetime = Field(default_factory=utcnow)


class AppSetting(StoredModel, table=True):
    """A value the installation keeps for itself, such as that its defaults were seeded."""

    __tablename__ = "app_settings"

    key: str = Field(primary_key=True, max_length=100)
    value: str


class Link(StoredModel, table=True):
    """A scheduled import from the HR system's export: source, mapping, options, schedule."""

    __tablename__ = "links"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    # folder:/path/pattern, sftp://user@host:port/path/pattern or a URL; never a secret.
    source: str = Field(max_length=1000)
    # The HTTP header the secret is sent in (Authorization, AfasToken...).
    header: str | None = Field(default=None, max_length=100)
    # Passwords, keys and tokens, sealed with core.vault; never shown again.
    secret: str = Field(default="")
    # The SFTP server's host key, pinned on the first run.
    host_key: str | None = None
    move_done: bool = Field(default=False)
    mapping: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    read_options: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    # "every 6h", "daily 02:00", "cron 0 2 * * 1-5", or "" for runs by hand only.
    schedule: str = Field(default="", max_length=200)
    next_run_at: datetime | None = Field(default=None, index=True)
    paused: bool = Field(default=False)
    pause_reason: str | None = None
    failures_in_row: int = Field(default=0)
    last_sha256: str = Field(default="", max_length=64)
    notify: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)


class LinkRun(StoredModel, table=True):
    """One run of a link: its import job (when it got that far), or why it stopped."""

    __tablename__ = "link_runs"

    id: int | None = Field(default=None, primary_key=True)
    link_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("links.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    job_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("import_jobs.id", ondelete="SET NULL"), nullable=True),
    )
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    status: RunStatus = Field(sa_type=Words(RunStatus, 30))
    dry_run: bool = Field(default=False)
    file_name: str = Field(default="", max_length=500)
    file_sha256: str = Field(default="", max_length=64)
    counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = None
    # The refusal behind error as code and parameters, so it reads in any language.
    refusal: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class ScimConnection(StoredModel, table=True):
    """An identity provider (Entra ID, Okta) that keeps users and groups in step over SCIM."""

    __tablename__ = "scim_connections"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    # SHA-256 of the bearer token, which is shown once; None once it is revoked.
    token_hash: str | None = Field(default=None, max_length=64, index=True)
    token_created_at: datetime | None = None
    last_used_at: datetime | None = None
    paused: bool = Field(default=False)
    welcome_new: bool = Field(default=False)
    role: str | None = Field(default=None, max_length=100)
    language: str | None = Field(default=None, max_length=20)
    kind: Kind = Field(default=Kind.EMPLOYEE, sa_type=Words(Kind, 20))
    match_username: bool = Field(default=False)
    own_groups_only: bool = Field(default=False)
    may_deactivate: bool = Field(default=True)
    # DELETE removes the user for good (else it blocks them, as a provider's "active: false").
    may_delete: bool = Field(default=False)
    # Enterprise extension attribute (employeeNumber, department, ...) -> profile field key.
    profile_map: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    created_by: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)


# Lists of jobs must not load every kept upload: pass this to their queries.
WITHOUT_FILE = defer(ImportJob.source_data)  # type: ignore[arg-type]


def table_of(model: type[SQLModel]) -> Table:
    """The SQLAlchemy table of a model, for Core statements (SQLModel leaves it untyped)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def id_of(row: SQLModel) -> int:
    """The id of a stored row (SQLModel types it as optional until the row is flushed)."""
    row_id = getattr(row, "id", None)
    if not isinstance(row_id, int):
        raise ValueError(f"{type(row).__name__} has no id yet; flush the session first.")
    return row_id
