"""Row rules: every value checked and normalised; every problem an issue with row and column."""

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import repeat
from typing import Any

import pandas as pd
from sqlmodel import Session

from core.emails import COMMON_EMAIL, check_email
from core.fields import MULTI_VALUE_SEPARATOR, USERNAME_MAX_LENGTH, VALUE_WORDS
from core.gc_pause import without_collector
from core.i18n import LANGUAGES, gettext, language_name
from core.issues import ERROR, Issue, issue
from core.mapping import status_means_blocked
from core.options import ImportOptions
from core.passwords import MIN_PASSWORD_LENGTH as LIMIT
from core.passwords import PREHASHED, REFUSED, password_problem
from core.read import Table
from db import queries
from db.models import Language
from db.vocabulary import UserStatus

# Records an issue: (code, row, field key, variant="", value=None, **message parameters).
Report = Callable[..., None]

# Most addresses are plain ASCII; they skip the slower, exact email-validator check. The fast
# path may only accept what email-validator accepts (a property test compares the two): dots
# only between characters, labels that start and end with a letter or digit, at most 64
# characters before the @, 63 per label and 254 in all, no "--" where IDNA reserves it
# ("ab--"), and no special-use domain.
# A value written inert by an export ('=1+1) reads back as the original (=1+1).
_INERT_PREFIX = re.compile(r"^'(?=[=+\-@])")
_CONTROL_CHARACTERS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_CONTROL = re.compile(f"[{_CONTROL_CHARACTERS}]")
# Nine digits starting 1-9: a Dutch phone number (0612345678, 0201234567) without its 0.
_PHONE_WITHOUT_ZERO = re.compile(r"[1-9]\d{8}")
PHONE_FIELDS = {"phone", "mobile"}
# Direction overrides and isolates make a value display otherwise than it is stored.
_BIDI_CHARACTERS = "\u202a-\u202e\u2066-\u2069"
_BIDI_CONTROL = re.compile(f"[{_BIDI_CHARACTERS}]")
# Either kind: one pass over a column finds the few values worth a closer look.
_HIDDEN = re.compile(f"[{_CONTROL_CHARACTERS}{_BIDI_CHARACTERS}]")
_MASKED_PASSWORD = re.compile(r"^\*+$")
MAX_LENGTHS = {"email": 320, "first_name": 200, "last_name": 200, "name_insert": 50}
MAX_PROFILE_LENGTH = 1000
NAME_INSERTS = (
    "van der",
    "van den",
    "van de",
    "van het",
    "van 't",
    "in 't",
    "in het",
    "op de",
    "op den",
    "uit de",
    "uit den",
    "van",
    "de",
    "den",
    "der",
    "het",
    "'t",
    "te",
    "ten",
    "ter",
    "op",
    "in",
)

# action codes and words -> canonical action; AFAS Profit's mutation codes 0-6 included.
ACTIONS = {
    "0": "block",
    "block": "block",
    "blokkeer": "block",
    "blokkeren": "block",
    "1": "import",
    "import": "import",
    "importeer": "import",
    "importeren": "import",
    "add": "import",
    "update": "import",
    "link": "import",
    "koppel": "import",
    "2": "import_block",
    "import-block": "import_block",
    "import and block": "import_block",
    "3": "import_create_groups",
    "import-create-groups": "import_create_groups",
    "4": "rename",
    "rename": "rename",
    "hernoem": "rename",
    "change username": "rename",
    "5": "password",
    "password": "password",
    "wachtwoord": "password",
    "set password": "password",
    "6": "unblock",
    "unblock": "unblock",
    "deblokkeer": "unblock",
    "deblokkeren": "unblock",
}
_TRUE = {"yes", "ja", "y", "j", "true", "waar", "1", "x"}
_FALSE = {"no", "nee", "n", "false", "onwaar", "0"}
_ACTIVE = {"active", "actief", "enabled", "unblocked", "gedeblokkeerd", "aan"}
_BLOCKED = {"blocked", "geblokkeerd", "suspended", "disabled", "inactive", "inactief", "uit"}
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class ProfileFieldSpec:
    """What an import needs to know of one profile field."""

    key: str
    label: str
    type: str
    importable: bool
    terms: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KnownNames:
    """The names an import can refer to, each keyed by its case-folded form."""

    groups: dict[str, str]
    levels: dict[str, str]
    roles: dict[str, str]
    languages: dict[str, str]
    profile_fields: dict[str, ProfileFieldSpec]

    @property
    def importable_profile_fields(self) -> dict[str, str]:
        """key -> label of the profile fields open for import."""
        return {k: f.label for k, f in self.profile_fields.items() if f.importable}


