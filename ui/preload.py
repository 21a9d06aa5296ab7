"""The pages' heavier modules, loaded once in the background so that no first visit waits."""

import importlib
import logging
import threading

# What a first visit to Import, History, Users or Settings loaded while the person waited
# (0.2-0.4 s): the wizard and the panels, openpyxl, pyarrow for every st.dataframe, and
# altair for History's chart.
MODULES = (
    "pyarrow",
    "altair",
    "openpyxl",
    "ui.wizard",
    "ui.history_panels",
    "ui.exports",
    "ui.settings_tabs",
    "ui.mail_settings",
    "ui.links",
)
_started = threading.Lock()
log = logging.getLogger(__name__)


def preload_page_modules() -> None:
    """Start loading MODULES in a background thread, once per process."""
    if _started.acquire(blocking=False):
        threading.Thread(target=_load, name="instroom-preload", daemon=True).start()


def _load() -> None:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:  # the page that needs it reports it when opened
            log.warning("Could not preload %s: %s", name, exc)
    _warm_chart_schema()


def _warm_chart_schema() -> None:
    """Altair reads and compiles the Vega-Lite schema on its first chart (0.06 s more)."""
    try:
        import altair
        import pandas as pd

        altair.Chart(pd.DataFrame({"day": [1]})).mark_bar().encode(x="day").to_dict()
    except Exception as exc:  # a warm-up only: History draws its chart without it
        log.warning("Could not warm up the chart library: %s", exc)
