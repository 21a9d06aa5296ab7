"""The route that turns a login run's one-time ticket into an HttpOnly cookie."""

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from core import login_cookie
from core.config import Settings


def client(base_url: str) -> TestClient:
    settings = Settings(database_url="sqlite://", base_url=base_url)
    return TestClient(Starlette(routes=login_cookie.routes(settings)), base_url=base_url)


def test_a_ticket_sets_the_cookie_httponly_once() -> None:
    portal = client("http://portal.test")
    ticket = login_cookie.TICKETS.issue("signed-token", 604800)
    answer = portal.post(login_cookie.ROUTE, content=ticket)
    assert answer.status_code == 204
    cookies = answer.headers.get_list("set-cookie")
    assert cookies[0] == (
        "instroom_auth=signed-token; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
    )
    # A provider's sign-in hands over once: Streamlit's identity cookies are deleted.
    assert [c.split("=")[0] for c in cookies[1:]] == ["_streamlit_user", "_streamlit_user_tokens"]
    assert all("Max-Age=0" in c for c in cookies[1:])
    assert answer.headers["cache-control"] == "no-store"
    # A ticket works once: seen in a log or a page, it is worth nothing afterwards.
    assert portal.post(login_cookie.ROUTE, content=ticket).status_code == 403
    assert portal.post(login_cookie.ROUTE, content="a guess").status_code == 403


def test_over_https_the_cookie_is_secure_and_bound_to_the_host() -> None:
    portal = client("https://portal.example.nl")
    ticket = login_cookie.TICKETS.issue("", 0)
    answer = portal.post(login_cookie.ROUTE, content=ticket)
    assert answer.headers.get_list("set-cookie")[0] == (
        "__Host-instroom_auth=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax; Secure"
    )


def test_a_ticket_expires_and_another_site_cannot_post_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    portal = client("http://portal.test")
    ticket = login_cookie.TICKETS.issue("signed-token", 60)
    foreign = portal.post(
        login_cookie.ROUTE, content=ticket, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403 and "set-cookie" not in foreign.headers
    assert portal.post(login_cookie.ROUTE, content="x" * 10_000).status_code == 413
    assert portal.get(login_cookie.ROUTE).status_code == 405
    later = login_cookie._now() + login_cookie.TICKET_SECONDS + 1
    monkeypatch.setattr(login_cookie, "_now", lambda: later)
    assert portal.post(login_cookie.ROUTE, content=ticket).status_code == 403
