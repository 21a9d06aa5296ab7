"""Languages: gettext catalogs kept as .po files (Babel), and numbers written per language.

English is the source language (every msgid is the English text); Dutch is in
locale/nl/LC_MESSAGES/instroom.po, compiled in memory on first use so the .po file is the
only copy. `python -m core.i18n` refreshes the catalog after texts change.
"""

import functools
import gettext as _gettext
import io
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from string import Formatter
from typing import Any
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = PROJECT_ROOT / "locale"
DOMAIN = "instroom"
LANGUAGES = {"nl": "Nederlands", "en": "English"}
SOURCE_LANGUAGE = "en"
# Python's grouping and decimal point, rewritten by Babel for the language.
_NUMBER_SPEC = re.compile(r"^,(?:\.(\d+)f)?$")


def N_(message: str) -> str:
    """Mark a text for the catalog without translating it here (gettext_noop)."""
    return message


# A text with a singular and a plural form; the catalog holds one form per plural of the language.
Plural = tuple[str, str]


def NP_(singular: str, plural: str) -> Plural:
    """Mark a text with its plural form for the catalog without translating it here."""
    return singular, plural


def catalog_file(language: str) -> Path:
    """The .po file of a language."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> _gettext.NullTranslations:
    """The compiled catalog of a language; English (and an unknown language) is the source."""
    if language == SOURCE_LANGUAGE or language not in LANGUAGES:
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with catalog_file(language).open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def gettext(message: str, language: str) -> str:
    """The message in the language (the English text when there is no translation)."""
    return translations(language).gettext(message)


def ngettext(forms: Plural, count: int, language: str) -> str:
    """The form of a text for count (1 regel, 2 regels) in the language."""
    return translations(language).ngettext(forms[0], forms[1], count)


class _LocalFormatter(Formatter):
    """str.format, with `{n:,}` and `{n:,.1f}` written as the language writes numbers."""

    def __init__(self, language: str) -> None:
        self.language = language

    def format_field(self, value: Any, format_spec: str) -> str:
        match = _NUMBER_SPEC.match(format_spec)
        if match and isinstance(value, int | float) and self.language != SOURCE_LANGUAGE:
            return format_number(value, self.language, decimals=int(match.group(1) or 0))
        return str(super().format_field(value, format_spec))


def format_number(value: float, language: str, *, decimals: int = 0) -> str:
    """A number as the language writes it: 4.812 and 1,5 in Dutch, 4,812 and 1.5 in English."""
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return str(format_decimal(value, format=pattern, locale=language))


def format_day(moment: datetime, language: str, time_zone: str) -> str:
    """The day of a moment in the portal's time zone: 9 december 2026, 9 December 2026."""
    from babel.dates import format_date

    return str(format_date(moment.astimezone(ZoneInfo(time_zone)), "d MMMM y", locale=language))


def format_moment(moment: datetime, language: str, time_zone: str) -> str:
    """A moment in the portal's time zone: 23 november 2026 14:05 (the database keeps UTC)."""
    from babel.dates import format_datetime

    local = moment.astimezone(ZoneInfo(time_zone))
    return str(format_datetime(local, "d MMMM y HH:mm", locale=language))


def render_counted(forms: Plural, count: int, language: str, **params: Any) -> str:
    """A text with a plural in the form for count, filled in the language's way."""
    return _LocalFormatter(language).format(ngettext(forms, count, language), count=count, **params)


def language_name(code: str, language: str) -> str:
    """A language code as the reader calls the language: nl -> Nederlands, Dutch."""
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(language)
    except (ValueError, UnknownLocaleError):
        return code
    return str(name[:1].upper() + name[1:]) if name else code


def format_list(parts: list[str], language: str) -> str:
    """Parts joined as the language joins them: a, b en c; a, b, and c."""
    from babel.lists import format_list as babel_list

    # British English, as the portal's English is: no comma before "and".
    locale = "en_GB" if language == "en" else language
    return str(babel_list(parts, locale=locale)) if parts else ""


def render(template: str, language: str, params: Mapping[str, Any]) -> str:
    """An English template, translated, filled with its parameters in the language's way."""
    return _LocalFormatter(language).format(gettext(template, language), **params)


def choose_language(requested: str | None, environ: Mapping[str, str]) -> str:
    """The CLI's language: --lang, else INSTROOM_LANGUAGE, else LANG (nl_NL.UTF-8), else English."""
    for value in (requested, environ.get("INSTROOM_LANGUAGE"), environ.get("LANG")):
        code = (value or "").split("_")[0].split(".")[0].lower()
        if code in LANGUAGES:
            return code
    return SOURCE_LANGUAGE


def catalog_messages() -> set[str | Plural]:
    """Every text the catalogs must translate: the issue registry and the marked strings
    (a text with a plural as its pair of forms)."""
    from babel.messages.extract import extract_python

    from core.issues import ISSUE_TYPES, PARAMETER_WORDS

    messages: set[str | Plural] = {m for t in ISSUE_TYPES.values() for m in t.messages.values()}
    messages |= {t.meaning for t in ISSUE_TYPES.values()}
    messages |= set(PARAMETER_WORDS)
    keywords: dict[str, Any] = {"_": None, "N_": None, "NP_": (1, 2)}
    sources = [PROJECT_ROOT / "cli.py", PROJECT_ROOT / "app.py"]
    for folder in ("cli", "core", "ui", "pages", "db"):
        sources += sorted((PROJECT_ROOT / folder).rglob("*.py"))
    for path in sources:
        with path.open("rb") as handle:
            for _line, _function, message, _comments in extract_python(handle, keywords, [], {}):
                if isinstance(message, str):
                    messages.add(message)
                elif isinstance(message, tuple):
                    # NP_("row", "rows",) arrives with a None for its trailing comma.
                    forms = [m for m in message if m is not None]
                    if len(forms) == 2 and all(isinstance(m, str) for m in forms):
                        messages.add((forms[0], forms[1]))
    return messages


def update_catalogs() -> None:
    """Add new texts to every catalog and drop the ones no longer used (translations stay)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    wanted = sorted(catalog_messages(), key=lambda m: m if isinstance(m, str) else m[0])
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        path = catalog_file(language)
        with path.open("rb") as handle:
            old = read_po(handle, locale=language, domain=DOMAIN)
        new = Catalog(
            locale=language,
            domain=DOMAIN,
            project="Instroom",
            copyright_holder="Instroom",
            last_translator="Instroom <instroom@localhost>",
            language_team=f"{LANGUAGES[language]} <instroom@localhost>",
            # Kept, so a refresh that changes no text changes no line of the file.
            creation_date=old.creation_date,
            fuzzy=False,
        )
        for message in wanted:
            kept = old.get(message)
            empty: str | tuple[str, ...] = "" if isinstance(message, str) else ("", "")
            # A text that gained or lost its plural starts again untranslated.
            if kept is None or isinstance(kept.string, str) != isinstance(message, str):
                new.add(message, empty)
            else:
                new.add(message, kept.string)
        with path.open("wb") as handle:
            write_po(handle, new, width=100, sort_output=True)


if __name__ == "__main__":
    update_catalogs()
