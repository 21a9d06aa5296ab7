"""The wizard's state in the browser session, the file as read, and the step buttons."""

import hashlib
from dataclasses import dataclass, field

import streamlit as st

from core.config import Settings
from core.i18n import N_
from core.options import ImportOptions
from core.read import (
    ReadOptions,
    Table,
)
from core.source import read_file, read_source
from ui.text import _

STEPS = [
    N_("Upload"),
    N_("Map columns"),
    N_("Options"),
    N_("Preview"),
    N_("Confirm"),
    N_("Progress"),
]


PAGE_SIZE = 50


OUTCOME_LABELS = {
    "create": N_("Create"),
    "update": N_("Update"),
    "unchanged": N_("Unchanged"),
    "skip": N_("Skip"),
    "block": N_("Block"),
    "unblock": N_("Unblock"),
    "rename": N_("Rename"),
    "error": N_("Rejected"),
}


@dataclass
class Wizard:
    """Everything chosen so far; kept in session state so Back and Next lose nothing."""

    step: int = 0
    file_name: str = ""
    data: bytes = b""
    encoding: str | None = None
    delimiter: str | None = None
    # None: detected; False: no header row; a number: the header's row in the sheet.
    header_choice: int | bool | None = None
    sheet: str | None = None
    mapping: dict[int, str | None] | None = None
    mapping_note: str = ""
    options: ImportOptions = field(default_factory=ImportOptions)
    corrections: dict[int, dict[int, str]] = field(default_factory=dict)
    notify_me: bool = False
    job_id: int | None = None

    def read_options(self, settings: Settings) -> ReadOptions:
        choice = self.header_choice
        return ReadOptions(
            encoding=self.encoding,
            delimiter=self.delimiter,
            has_header=False if choice is False else None,
            header_row=choice if choice is not False else None,
            sheet=self.sheet,
            **settings.read_limits,
        )

    def key(self) -> str:
        """A fingerprint of every choice that changes the preview."""
        parts = (
            hashlib.sha256(self.data).hexdigest(),
            self.encoding,
            self.delimiter,
            self.header_choice,
            self.sheet,
            self.mapping,
            self.options,
            self.corrections,
        )
        return hashlib.sha256(repr(parts).encode()).hexdigest()


GENERATION_KEY = "wizard_generation"


FIX_ROWS_SHOWN = 200


def get_wizard() -> Wizard:
    """The wizard of this browser session."""
    return st.session_state.setdefault("wizard", Wizard())


# Streamlit reruns the page on every click: the file is read once per reading choice.
_read = st.cache_data(max_entries=8, show_spinner="Reading the file…")(read_file)


def current_table(wizard: Wizard, settings: Settings) -> Table:
    """The file as read with the chosen options, with the corrections made in the preview."""
    options = wizard.read_options(settings)
    return read_source(wizard.data, wizard.file_name, options, wizard.corrections, read=_read)


def step_buttons(wizard: Wizard, *, next_label: str = N_("Next"), can_next: bool = True) -> None:
    # Side by side, Next right after Back, whatever the words' lengths.
    with st.container(horizontal=True):
        if wizard.step > 0 and st.button(_("Back"), key=f"back_{wizard.step}"):
            wizard.step -= 1
            st.rerun()
        if st.button(
            _(next_label), type="primary", disabled=not can_next, key=f"next_{wizard.step}"
        ):
            wizard.step += 1
            st.rerun()
