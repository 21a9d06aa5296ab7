"""Which file column fills which field: suggestions from headers, checks, and saved mappings."""

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from core.fields import BUILTIN_FIELDS
from core.issues import ERROR, Issue, issue
from db import queries
from db.models import SavedMapping

# Normalised header -> field key. Normalising drops case, accents, spaces and punctuation, so
# "E-mailadres", "e-mail adres" and "EmailAdres" are one entry. Sources: Dutch usage, Plek,
# Huddle, AFAS Profit, Caseware Cloud, and the public bulk templates of Microsoft Entra,
# Google Workspace, Okta and Moodle.
SYNONYMS: dict[str, list[str]] = {
    "email": (
        "email emailadres emailaddress mail mailadres emailzakelijk zakelijkemail werkemail "
        "workemail primaryemail userprincipalname"
    ).split(),
    "first_name": "firstname voornaam roepnaam givenname given first voornamen".split(),
    "name_insert": "nameinsert tussenvoegsel tussenvoegsels voorvoegsel voorvoegsels infix".split(),
    "last_name": "lastname achternaam surname familienaam familyname geslachtsnaam last".split(),
    "full_name": "fullname naam volledigenaam omschrijving displayname weergavenaam name".split(),
    "username": (
        "username gebruikersnaam gebruikerscode usercode userid loginnaam inlognaam "
        "accountname samaccountname"
    ).split(),
    "new_username": "newusername nieuwegebruikersnaam nieuwegebruikerscode newusercode".split(),
    "password": "password wachtwoord initialpassword passwordprofile pwd".split(),
    "status": (
        "status accountstatus newstatus blocksignin accountenabled suspended geblokkeerd "
        "blocked actief active"
    ).split(),
    "action": "action actie mutatiecode mutatie mutationcode mutation actiecode".split(),
    "groups": "groups group groep groepen team teams cohort cohort1 group1 memberof".split(),
    "levels": "levels level niveau niveaus toegangsniveau accesslevel accesslevels".split(),
    "role": "role rol rollen roles".split(),
    "language": "language taal lang locale preferredlanguage voorkeurstaal".split(),
    "kind": "kind soort accounttype soortaccount gebruikerstype".split(),
    "job_title": "jobtitle functie functienaam title titel employeetitle functietitel".split(),
    "department": "department afdeling afd division afdelingsnaam".split(),
    "phone": (
        "phone telefoon telefoonnummer tel telnr officephone workphone telephonenumber "
        "primaryphone phone1 vastetelefoon businessphone"
    ).split(),
    "mobile": "mobile mobiel mobielnummer mobilephone gsm phone2 mobiletelephone cellphone".split(),
    "initials": "initials voorletters initialen".split(),
    "employee_id": (
        "employeeid personeelsnummer personeelsnr medewerkernummer employeenumber idnumber "
        "werknemernummer stamnummer"
    ).split(),
    "city": "city plaats woonplaats stad vestigingsplaats standplaats".split(),
}
_LOOKUP = {alias: key for key, aliases in SYNONYMS.items() for alias in aliases}
_BRACKETS = re.compile(r"\[([^\]]*)\]|\(([^)]*)\)")
# Words in a status header that make yes/true mean "blocked" rather than "active".
_BLOCKING_WORDS = ("block", "suspend", "geblokkeerd", "disabled", "inactive")


def normalise(header: str) -> str:
    """Lower-case ASCII letters and digits only: how headers are compared."""
    decomposed = unicodedata.normalize("NFKD", header)
    return re.sub(r"[^a-z0-9]", "", decomposed.encode("ascii", "ignore").decode().lower())


def _candidates(header: str) -> list[str]:
    inside = [a or b for a, b in _BRACKETS.findall(header)]
    outside = _BRACKETS.sub(" ", header)
    return [normalise(header), *(normalise(text) for text in inside), normalise(outside)]


def suggest_field(header: str, profile_fields: dict[str, str]) -> str | None:
    """The field a header most likely means; profile_fields maps key -> label."""
    # A field's own key wins over another field's label that reads the same.
    by_profile = {normalise(label): k for k, label in profile_fields.items()}
    by_profile |= {normalise(k): k for k in profile_fields}
    for candidate in _candidates(header):
        if not candidate:
            continue
        if candidate in by_profile:
            return by_profile[candidate]
        if candidate in _LOOKUP and (
            _LOOKUP[candidate] in BUILTIN_FIELDS or _LOOKUP[candidate] in profile_fields
        ):
            return _LOOKUP[candidate]
        if candidate.replace("required", "") in _LOOKUP:
            return _LOOKUP[candidate.replace("required", "")]
    return None


