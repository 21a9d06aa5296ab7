"""The screens' words in the reader's language: the account's own, else the browser's."""

import streamlit as st

from core.i18n import LANGUAGES, N_, format_number, gettext

LANGUAGE_KEY = "language"
# Words the code shows by value (an issue's severity), marked here for the catalog.
SHOWN_WORDS = (N_("error"), N_("warning"))
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


def number(value: float) -> str:
    """A count as the reader's language writes it (4.812 or 4,812)."""
    return format_number(value, current_language())