def _language_names(languages: Sequence[Language]) -> dict[str, str]:
    """Every way a file may name a language -> its code: nl, Nederlands, Dutch, Engels."""
    known: dict[str, str] = {}
    for lang in languages:
        names = [lang.name, *(language_name(lang.code, reader) for reader in LANGUAGES)]
        known |= {name.casefold(): lang.code for name in names if name}
        known[lang.code.casefold()] = lang.code  # a code wins over a name that reads the same
    return known


# What a file may write for a kind: its value, or its word in any of the portal's languages.
KIND_NAMES = {
    word.casefold(): kind
    for kind, label in VALUE_WORDS["kind"].items()
    for word in (kind, *(gettext(label, reader) for reader in LANGUAGES))
}


def load_known_names(*, session: Session) -> KnownNames:
    """A snapshot of groups, levels, roles, languages and profile fields."""
    taxonomy_terms: dict[int | None, dict[str, str]] = {}
    for taxonomy in queries.list_taxonomies(session=session):
        assert taxonomy.id is not None  # a stored row
        terms = queries.list_terms(session=session, taxonomy_id=taxonomy.id)
        taxonomy_terms[taxonomy.id] = {term.name.casefold(): term.name for term in terms}
    return KnownNames(
        groups={g.name.casefold(): g.name for g in queries.list_groups(session=session)},
        levels={lv.name.casefold(): lv.name for lv in queries.list_levels(session=session)},
        roles={r.name.casefold(): r.name for r in queries.list_roles(session=session)},
        languages=_language_names(queries.list_languages(session=session)),
        profile_fields={
            f.key: ProfileFieldSpec(
                f.key, f.label, f.type, f.importable, taxonomy_terms.get(f.taxonomy_id, {})
            )
            for f in queries.list_profile_fields(session=session)
        },
    )


@dataclass
class ValidatedRows:
    """Normalised values per field (index: spreadsheet row) and the problems found."""

    frame: pd.DataFrame
    issues: list[Issue]
    error_rows: set[int]
    columns: dict[str, str]
    new_groups: set[str] = field(default_factory=set)
    new_levels: set[str] = field(default_factory=set)
    new_terms: dict[str, set[str]] = field(default_factory=dict)

    def reject(self, issue: Issue) -> None:
        """Record an issue; an error rejects its row."""
        self.issues.append(issue)
        if issue.severity == ERROR and issue.row is not None:
            self.error_rows.add(issue.row)


def split_full_name(full_name: str) -> tuple[str, str, str]:
    """'Lotte de Vries' -> ('Lotte', 'de', 'Vries'); a comma means 'Last, First'."""
    text = " ".join(full_name.split())
    if "," in text:
        last, _, first = text.partition(",")
        text = f"{first.strip()} {last.strip()}".strip()
    words = text.split(" ")
    if len(words) < 2:
        return text, "", ""
    first, rest = words[0], " ".join(words[1:])
    for insert in NAME_INSERTS:
        if rest.lower().startswith(insert + " "):
            return first, rest[: len(insert)], rest[len(insert) + 1 :]
    return first, "", rest


def split_insert(last_name: str) -> tuple[str, str]:
    """'de Bruin' -> ('de', 'Bruin'), 'van der Berg' -> ('van der', 'Berg'); case is kept,
    and a name that only starts with those letters (Devries, Vandenberg) is left whole."""
    folded = last_name.lower()
    for insert in NAME_INSERTS:
        if folded.startswith(insert + " ") and last_name[len(insert) + 1 :].strip():
            return last_name[: len(insert)], last_name[len(insert) + 1 :].strip()
    return "", last_name