def status_means_blocked(header: str) -> bool:
    """Whether yes/true/1 in this status column means blocked (Entra, Moodle) not active."""
    return any(word in normalise(header) for word in _BLOCKING_WORDS)


def suggest_mapping(
    headers: Sequence[str], profile_fields: dict[str, str], samples: Sequence[Sequence[str]] = ()
) -> dict[int, str | None]:
    """A field (or None) per column; a field is suggested for one column only, the first."""
    taken: set[str] = set()
    result: dict[int, str | None] = {}
    for index, header in enumerate(headers):
        field = suggest_field(header, profile_fields) if header else None
        if field is None and not header and index < len(samples):
            values = [v for v in samples[index] if v.strip()]
            if values and all("@" in v for v in values):
                field = "email"
        if field in taken:
            field = None
        if field:
            taken.add(field)
        result[index] = field
    return result


@dataclass(frozen=True)
class MappingCheck:
    """The outcome of checking a mapping: problems, and the columns left out."""

    issues: list[Issue]
    ignored_columns: list[str]

    @property
    def ok(self) -> bool:
        """Whether the mapping can be used for an import."""
        return not any(issue.severity == ERROR for issue in self.issues)


def check_mapping(
    headers: Sequence[str],
    mapping: dict[int, str | None],
    known_fields: Iterable[str],
    required: Iterable[str] = ("email",),
) -> MappingCheck:
    """Duplicate headers, two columns on one field, unknown fields, missing required fields."""
    known = set(known_fields)
    issues: list[Issue] = []
    seen_headers: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = header.strip().casefold()
        if key and key in seen_headers and mapping.get(index):
            issues.append(
                issue(
                    "ambiguous-column",
                    column=header,
                    header=header,
                    first=seen_headers[key] + 1,
                    second=index + 1,
                )
            )
        seen_headers.setdefault(key, index)
    by_field: dict[str, list[int]] = {}
    for index, field in mapping.items():
        if field:
            by_field.setdefault(field, []).append(index)
    for field, indexes in by_field.items():
        if field not in known:
            issues.append(issue("unknown-field", column=headers[indexes[0]], field=field))
        if len(indexes) > 1:
            names = " and ".join(repr(headers[i] or f"column {i + 1}") for i in indexes)
            issues.append(
                issue("field-mapped-twice", column=headers[indexes[1]], field=field, columns=names)
            )
    for field in required:
        if field not in by_field:
            issues.append(issue("missing-required-field", field=field))
    ignored = [headers[i] or f"column {i + 1}" for i, f in sorted(mapping.items()) if not f]
    return MappingCheck(issues, ignored)


def headers_key(headers: Sequence[str]) -> str:
    """A fingerprint of a file's headers, to recognise the same layout again."""
    return hashlib.sha256(json.dumps([normalise(h) for h in headers]).encode()).hexdigest()


def save_mapping(
    *,
    session: Session,
    name: str,
    headers: Sequence[str],
    mapping: dict[int, str | None],
    created_by: str = "",
) -> SavedMapping:
    """Save or replace a named mapping for this header layout."""
    name = name.strip()
    if not name:
        raise ValueError("Give the mapping a name.")
    saved = queries.get_saved_mapping_by_name(session=session, name=name)
    saved = saved or SavedMapping(name=name, headers_key="")
    saved.headers_key = headers_key(headers)
    saved.mapping = {
        "headers": list(headers),
        "fields": [mapping.get(i) for i in range(len(headers))],
    }
    saved.created_by = created_by
    session.add(saved)
    session.flush()
    return saved


def find_saved_mapping(*, session: Session, headers: Sequence[str]) -> SavedMapping | None:
    """The newest saved mapping made for exactly these headers."""
    return queries.get_newest_saved_mapping(session=session, headers_key=headers_key(headers))


def mapping_from_saved(saved: SavedMapping) -> dict[int, str | None]:
    """The column -> field mapping a saved mapping holds."""
    return dict(enumerate(saved.mapping.get("fields", [])))
