"""The SCIM service as an identity provider calls it, for the tests of tests/db."""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from sqlalchemy import Engine

from core import scim
from core.config import load_settings
from core.scim_server import Limits, build_app
from core.worker import stop_background_worker
from db.engine import session_scope


class Provider:
    """An identity provider calling the service with its token, as Entra ID does."""

    def __init__(self, app: Any, token: str) -> None:
        self.app, self.token = app, token

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None, raw: bytes = b""
    ) -> httpx2.Response:
        return asyncio.run(self.calls([(method, path, body)], token, raw))[0]

    async def calls(
        self, requests: list[tuple[str, str, Any]], token: str | None = None, raw: bytes = b""
    ) -> list[httpx2.Response]:
        headers = {
            "Authorization": f"Bearer {self.token if token is None else token}",
            "Content-Type": "application/scim+json",
        }
        transport = httpx2.ASGITransport(app=self.app)
        async with httpx2.AsyncClient(transport=transport, base_url="https://portal.nl") as client:
            return await asyncio.gather(
                *(
                    client.request(
                        method,
                        "/scim/v2" + path,
                        content=raw or (None if body is None else json.dumps(body).encode()),
                        headers=headers,
                    )
                    for method, path, body in requests
                )
            )


@pytest.fixture
def entra(db_url: str, engine: Engine) -> Iterator[Provider]:
    settings = load_settings(env={"DATABASE_URL": db_url})
    with session_scope(engine) as session:
        _connection, token = scim.create_connection(
            session=session, name="Entra ID", created_by="admin", welcome_new=False
        )
    app = build_app(settings, Limits(body_bytes=64_000, wrong_tokens=5, scan_users=50))
    yield Provider(_Mounted(app), token)
    # The service started this process's mail sender for the database; it goes with it.
    stop_background_worker(db_url)


class _Mounted:
    """The service under /scim, as the portal and `cli.py scim serve` mount it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = dict(scope, root_path="/scim")
        await self.app(scope, receive, send)
