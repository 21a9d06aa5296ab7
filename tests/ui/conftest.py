"""AppTest helpers: the real app scripts on a fresh SQLite file."""

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from core import accounts
from core.worker import stop_background_worker
from db.engine import session_scope
from tests.conftest import ROOT, migrated_copy

APP = str(ROOT / "app.py")
ACTIVATE = "pages/5_Activate.py"
# Every page behind the login; the activation page is opened with a token from an email.
PAGES = sorted(
    f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py") if f"pages/{p.name}" != ACTIVATE
)
PASSWORD = "a long enough password"


@pytest.fixture
def app_db(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path, migrated_sqlite: Path
) -> Iterator[Engine]:
    """Point the app at a fresh database through DATABASE_URL, as an administrator would."""
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("INSTROOM_LINK_FOLDERS", str(tmp_path))
    monkeypatch.delenv("INSTROOM_COOKIE_KEY", raising=False)
    for name in ("INSTROOM_SMTP_HOST", "INSTROOM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    yield migrated_copy(sqlite_url, migrated_sqlite, None)
    stop_background_worker(sqlite_url)


@pytest.fixture
def make_account(app_db: Engine) -> Callable[..., None]:
    def make(username: str, role: str, language: str = "en") -> None:
        with session_scope(app_db) as session:
            accounts.create_account(
                session=session,
                username=username,
                role=role,
                email=f"{username}@example.org",
                password=PASSWORD,
                language=language,
            )

    return make


def new_app(page: str | None = None, locale: str = "en-GB") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.context = {"locale": locale}
    if page:
        at.switch_page(page)
    return at


def signed_in(username: str, role: str, page: str | None = None) -> AppTest:
    """An AppTest whose session is already signed in, as a login leaves it."""
    at = new_app(page)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.session_state["name"] = username
    at.session_state["session_version"] = 0
    return at.run()


def widget(elements, label: str):
    """The one widget with this label."""
    found = [w for w in elements if w.label == label]
    assert len(found) == 1, f"expected one widget labelled {label!r}, found {len(found)}"
    return found[0]


def texts(at: AppTest) -> str:
    """Everything the page says, to assert on like a reader would."""
    parts = [m.value for m in at.markdown] + [t.value for t in at.title]
    parts += (
        [e.value for e in at.error] + [s.value for s in at.success] + [i.value for i in at.info]
    )
    parts += [h.value for h in at.subheader] + [c.value for c in at.caption]
    parts += [w.value for w in at.warning]
    # Markdown escapes (md) are not what the reader sees: "example\.org" shows "example.org".
    return re.sub(r"\\(.)", r"\1", "\n".join(str(p) for p in parts))


def button(at: AppTest, label: str):
    return widget(at.button, label)
