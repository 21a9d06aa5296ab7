"""The domain's fixed words: each a StrEnum, so the stored and printed values stay plain text."""

from enum import StrEnum


class JobStatus(StrEnum):
    """Where an import or revert job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    REVERTED = "reverted"


class RunStatus(StrEnum):
    """How one run of a link ended: as its import did, or unchanged (nothing planned)."""

    SUCCEEDED = "succeeded"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"
    UNCHANGED = "unchanged"
    # Still fetching or importing (or stopped by a crash, until the worker notices).
    RUNNING = "running"


class Outcome(StrEnum):
    """What an import does with one row."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    SKIP = "skip"
    BLOCK = "block"
    UNBLOCK = "unblock"
    RENAME = "rename"
    DEACTIVATE = "deactivate"
    ERROR = "error"


class Severity(StrEnum):
    """Whether an issue rejects its row (error) or only tells (warning)."""

    ERROR = "error"
    WARNING = "warning"


class EmailStatus(StrEnum):
    """What became of one message."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class UserStatus(StrEnum):
    """Whether an imported user can sign in."""

    INVITED = "invited"
    ACTIVE = "active"
    BLOCKED = "blocked"


class Kind(StrEnum):
    """The two kinds of users an organisation imports; a full-list import covers one."""

    EMPLOYEE = "employee"
    CONTACT = "contact"


class AccountRole(StrEnum):
    """The roles of portal accounts."""

    ADMIN = "admin"
    SUPPORT = "support"


class Mode(StrEnum):
    """Which rows an import may act on."""

    CREATE = "create"
    UPDATE = "update"
    UPSERT = "upsert"


class MatchKey(StrEnum):
    """The field that finds a row's stored user."""

    EMAIL = "email"
    USERNAME = "username"


class EmptyAction(StrEnum):
    """What an empty action cell (AFAS mutation code) means."""

    BLOCK = "block"
    NONE = "none"


def values(vocabulary: type[StrEnum]) -> tuple[str, ...]:
    """The plain values of a vocabulary, in order, for choices and checks."""
    return tuple(member.value for member in vocabulary)
