"""How long a person waits after a click: Instroom's pages beside a bare Streamlit page.

Usage:  python bench/click_bench.py [ROUNDS]
Starts `streamlit run app.py` on a fresh SQLite file and a bare page (a text input, a button
and an 8-row table) side by side, and clicks through both in Chromium (Debian's, through
Playwright). A click counts from the click until the app reports its rerun done and quiet.
Prints each action's median and its ratio to the bare page's click; at the end, History
once it holds a 20,000-row import, with that import closed and open.
"""

import functools
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BARE_PAGE = """
import pandas as pd
import streamlit as st
st.text_input("Name")
st.button("Go")
st.dataframe(pd.DataFrame({"a": range(8), "b": list("abcdefgh")}))
"""


def rows(round_: int) -> str:
    """Eight new people a round, so each round's import has something to do."""
    return "E-mail;Voornaam;Achternaam\n" + "".join(
        f"p{round_}.{i}@example.nl;Piet{i};Jansen\n" for i in range(8)
    )


PASSWORD = "een lang genoeg wachtwoord"
LARGE_ROWS = 20_000
STATE = (
    "() => document.querySelector('[data-test-script-state]')"
    "?.getAttribute('data-test-script-state')"
)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(script: Path, env: dict[str, str], cwd: Path = ROOT) -> tuple[subprocess.Popen, str]:
    port = _port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            return server, url
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{script} did not start")


def _settled(page, quiet_ms: int = 150) -> None:
    """Wait until the rerun a click started has finished and nothing reran after it."""
    started = time.monotonic()
    while page.evaluate(STATE) != "running" and time.monotonic() - started < 0.3:
        time.sleep(0.005)
    quiet = None
    while True:
        if page.evaluate(STATE) == "notRunning":
            quiet = quiet or time.monotonic()
            if (time.monotonic() - quiet) * 1000 >= quiet_ms:
                return
        else:
            quiet = None
        time.sleep(0.005)


def _timed(page, act: Callable[[], None]) -> float:
    started = time.monotonic()
    act()
    _settled(page)
    return time.monotonic() - started - 0.15  # the quiet spell is not the user's wait


def _opened(page, url: str) -> float:
    """Seconds from typing the address in a new tab until the page has run and is quiet."""
    started = time.monotonic()
    page.goto(url)
    while page.evaluate(STATE) is None:
        time.sleep(0.005)
    _settled(page)
    return time.monotonic() - started - 0.15


def _last_finished(database: str) -> float:
    """When the newest job ended, as a Unix time (the job's clock is this machine's)."""
    from sqlmodel import Session, col, select

    from db.engine import get_engine
    from db.models import ImportJob

    with Session(get_engine(database)) as session:
        job = session.exec(select(ImportJob).order_by(col(ImportJob.id).desc())).first()
    assert job is not None and job.finished_at is not None
    return job.finished_at.replace(tzinfo=UTC).timestamp()


def large_history(
    page, work: Path, env: dict[str, str], times: dict[str, list[float]], bare_clicks
) -> None:
    """History once it holds a large import, closed and opened: what 8-row files hide."""
    big = work / "groot.csv"
    people = "".join(f"g{i}@example.nl;Groot{i};Bestand\n" for i in range(LARGE_ROWS))
    big.write_text("E-mail;Voornaam;Achternaam\n" + people)
    command = [sys.executable, str(ROOT / "cli.py"), "import", str(big)]
    subprocess.run(command, env=env, check=True, capture_output=True)
    start = page.get_by_role("link", name="Start", exact=True)
    history = page.get_by_role("link", name="Geschiedenis", exact=True)
    for _ in range(3):
        start.click()
        _settled(page)
        bare_clicks()
        change = _timed(page, history.click)
        times.setdefault(f"History with a {LARGE_ROWS:,}-row import", []).append(change)
    title = page.locator("[data-testid=stExpander]", has_text="groot.csv").first
    times["that import's details opened"] = [_timed(page, title.locator("summary").first.click)]
    # A click on the page while the import is open: a status filter, on and off.
    succeeded = page.get_by_role("button", name="geslaagd", exact=True)
    for _ in range(2):
        bare_clicks()
        times.setdefault("a click on History with it open", []).append(
            _timed(page, succeeded.click)
        )


