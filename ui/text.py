"""The screens' words in the reader's language: the account's own, else the browser's."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from core.export import frame_in_words, starter_words, to_csv_bytes
from core.i18n import LANGUAGES, N_, Plural, format_moment, format_number, gettext, ngettext

LANGUAGE_KEY = "language"
# Words the code shows by value (an issue's severity), marked here for the catalog.
SHOWN_WORDS = (
    N_("error"),
    N_("warning"),
    N_("sent"),
    N_("skipped"),
    N_("sending"),
    N_("active"),
    N_("invited"),
    N_("Protected"),
)
# The portal's administrators work in Dutch; a browser that names no language we have gets it.
DEFAULT_LANGUAGE = "nl"


def browser_language() -> str:
    """The language the browser asks for (nl-NL -> nl), when the portal has it."""
    code = (st.context.locale or "").split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    """The signed-in account's language, else the browser's."""
    language: str = st.session_state.get(LANGUAGE_KEY) or browser_language()
    return language


def _(text: str) -> str:
    """A marked text of the screens, in the reader's language."""
    return gettext(text, current_language())


def counted(forms: Plural, count: int, **params: object) -> str:
    """A text marked with NP_ in the form for count, its {count} written as the reader's."""
    return ngettext(forms, count, current_language()).format(count=number(count), **params)


def number(value: float) -> str:
    """A count as the reader's language writes it (4.812 or 4,812)."""
    return format_number(value, current_language())


def moment(value: datetime, time_zone: str) -> str:
    """A stored (UTC) moment as the reader's clock shows it, in their language."""
    return format_moment(value, current_language(), time_zone)


def starter(created_by: str | None) -> str:
    """Who started an import, in words: an account's name, a link, or the command line."""
    return starter_words(created_by, current_language())


def shown(frame: pd.DataFrame | list[dict[str, Any]], time_zone: str) -> pd.DataFrame:
    """A table as the reader sees it: headings and statuses in their words, times local."""
    return frame_in_words(pd.DataFrame(frame), current_language(), time_zone)


def csv_when_clicked(frame: pd.DataFrame, time_zone: str) -> Callable[[], bytes]:
    """A table as the reader sees it, as CSV made only when its download is clicked."""
    # Read now: Streamlit runs the callable outside the page's script.
    language = current_language()
    return lambda: to_csv_bytes(frame_in_words(frame, language, time_zone))


def reason(exc: Exception) -> str:
    """A refusal's message in the reader's language (refusals not in the catalog yet: as is)."""
    text = getattr(exc, "text", None)
    return str(text(current_language())) if callable(text) else str(exc)


def bold(heading: str) -> str:
    """A heading above what follows it, on a line of its own (Markdown)."""
    return f"**{heading}**  \n"
