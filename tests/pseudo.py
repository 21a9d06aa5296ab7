"""A pseudo-language for the tests: Dutch with every catalog text wrapped as ⟦…⟧.

Rendered in it, a screen, download or mail shows at once which of its words did not come
through the catalog (they stand outside every ⟦…⟧) and which codes, keys, `None` or `nan`
reached a reader (they stand anywhere in the text).
"""

import functools
import gettext
import io
import re
from collections.abc import Iterable
from zoneinfo import available_timezones

import pytest
from babel import Locale
from babel.dates import get_day_names, get_month_names
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlmodel import Session

from core import i18n
from core.catalog import load_catalog_view
from core.fields import BUILTIN_FIELDS
from core.issues import ISSUE_TYPES
from db.vocabulary import EmailStatus, JobStatus, RunStatus

OPEN, CLOSE = "⟦", "⟧"
PSEUDO = "nl"
_WRAPPED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
_WORD = re.compile(r"[^\W\d_]{2,}")
# Addresses and code are data, not words: email and web addresses, Markdown link targets,
# placeholders shown as code (`{{ voornaam }}`).
_ADDRESS = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|https?://[^\s⟦⟧)]+|(?<!\S)/[^\s⟦⟧]+|\]\([^)⟦⟧]*\)|`[^`⟦⟧]*`"
)
# Words no catalog writes: product and format names, and the Dutch month and day names
# Babel (CLDR) writes in dates.
PROPER_NAMES = frozenset(
    {"Instroom", "AFAS", "Plek", "Huddle", "Caseware", "Excel", "CSV", "TSV", "TXT", "XLSX"}
    | {"XLSB", "XLS", "ODS", "XLSM", "UTF", "SMTP", "SCIM", "HTTPS", "HTTP", "Nederlands"}
    | {"English", "Language", "Taal", "URL"}
)
CLDR_WORDS = (
    frozenset(
        word
        for width in ("wide", "abbreviated")
        for names in (get_month_names(width, locale="nl"), get_day_names(width, locale="nl"))
        for name in names.values()
        for word in _WORD.findall(str(name))
    )
    | {w for name in Locale("nl").languages.values() for w in _WORD.findall(name)}
    | {"en", "of"}
)
# Time zones are shown by their IANA names (Europe/Amsterdam), which are names.
ZONE_WORDS = frozenset(w for zone in available_timezones() for w in _WORD.findall(zone))
# What a reader must never see, in or outside a wrapped text: machine words and empty values.
RAW_WORDS = (
    frozenset(ISSUE_TYPES)
    | frozenset(BUILTIN_FIELDS) - {"email", "username"}
    | {s.value for s in (*JobStatus, *RunStatus, *EmailStatus)}
    | {"revert-restore", "employee", "invited", "None", "nan", "NaT", "null"}
)
_RAW = re.compile(
    r"(?<![\w.@-])("
    + "|".join(map(re.escape, sorted(RAW_WORDS, key=len, reverse=True)))
    + r")(?![\w@-])|\(s\)"
)


@functools.cache
def pseudo_translations() -> gettext.GNUTranslations:
    """The Dutch catalog with every translation wrapped."""
    with i18n.catalog_file(PSEUDO).open("rb") as handle:
        catalog = read_po(handle, locale=PSEUDO, domain=i18n.DOMAIN)
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.string, tuple):
            message.string = tuple(f"{OPEN}{s}{CLOSE}" for s in message.string)
        elif message.string:
            message.string = f"{OPEN}{message.string}{CLOSE}"
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make Dutch the pseudo-language in this process."""
    real = i18n.translations
    monkeypatch.setattr(
        i18n,
        "translations",
        lambda language: pseudo_translations() if language == PSEUDO else real(language),
    )


def catalogue_words(*, session: Session) -> set[str]:
    """The words of the organisation's own names: groups, roles, levels, languages, fields."""
    view = load_catalog_view(session=session)
    names = [name for named in view.named.values() for _id, name, _count in named]
    names += [name for _id, _code, name in view.languages]
    names += [term for terms in view.terms.values() for _id, term in terms]
    names += [label for _id, _key, label, *_rest in view.fields]
    return words(" ".join(names))


def words(text: str) -> set[str]:
    """The words of a text (of data the reader wrote, such as a file or a template)."""
    return set(_WORD.findall(text))


def findings(text: str, data: Iterable[str] = ()) -> list[str]:
    """What in text a Dutch reader would see that is not Dutch: unwrapped words and raw ones.

    data are the words of the reader's own data (file, catalogue, templates), allowed anywhere.
    """
    shown = re.sub(r"\\(.)", r"\1", text)  # markdown escapes are not what the reader sees
    shown = _ADDRESS.sub(" ", shown)
    found = [f"raw {m.group(0)!r} in {shown!r}" for m in _RAW.finditer(shown)]
    rest, previous = shown, None
    while rest != previous:
        previous, rest = rest, _WRAPPED.sub(" ", rest)
    allowed = PROPER_NAMES | CLDR_WORDS | ZONE_WORDS | set(data)
    found += [f"unwrapped {w!r} in {shown!r}" for w in _WORD.findall(rest) if w not in allowed]
    return found
