"""A real browser (Debian's Chromium through Playwright) against `streamlit run app.py`."""

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, Inbox, free_port
from tests.servers import instroom_env, portal_command, serving

CHROMIUM = next(
    filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))),
    "/usr/bin/chromium",
)
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _require_browser() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: .ci/run installs chromium.")
        pytest.skip("Chromium is not installed here (apt-get install chromium)")


class Portal:
    """A running portal: its address, its database and its environment."""

    def __init__(self, url: str, database_url: str, env: dict[str, str]) -> None:
        self.url, self.database_url, self.env = url, database_url, env


@pytest.fixture
def portal(tmp_path: Path, inbox: Inbox) -> Iterator[Portal]:
    """`streamlit run app.py` on a fresh SQLite database and a free port, mailing to inbox."""
    yield from _portal(tmp_path, inbox, ["-m", "streamlit"])


@pytest.fixture
def pseudo_portal(tmp_path: Path, inbox: Inbox) -> Iterator[Portal]:
    """The same portal with Dutch as the pseudo-language (tests/pseudo.py)."""
    yield from _portal(tmp_path, inbox, ["-m", "tests.e2e.pseudo_portal"])


def _portal(
    tmp_path: Path,
    inbox: Inbox,
    launcher: list[str],
    *,
    port: int | None = None,
    extra: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Portal]:
    _require_browser()
    port = port or free_port()
    database_url = f"sqlite:///{tmp_path / 'data' / 'instroom.db'}"
    env = instroom_env(
        port,
        database_url,
        INSTROOM_SMTP_HOST=inbox.host,
        INSTROOM_SMTP_PORT=str(inbox.port),
        INSTROOM_MAIL_FROM="instroom@example.org",
        INSTROOM_LINK_FOLDERS=str(tmp_path),
        **(extra_env or {}),
    )
    command = portal_command(port, tuple(launcher)) + (extra or [])
    url = f"http://127.0.0.1:{port}"
    with serving(command, env, f"{url}/_stcore/health", ROOT):
        yield Portal(url, database_url, env)


@pytest.fixture
def chromium() -> Iterator:
    """Debian's Chromium, headless, through Playwright."""
    from playwright.sync_api import sync_playwright

    _require_browser()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


# Counts what the page has sent and is still waiting for, so that wait_idle knows a click's
# rerun is still coming: Streamlit sends a widget's change from a timer after the click, and
# an upload goes over HTTP before its rerun is asked for.
NETWORK_WATCH = """
(() => {
  let net;
  try {
    net = window.top.__instroomNet;  // a frame of the page counts on its page's books
  } catch (error) {}
  if (!net) {
    net = { requests: 0, awaiting: false, last: performance.now() };
    net.touch = () => { net.last = performance.now(); };
    window.__instroomNet = net;
    // A frame the page adds (the login's cookie frame) starts its request after the rerun.
    new MutationObserver((records) => {
      const framed = (node) => node.nodeName === "IFRAME" || node.querySelector?.("iframe");
      if (records.some((record) => [...record.addedNodes].some(framed))) net.touch();
    }).observe(document, { childList: true, subtree: true });
  }
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (!this.__instroomWatched) {
      this.__instroomWatched = true;
      this.addEventListener("message", () => { net.awaiting = false; net.touch(); });
    }
    net.awaiting = true;
    net.touch();
    return send.call(this, data);
  };
  const begin = () => { net.requests++; net.touch(); };
  const end = () => { net.requests--; net.touch(); };
  const xhrSend = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    begin();
    this.addEventListener("loadend", end);
    return xhrSend.apply(this, args);
  };
  const fetch = window.fetch;
  window.fetch = (...args) => { begin(); return fetch(...args).finally(end); };
})();
"""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    """A failed journey's report holds the text of every open page; screenshots are kept."""
    # CI keeps only a failed run's output, and a timeout alone does not say at which step.
    outcome = yield
    report = outcome.get_result()
    browser = getattr(item, "funcargs", {}).get("chromium")
    if report.when != "call" or not report.failed or browser is None:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    for c, context in enumerate(browser.contexts):
        for p, page in enumerate(context.pages):
            try:
                text = page.inner_text("body", timeout=5_000)[-4_000:]
                page.screenshot(path=str(ARTIFACTS / f"failed-{item.name}-{c}-{p}.png"))
            except Exception as exc:  # a page that is gone still leaves the others
                text = f"(could not be read: {exc})"
            report.sections.append((f"page {c}.{p} at {page.url}", text))


def new_context(browser, locale: str = "en-GB"):
    """A browser context whose pages wait_idle can watch (its tabs share the cookies)."""
    context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1000})
    context.add_init_script(NETWORK_WATCH)
    context.set_default_timeout(60_000)
    return context


def new_page(browser, locale: str = "en-GB"):
    """A page in a context of its own."""
    return new_context(browser, locale).new_page()


@pytest.fixture
def browser_page(portal: Portal, chromium) -> Iterator:
    """A fresh Chromium page on the portal."""
    yield new_page(chromium)


def wait_idle(page, quiet_ms: int = 250, timeout_s: float = 30) -> None:
    """Wait until the app has finished every rerun the last action caused, and stayed quiet."""
    deadline = time.monotonic() + timeout_s
    called = time.monotonic()
    while time.monotonic() < deadline:
        state = page.evaluate(
            """() => {
              const net = window.__instroomNet;
              return net && {
                script: document.querySelector('[data-test-script-state]')
                  ?.getAttribute('data-test-script-state'),
                busy: net.requests > 0 || net.awaiting,
                quiet: performance.now() - net.last,
              };
            }"""
        )
        assert state is not None, "open pages in a context made by new_context()"
        quiet_ms_now = min(state["quiet"], (time.monotonic() - called) * 1000)
        if state["script"] == "notRunning" and not state["busy"] and quiet_ms_now >= quiet_ms:
            return
        time.sleep(0.05)
    raise AssertionError("the app kept running")


def shot(page, name: str) -> None:
    """Save a screenshot of this step for the README and for whoever debugs a failure."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
