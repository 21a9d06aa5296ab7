"""The catalogs: every message has its Dutch translation, with the same placeholders."""

import pickle
import re
from string import Formatter

import pytest
from babel.messages.pofile import read_po

from core.i18n import (
    NP_,
    catalog_file,
    catalog_messages,
    choose_language,
    format_number,
    render_counted,
)
from core.issues import UnusableFileError, issue


def placeholders(template: str) -> list[str]:
    """Each placeholder with its format and conversion, as written: {byte:,}, {name!r}."""
    return sorted(
        f"{n}:{s}!{c or ''}" for _, n, s, c in Formatter().parse(template) if n is not None
    )


def dutch_catalog():
    with catalog_file("nl").open("rb") as handle:
        return read_po(handle, locale="nl")


def forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """A message's forms: one, or a singular and a plural."""
    return (text,) if isinstance(text, str) else tuple(text)


def test_every_message_has_a_dutch_translation_with_the_same_placeholders() -> None:
    catalog = dutch_catalog()
    wanted = catalog_messages()
    assert any(isinstance(m, tuple) for m in wanted), "the texts with a plural are collected"
    untranslated = [m for m in wanted if not (catalog.get(m) and all(forms(catalog.get(m).string)))]
    assert untranslated == []
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert fuzzy == []
    for message in wanted:
        translated = forms(catalog.get(message).string)
        assert len(translated) == len(forms(message)), message
        for source, form in zip(forms(message), translated, strict=True):
            assert placeholders(form) == placeholders(source), message


def test_a_count_takes_the_form_its_number_wants() -> None:
    rows = NP_("{count:,} group ({names})", "{count:,} groups ({names})")
    assert render_counted(rows, 1, "nl", names="G3") == "1 groep (G3)"
    assert render_counted(rows, 1_200, "nl", names="…") == "1.200 groepen (…)"
    assert render_counted(rows, 1, "en", names="G3") == "1 group (G3)"
    assert render_counted(rows, 0, "en", names="") == "0 groups ()"


def test_the_catalog_holds_no_texts_the_code_no_longer_uses() -> None:
    unused = {m.id for m in dutch_catalog() if m.id} - catalog_messages()
    assert unused == set(), "run python -m core.i18n to drop them"


def test_a_message_reads_in_dutch_with_dutch_numbers() -> None:
    found = issue("too-large", "rows", rows=1_200_000, limit=1_000_000)
    assert found.text("nl") == (
        "Het bestand heeft 1.200.000 rijen; de grens is 1.000.000. Splits het in kleinere "
        "bestanden."
    )
    assert found.text("en") == found.message
    assert found.message.startswith("The file has 1,200,000 rows; the limit is 1,000,000.")
    assert (
        issue("too-large", "file", megabytes=12.25, limit=10)
        .text("nl")
        .startswith("Het bestand is 12,2 MB; de grens is 10 MB.")
    )


def test_instroom_s_own_words_in_a_message_are_translated_with_it() -> None:
    refused = issue(
        "too-many-deactivations", count=4, population=10, kind="employee", limit=2, setting="2"
    )
    assert "4 van de 10 gebruikers van de soort medewerker" in refused.text("nl")
    too_long = issue("value-too-long", row=3, field_name="first name", limit=200)
    assert too_long.text("nl") == "De voornaam is langer dan 200 tekens. Maak hem korter."


def test_a_refusal_from_the_reading_child_can_still_be_translated() -> None:
    refusal = UnusableFileError.of("unknown-sheet", sheet="Blad9", sheets="Blad1, Blad2")
    travelled = pickle.loads(pickle.dumps(refusal))
    assert (
        travelled.text("nl")
        == "De werkmap heeft geen werkblad met de naam 'Blad9'; wel: Blad1, Blad2."
    )
    assert travelled.code == "unknown-sheet"


@pytest.mark.parametrize(
    ("requested", "environ", "expected"),
    [
        ("nl", {"INSTROOM_LANGUAGE": "en"}, "nl"),
        (None, {"INSTROOM_LANGUAGE": "nl", "LANG": "en_GB.UTF-8"}, "nl"),
        (None, {"LANG": "nl_NL.UTF-8"}, "nl"),
        (None, {"LANG": "C.UTF-8"}, "en"),
        (None, {"LANG": "de_DE.UTF-8"}, "en"),
        (None, {}, "en"),
    ],
)
def test_the_command_line_language(requested: str | None, environ: dict, expected: str) -> None:
    assert choose_language(requested, environ) == expected


def test_numbers_as_each_language_writes_them() -> None:
    assert (format_number(4812, "nl"), format_number(4812, "en")) == ("4.812", "4,812")
    assert re.fullmatch(r"1,5", format_number(1.5, "nl", decimals=1))


def test_no_marked_text_hides_inside_an_f_string() -> None:
    """Babel's extractor does not look inside f-strings: a text marked there is never translated."""
    import ast

    from core.i18n import PROJECT_ROOT

    hidden = []
    sources = [PROJECT_ROOT / "app.py", *(PROJECT_ROOT / "pages").glob("*.py")]
    sources += [*(PROJECT_ROOT / "ui").rglob("*.py"), *(PROJECT_ROOT / "core").rglob("*.py")]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr):
                for call in ast.walk(node):
                    if (
                        isinstance(call, ast.Call)
                        and isinstance(call.func, ast.Name)
                        and call.func.id in {"_", "N_"}
                        and call.args
                        and isinstance(call.args[0], ast.Constant)
                    ):
                        hidden.append(f"{path.name}:{call.lineno}")
    assert hidden == []


def test_times_are_shown_on_the_portal_s_clock_across_daylight_saving() -> None:
    from datetime import UTC, datetime

    from core.i18n import format_moment

    zone = "Europe/Amsterdam"
    assert format_moment(datetime(2026, 7, 1, 12, 5, tzinfo=UTC), "nl", zone) == "1 juli 2026 14:05"
    assert format_moment(datetime(2026, 11, 23, 13, 5, tzinfo=UTC), "nl", zone) == (
        "23 november 2026 14:05"
    )
    # The hour the clocks go back happens twice; both are shown as the clock showed them.
    first = format_moment(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "en", zone)
    second = format_moment(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "en", zone)
    assert first == second == "25 October 2026 02:30"