def parse_date(value: str) -> str | None:
    """An ISO date for the date forms spreadsheets produce, or None."""
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def mixes_alphabets(domain: str) -> bool:
    """Whether a domain label mixes alphabets (Latin with Cyrillic, say), as look-alikes do."""
    for label in domain.split("."):
        scripts = {unicodedata.name(c, "?").split()[0] for c in label if c.isalpha()}
        if len(scripts) > 1:
            return True
    return False


@without_collector
class _Columns:
    """The mapped columns of one table, cleaned once, and where their issues are reported."""

    def __init__(self, table: Table, mapping: dict[int, str | None], result: ValidatedRows):
        self.table, self.result = table, result
        self.index_of = {f: i for i, f in mapping.items() if f}
        self.names = {f: table.column_name(i) for i, f in mapping.items() if f}
        self._cleaned: dict[str, pd.Series] = {}

    def __call__(self, key: str) -> pd.Series:
        """A field's cells as text, stripped, the inert apostrophe of an export taken off."""
        if key not in self.index_of:
            return pd.Series("", index=self.table.data.index, dtype="str")
        if key not in self._cleaned:
            values = self.table.data[self.index_of[key]].astype(str).str.strip()
            inert = values.str.startswith("'")
            if inert.any():
                values = values.where(~inert, values.str.replace(_INERT_PREFIX, "", regex=True))
            self._cleaned[key] = values
        return self._cleaned[key]

    def report(
        self,
        code: str,
        row: int,
        key: str,
        variant: str = "",
        /,
        *,
        value: str | None = None,
        **params: Any,
    ) -> None:
        """Reject row with an issue on this field's column as the file names it."""
        column = self.names.get(key)
        self.result.reject(
            issue(code, variant, row=row, column=column, field=key, value=value, **params)
        )


def validate_rows(
    table: Table, mapping: dict[int, str | None], options: ImportOptions, known_names: KnownNames
) -> ValidatedRows:
    """Check every mapped value of every row against the rules of the design."""
    frame = pd.DataFrame(index=table.data.index)
    result = ValidatedRows(frame, [], set(), {})
    column = _Columns(table, mapping, result)
    result.columns = column.names
    result.issues.extend(table.findings)
    result.error_rows.update(i.row for i in table.findings if i.severity == ERROR and i.row)
    report = column.report
    _validate_hidden_characters(column, report)
    _validate_emails(column("email"), result, report)
    _validate_names_of_people(frame, column, report)
    actions = _validate_actions(column("action"), result, report)
    if "action" in column.index_of:
        actions = _empty_actions(column("action"), actions, options, column.names["action"], report)
    frame["action"] = actions
    for key in ("username", "new_username"):
        frame[key] = _validate_usernames(column(key), key, report)
    _validate_username_duplicates(frame, actions, report)
    frame["password"] = _validate_passwords(column("password"), frame, report)
    frame["status"] = _validate_status(column("status"), column.names.get("status", ""), report)
    for key, known, allowed, new in (
        ("groups", known_names.groups, options.create_groups, result.new_groups),
        ("levels", known_names.levels, options.create_levels, result.new_levels),
    ):
        frame[key] = _validate_names(
            column(key), key, known, allowed, new, actions, report, extra=getattr(options, key)
        )
    frame["role"] = _validate_choice(
        column("role"), "role", known_names.roles, "unknown-role", report
    )
    frame["language"] = _validate_choice(
        column("language"), "language", known_names.languages, "unknown-language", report
    )
    frame["kind"] = _validate_choice(column("kind"), "kind", KIND_NAMES, "invalid-kind", report)
    _validate_profile_fields(frame, column, options, known_names, result)
    return result