def main(rounds: int = 5) -> None:
    from playwright.sync_api import sync_playwright

    from core.accounts import create_account
    from db.engine import get_engine, session_scope

    work = Path(tempfile.mkdtemp(prefix="instroom-clicks-"))
    database = f"sqlite:///{work / 'instroom.db'}"
    with session_scope(get_engine(database)) as session:
        create_account(session=session, username="beheer", role="admin", email="b@example.nl",
                       password=PASSWORD, language="nl")  # fmt: skip
    (work / "bare.py").write_text(BARE_PAGE)
    env = {**os.environ, "DATABASE_URL": database, "INSTROOM_LINK_FOLDERS": str(work)}
    app, app_url = _serve(ROOT / "app.py", env)
    # The bare page runs in a folder of its own: Streamlit's defaults, not Instroom's config.
    bare, bare_url = _serve(work / "bare.py", env, cwd=work)
    times: dict[str, list[float]] = {}
    # Each wizard step and page change with what it was, to name the slowest.
    labelled: list[tuple[float, str]] = []
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            context = browser.new_context(locale="nl-NL")
            bare_page, page = context.new_page(), context.new_page()
            bare_page.goto(bare_url)
            _settled(bare_page)

            def bare_clicks(count: int = 2) -> None:
                # Interleaved with the portal's actions, so both see the same machine; a tab
                # in the background is throttled, so the one clicked is brought to the front.
                bare_page.bring_to_front()
                for _ in range(count):
                    go = bare_page.get_by_role("button", name="Go")
                    times.setdefault("bare page: a click", []).append(_timed(bare_page, go.click))
                page.bring_to_front()

            bare_clicks()
            page.goto(app_url)
            _settled(page)
            page.get_by_label("Gebruikersnaam").fill("beheer")
            page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
            login = page.get_by_role("button", name="Inloggen")
            times["log in"] = [_timed(page, login.click)]
            for round_ in range(rounds):
                bare_clicks()
                for name in ("Import", "Geschiedenis", "Gebruikers", "Instellingen", "Start"):
                    link = page.get_by_role("link", name=name, exact=True)
                    took = _timed(page, link.click)
                    times.setdefault("a page change", []).append(took)
                    labelled.append((took, f"to {name}, round {round_ + 1}"))
                bare_clicks()
                for language in ("English", "Nederlands"):
                    page.get_by_label("Taal / Language").click()
                    option = page.get_by_role("option", name=language)
                    times.setdefault("the language switch", []).append(_timed(page, option.click))
                page.get_by_role("link", name="Import", exact=True).click()
                _settled(page)
                area = page.get_by_label("…of plak de rijen hier (met een kopregel)")
                area.fill(rows(round_))
                paste = functools.partial(area.press, "Control+Enter")
                times.setdefault("paste 8 rows", []).append(_timed(page, paste))
                bare_clicks()
                for _step in range(3):
                    nxt = page.get_by_role("button", name="Volgende", exact=True)
                    took = _timed(page, nxt.click)
                    times.setdefault("a wizard step", []).append(took)
                    labelled.append((took, f"wizard step {_step + 1}, round {round_ + 1}"))
                page.get_by_role("button", name="Volgende", exact=True).click()  # to confirm
                _settled(page)
                start = page.get_by_role("button", name="De import starten", exact=True)
                start.click()
                # Polled every 10 ms: wait_for answered up to 0.3 s late here.
                result, deadline = page.get_by_text(re.compile(r"Import \d+ is klaar")), 600
                while not result.count() and deadline:
                    time.sleep(0.01)
                    deadline -= 1
                on_screen = time.time()
                times.setdefault("import result after the job ended", []).append(
                    on_screen - _last_finished(database)
                )
                _settled(page)
                again = page.get_by_role("button", name="Nog een import starten", exact=True)
                _timed(page, again.click)
                for url, action in (
                    (bare_url, "opening the bare page"),
                    (app_url, "opening the portal"),
                ):
                    tab = context.new_page()
                    times.setdefault(action, []).append(_opened(tab, url))
                    tab.close()
                page.bring_to_front()
            large_history(page, work, env, times, bare_clicks)
            browser.close()
    finally:
        app.terminate()
        bare.terminate()
    floor = statistics.median(times["bare page: a click"])
    opened = statistics.median(times["opening the bare page"])
    print(f"{'action':34} {'median s':>9} {'max s':>7} {'x bare':>7}  (n)")
    for action, seconds in times.items():
        median, most = statistics.median(seconds), max(seconds)
        base = opened if action.startswith("opening") else floor
        ratio = "" if action.startswith("import result") else f"{median / base:7.1f}"
        print(f"{action:34} {median:9.3f} {most:7.3f} {ratio:>7}  ({len(seconds)})")
    clicks = times["a wizard step"] + times["a page change"]
    print(
        f"wizard steps and page changes: median {statistics.median(clicks) / floor:.1f}x, "
        f"slowest {max(clicks) / floor:.1f}x a bare click (goal 2x and 3x); opening the "
        f"portal {statistics.median(times['opening the portal']) / opened:.1f}x a bare page"
    )
    slowest = sorted(labelled, reverse=True)[:3]
    print("slowest: " + "; ".join(f"{label} {took:.2f} s" for took, label in slowest))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
