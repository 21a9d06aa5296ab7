"""The choices an administrator makes for one import."""

import re
from dataclasses import asdict, dataclass
from typing import Any

from core.emails import check_email
from core.i18n import N_, gettext, render
from core.issues import Refusal
from db.vocabulary import EmptyAction, Kind, MatchKey, Mode, values

MODES = values(Mode)
# What a row with an empty action (AFAS mutation code) means: AFAS Profit documents block.
EMPTY_ACTIONS = values(EmptyAction)
MATCH_KEYS = values(MatchKey)
MAX_KEEP_FILE_DAYS = 90
_LIMIT = re.compile(r"^\s*(\d+)\s*(%?)\s*$")


class OptionsError(Refusal, ValueError):
    """An option has a value that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class ImportOptions:
    """Every option of an import; the defaults are what a cautious administrator expects."""

    mode: Mode = Mode.UPSERT
    match: MatchKey = MatchKey.EMAIL
    fill_missing: bool = False
    # An empty cell clears the stored value (SCIM's replace-all); else it leaves it as it is.
    clear_empty: bool = False
    groups: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    create_groups: bool = False
    create_levels: bool = False
    create_terms: bool = False
    # "field=term": a taxonomy term every row gets where its own cell is empty (Plek).
    terms: tuple[str, ...] = ()
    role: str | None = None
    language: str | None = None
    kind: Kind = Kind.EMPLOYEE
    full_list: bool = False
    max_deactivate: str | None = None
    welcome_new: bool = False
    # Plek's step 5.6: a welcome mail to updated users (here: those without a password yet).
    welcome_updated: bool = False
    notify_updated: bool = False
    notify_admin: str | None = None
    strict: bool = False
    keep_file_days: int = 0
    empty_action: EmptyAction = EmptyAction.BLOCK

    def __post_init__(self) -> None:
        self._check_choices()
        # Given as plain text by the CLI, a form or stored JSON: kept as the vocabulary's words.
        for name, vocabulary in (
            ("mode", Mode),
            ("match", MatchKey),
            ("kind", Kind),
            ("empty_action", EmptyAction),
        ):
            object.__setattr__(self, name, vocabulary(getattr(self, name)))
        self._check_the_rest()

    def _check_choices(self) -> None:
        if self.mode not in MODES:
            raise OptionsError.of("invalid-option", "mode", modes=", ".join(MODES), value=self.mode)
        if self.match not in MATCH_KEYS:
            raise OptionsError.of("invalid-option", "match", value=self.match)
        if self.empty_action not in EMPTY_ACTIONS:
            raise OptionsError.of("invalid-option", "empty-action", value=self.empty_action)
        if self.kind not in values(Kind):
            raise OptionsError.of("invalid-option", "kind", value=self.kind)

    def _check_the_rest(self) -> None:
        if not 0 <= self.keep_file_days <= MAX_KEEP_FILE_DAYS:
            raise OptionsError.of(
                "invalid-option", "keep-days", limit=MAX_KEEP_FILE_DAYS, value=self.keep_file_days
            )
        problem = None if self.notify_admin is None else check_email(self.notify_admin)[1]
        if problem is not None:
            raise OptionsError.of(
                "invalid-option", "completion-email", value=self.notify_admin, reason=problem
            )
        for pair in self.terms:
            field, _sep, term = pair.partition("=")
            if not (field.strip() and term.strip()):
                raise OptionsError.of("invalid-option", "fixed-term", value=pair)
        if self.max_deactivate is not None and not _LIMIT.match(self.max_deactivate):
            raise OptionsError.of("invalid-option", "deactivation-limit", value=self.max_deactivate)

    def term_for_every_row(self) -> dict[str, str]:
        """Profile field key -> the term every row gets where its own cell is empty."""
        pairs = (t.partition("=") for t in self.terms)
        return {field.strip(): term.strip() for field, _sep, term in pairs}

    def deactivation_limit(self, population: int) -> int | None:
        """How many users a full-list import may deactivate, out of population; None: no limit."""
        if self.max_deactivate is None:
            return None
        match = _LIMIT.match(self.max_deactivate)
        assert match is not None
        number = int(match.group(1))
        return population * number // 100 if match.group(2) else number

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ImportOptions":
        """The options a job was recorded with."""
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        for key in ("groups", "levels", "terms"):
            known[key] = tuple(known.get(key) or ())
        return cls(**known)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary, for the job record."""
        return asdict(self)


def describe_options(values: dict[str, Any], language: str) -> str:
    """An import's options as sentences an administrator reads, in their language."""
    options = ImportOptions.from_dict(values)
    words: list[str] = [
        {
            "upsert": N_("new users are created and existing ones updated"),
            "create": N_("only new users are created"),
            "update": N_("only existing users are updated"),
        }[options.mode]
    ]
    params = {
        "groups": ", ".join(options.groups),
        "levels": ", ".join(options.levels),
        "role": options.role,
        "language": options.language,
        "kind": gettext(options.kind, language),
        "limit": options.max_deactivate,
        "email": options.notify_admin,
        "days": options.keep_file_days,
        "terms": ", ".join(t.partition("=")[2].strip() for t in options.terms),
    }
    chosen = [
        (options.match == "username", N_("users are recognised by their username")),
        (options.fill_missing, N_("only empty fields are filled in")),
        (options.clear_empty, N_("an empty cell clears the stored value")),
        (bool(options.groups), N_("every row is added to {groups}")),
        (bool(options.levels), N_("every row gets the levels {levels}")),
        (bool(options.terms), N_("every row without its own term gets {terms}")),
        (options.create_groups, N_("groups that do not exist yet are created")),
        (options.create_levels, N_("levels that do not exist yet are created")),
        (options.create_terms, N_("unknown terms are created")),
        (bool(options.role), N_("new users without a role get {role}")),
        (bool(options.language), N_("new users without a language get {language}")),
        (options.kind != Kind.EMPLOYEE, N_("new users are of the kind {kind}")),
        (
            options.full_list,
            N_(
                "the file is the full list of the kind {kind}: whoever it leaves out is "
                "blocked, at most {limit}"
            ),
        ),
        (options.welcome_new, N_("new users get a welcome mail")),
        (
            options.welcome_updated,
            N_("updated users who have not chosen a password yet get a welcome mail"),
        ),
        (options.notify_updated, N_("updated users are told what changed")),
        (bool(options.notify_admin), N_("{email} is mailed when the import is done")),
        (options.strict, N_("all or nothing: one rejected row and nothing is imported")),
        (options.empty_action == "none", N_("an empty action code means no action")),
        (options.keep_file_days > 0, N_("the file is kept for {days} days")),
    ]
    words += [template for wanted, template in chosen if wanted]
    text = "; ".join(render(template, language, params) for template in words)
    return text[0].upper() + text[1:] + "."