def _validate_hidden_characters(column: _Columns, report: Report) -> None:
    for key in column.index_of:
        values = column(key)
        values = values[values.str.contains(_HIDDEN.pattern, regex=True)]
        for row in values.index[values.str.contains(_CONTROL, regex=True)]:
            report("control-characters", row, key)
        # An address with one is refused as invalid anyway.
        bidi = values.str.contains(_BIDI_CONTROL, regex=True) if key != "email" else []
        for row in values.index[bidi]:
            report("bidi-control", row, key)


def _validate_names_of_people(frame: pd.DataFrame, column: _Columns, report: Report) -> None:
    """First name, insert and last name, split from a full name or a Plek last name."""
    for key in ("first_name", "name_insert", "last_name"):
        frame[key] = column(key)
    if "full_name" in column.index_of:
        full = column("full_name")
        needed = full.ne("") & (frame["first_name"].eq("") | frame["last_name"].eq(""))
        parts = ("first_name", "name_insert", "last_name")
        split = pd.DataFrame(
            [split_full_name(v) for v in full[needed]], index=full.index[needed], columns=parts
        )
        for key in parts:
            current = frame.loc[needed, key]
            frame.loc[needed, key] = current.where(current.ne(""), split[key])
    if "last_name" in column.index_of and "name_insert" not in column.index_of:
        # Plek's files carry "de Bruin" in one column: the insert is split off ("de", "Bruin").
        split_last = frame["last_name"].map(split_insert)
        frame["name_insert"] = [insert for insert, _ in split_last]
        frame["last_name"] = [last for _, last in split_last]
    for key, limit in MAX_LENGTHS.items():
        if key == "email":
            continue
        for row in frame.index[frame[key].str.len() > limit]:
            report("value-too-long", row, key, field_name=key.replace("_", " "), limit=limit)


def _validate_profile_fields(
    frame: pd.DataFrame,
    column: _Columns,
    options: ImportOptions,
    known_names: KnownNames,
    result: ValidatedRows,
) -> None:
    """The profile fields the file fills (or an option fills for every row), and the phone
    numbers that lost their leading zero."""
    every_row = options.term_for_every_row()
    for key, spec in known_names.profile_fields.items():
        if key in column.index_of or (key in every_row and spec.type == "taxonomy"):
            values = column(key)
            if key in every_row:
                # The file's own value wins; the option fills the cells it leaves empty.
                values = values.where(values.ne(""), every_row[key])
            frame[f"profile.{key}"] = _validate_profile(
                values, spec, options, result, column.report
            )
    for key in [k for k in column.index_of if k in PHONE_FIELDS]:
        values = column(key)
        for row in values.index[values.str.fullmatch(_PHONE_WITHOUT_ZERO)]:
            column.report("leading-zero-lost", row, key, value=values[row])


def _map_unique(values: pd.Series, parse: Callable[[str], str | None]) -> pd.Series:
    """values.map(parse), calling parse once per distinct value (object dtype, None kept)."""
    parsed = {value: parse(value) for value in values.unique()}
    return pd.Series([parsed[v] for v in values.tolist()], index=values.index, dtype=object)


def _validate_emails(values: pd.Series, result: ValidatedRows, report: Report) -> None:
    # NFKC only changes non-ASCII text; most files have none (0.3 s of a million addresses).
    ascii_only = values.str.isascii()
    composed = values
    if not ascii_only.all():
        composed = values.where(ascii_only, values[~ascii_only].str.normalize("NFKC"))
    normalised = composed.str.strip().str.lower()
    common = normalised.str.match(COMMON_EMAIL) & normalised.str.len().le(MAX_LENGTHS["email"])
    for row in normalised.index[~common]:
        value = values[row]
        if not value:
            report("missing-email", row, "email")
            continue
        address, problem = check_email(value)
        if problem:
            report("invalid-email", row, "email", value=value, problem=problem)
        elif len(address) > MAX_LENGTHS["email"]:
            report("invalid-email", row, "email", "too-long", value=value[:80])
        elif mixes_alphabets(address.rpartition("@")[2]):
            report("lookalike-email", row, "email", value=address, address=address)
        normalised[row] = address
    result.frame["email"] = normalised


