"""The screens' words in the reader's language: the account's own, else the browser's."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from core.i18n import LANGUAGES, N_, Plural, format_moment, format_number, gettext, ngettext
from core.source import PASTED

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
    if not created_by:
        return "—"
    if created_by.startswith("link "):
        return _("the link {name}").format(name=created_by.removeprefix("link "))
    return _("the command line") if created_by == "cli" else created_by


def shown(frame: pd.DataFrame | list[dict[str, Any]], time_zone: str) -> pd.DataFrame:
    """A table as the reader sees it: headings and statuses in their words, times local."""
    out = pd.DataFrame(frame).copy()
    zone = ZoneInfo(time_zone)
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert(zone).dt.tz_localize(None)
    for words in ("Status", "Severity"):
        if words in out.columns:
            out[words] = out[words].map(lambda s: _(s).replace("_", " ") if s else s)
    if "File" in out.columns:  # a pasted list has no file name, only these words
        out["File"] = out["File"].map(lambda f: _(f) if f == PASTED else f)
    if "Who" in out.columns:
        out["Who"] = out["Who"].map(starter)
    return out.rename(columns=lambda c: _(c) if isinstance(c, str) else c)


def reason(exc: Exception) -> str:
    """A refusal's message in the reader's language (refusals not in the catalog yet: as is)."""
    text = getattr(exc, "text", None)
    return str(text(current_language())) if callable(text) else str(exc)


def bold(heading: str) -> str:
    """A heading above what follows it, on a line of its own (Markdown)."""
    return f"**{heading}**  \n"