def _empty_actions(
    values: pd.Series, actions: pd.Series, options: ImportOptions, header: str, report: Report
) -> pd.Series:
    """AFAS Profit: an empty mutation code means 0, block (unless the admin chose otherwise)."""
    empty = values.eq("")
    for row in values.index[empty]:
        report("empty-action", row, "action", options.empty_action, header=header)
    return actions.mask(empty, "block") if options.empty_action == "block" else actions


def _validate_actions(values: pd.Series, result: ValidatedRows, report: Report) -> pd.Series:
    actions = _map_unique(values.str.lower(), lambda v: ACTIONS.get(v) if v else None)
    for row in actions.index[values.ne("") & actions.isna()]:
        report("invalid-action", row, "action", value=values[row])
    emails = result.frame["email"]
    checked = emails.ne("") & ~emails.index.isin(list(result.error_rows)) & actions.ne("rename")
    candidates = emails[checked]
    # The addresses are lower case already; casefold differs only beyond ASCII (ß, ς).
    folded = candidates if candidates.str.isascii().all() else candidates.str.casefold()
    duplicated = candidates[folded.duplicated(keep=False)]
    for email, rows in duplicated.groupby(folded[duplicated.index]).groups.items():
        for row in rows:
            others = ", ".join(str(r) for r in rows if r != row)
            report("duplicate-email", row, "email", value=email, email=email, others=others)
    return actions


def _validate_usernames(values: pd.Series, key: str, report: Report) -> pd.Series:
    for row in values.index[values.str.len() > USERNAME_MAX_LENGTH]:
        report(
            "username-too-long",
            row,
            key,
            value=values[row],
            length=len(values[row]),
            limit=USERNAME_MAX_LENGTH,
        )
    for row in values.index[values.str.contains("@", regex=False)]:
        report("username-has-at", row, key, value=values[row])
    return values


def _validate_username_duplicates(frame: pd.DataFrame, actions: pd.Series, report: Report) -> None:
    # A rename row names an existing username; it may repeat a username of an import row.
    usernames = frame["username"].where(actions.ne("rename"), "")
    claimed = pd.concat([usernames, frame["new_username"]])
    claimed = claimed[claimed.ne("")]
    folded = claimed.str.casefold()
    for _, rows in claimed[folded.duplicated(keep=False)].groupby(folded).groups.items():
        unique_rows = sorted(set(rows))
        for row in unique_rows:
            others = ", ".join(str(r) for r in unique_rows if r != row) or str(row)
            value = (
                claimed.loc[row]
                if not isinstance(claimed.loc[row], pd.Series)
                else claimed.loc[row].iloc[0]
            )
            report("username-taken", row, "username", "in-file", value=value, others=others)


def _validate_passwords(values: pd.Series, frame: pd.DataFrame, report: Report) -> pd.Series:
    """The one password rule of core.passwords, with the row's own names and address."""
    keep = values.eq("") | values.str.match(_MASKED_PASSWORD)
    personal = [k for k in ("email", "username", "first_name", "last_name") if k in frame]
    for row in values.index[~keep]:
        value = values[row]
        if value.startswith(PREHASHED):
            continue
        problem = (
            value.removeprefix(REFUSED)
            if value.startswith(REFUSED)
            else password_problem(value, [str(frame.at[row, k]) for k in personal])
        )
        if problem is not None:
            variant = "" if problem == "too-short" else problem
            report("weak-password", row, "password", variant, value="********", limit=LIMIT)
    return values.where(~keep, "")


def _validate_status(values: pd.Series, header: str, report: Report) -> pd.Series:
    yes_means = UserStatus.BLOCKED if status_means_blocked(header) else UserStatus.ACTIVE
    no_means = UserStatus.ACTIVE if yes_means == UserStatus.BLOCKED else UserStatus.BLOCKED

    def parse(value: str) -> str | None:
        lowered = value.lower()
        if not lowered:
            return ""
        if lowered in _ACTIVE:
            return UserStatus.ACTIVE
        if lowered in _BLOCKED:
            return UserStatus.BLOCKED
        if lowered in {"invited", "uitgenodigd"}:
            return UserStatus.INVITED
        if lowered in _TRUE:
            return yes_means
        if lowered in _FALSE:
            return no_means
        return None

    parsed = _map_unique(values, parse)
    for row in parsed.index[parsed.isna()]:
        report("invalid-status", row, "status", value=values[row])
    return parsed.fillna("")


def _validate_names(
    values: pd.Series,
    key: str,
    known: dict[str, str],
    allowed: bool,
    new: set[str],
    actions: pd.Series,
    report: Report,
    extra: tuple[str, ...],
) -> pd.Series:
    """Split ~-separated groups or levels, resolve them, and report unknown ones."""
    code = "unknown-group" if key == "groups" else "unknown-level"
    option_names = []
    for name in extra:
        cleaned = " ".join(name.split())
        if cleaned.casefold() in known:
            option_names.append(known[cleaned.casefold()])
        elif allowed:
            new.add(cleaned)
            option_names.append(cleaned)
    new_folded = {n.casefold(): n for n in new}

    def resolve(cell: str, may_create: bool) -> tuple[tuple[str, ...], list[str]]:
        """(names, unknown names) of one cell."""
        names: list[str] = []
        unknown: list[str] = []
        for part in cell.split(MULTI_VALUE_SEPARATOR) if cell else []:
            name = " ".join(part.split())
            if not name:
                continue
            folded = name.casefold()
            if folded in known:
                names.append(known[folded])
            elif folded in new_folded:
                names.append(new_folded[folded])
            elif may_create:
                new.add(name)
                new_folded[folded] = name
                names.append(name)
            else:
                unknown.append(name)
        return tuple(dict.fromkeys(names + option_names)), unknown

    # Files repeat the same few cells: resolve each distinct cell once, in the file's order
    # (the first spelling of a new name is the one created).
    cells = values.tolist()
    if key == "groups" and not allowed:
        pairs = list(zip(cells, actions.eq("import_create_groups").tolist(), strict=True))
    else:
        pairs = list(zip(cells, repeat(allowed), strict=False))
    cache = {pair: resolve(*pair) for pair in dict.fromkeys(pairs)}
    if any(unknown for _, unknown in cache.values()):
        for row, pair in zip(values.index, pairs, strict=True):
            for name in cache[pair][1]:
                report(code, row, key, value=name)
    return pd.Series([cache[pair][0] for pair in pairs], index=values.index, dtype=object)


def _validate_choice(
    values: pd.Series, key: str, known: dict[str, str], code: str, report: Report
) -> pd.Series:
    resolved = _map_unique(values, lambda v: known.get(v.casefold()) if v else "")
    for row in resolved.index[resolved.isna()]:
        choices = ", ".join(sorted(set(known.values())))
        report(code, row, key, value=values[row], choices=choices)
    return resolved.fillna("")


def _validate_profile(
    values: pd.Series,
    spec: ProfileFieldSpec,
    options: ImportOptions,
    result: ValidatedRows,
    report: Report,
) -> pd.Series:
    key = spec.key
    for row in values.index[values.str.len() > MAX_PROFILE_LENGTH]:
        report(
            "value-too-long", row, key, "profile", field_name=spec.label, limit=MAX_PROFILE_LENGTH
        )
    if spec.type == "date":
        parsed = _map_unique(values, lambda v: parse_date(v) if v else "")
        for row in parsed.index[parsed.isna()]:
            report("invalid-date", row, key, value=values[row])
        return parsed.fillna("")
    if spec.type == "taxonomy":
        new_terms = result.new_terms.setdefault(key, set())
        resolved = []
        for row, value in values.items():
            if MULTI_VALUE_SEPARATOR in value:
                report("multiple-terms", row, key, value=value, label=spec.label)
                resolved.append("")
            elif not value or value.casefold() in spec.terms:
                resolved.append(spec.terms.get(value.casefold(), ""))
            elif options.create_terms:
                new_terms.add(value)
                resolved.append(value)
            else:
                report("unknown-term", row, key, value=value, label=spec.label)
                resolved.append("")
        return pd.Series(resolved, index=values.index, dtype=object)
    return values
