"""Real servers for tests: an SFTP server (asyncssh's), an HTTP server with a token, and
Instroom's own processes (`streamlit run app.py`, `cli.py scim serve`)."""

import asyncio
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncssh
import orjson


@dataclass
class SftpServer:
    """An SFTP server on 127.0.0.1 serving `root`; `logins` records every password tried."""

    root: Path
    port: int
    host_key: str
    logins: list[tuple[str, str]] = field(default_factory=list)

    def source(self, path: str, user: str = "hr") -> str:
        return f"sftp://{user}@127.0.0.1:{self.port}{path}"


@contextmanager
def sftp_server(
    root: Path, *, user: str = "hr", password: str = "nacht-export", client_key: str | None = None
) -> Iterator[SftpServer]:
    """Run an SFTP server in its own thread and loop for the test's length."""
    loop = asyncio.new_event_loop()
    key = asyncssh.generate_private_key("ssh-ed25519")
    public = key.export_public_key("openssh").decode().strip()
    state: dict[str, Any] = {}
    logins: list[tuple[str, str]] = []

    class Server(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, given: str) -> bool:
            logins.append((username, given))
            return username == user and given == password

        def public_key_auth_supported(self) -> bool:
            return client_key is not None

        def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
            logins.append((username, "(key)"))
            offered = key.export_public_key("openssh").decode().split()[:2]
            return username == user and client_key is not None and offered == client_key.split()[:2]

    async def start() -> None:
        state["server"] = await asyncssh.create_server(
            Server,
            "127.0.0.1",
            0,
            server_host_keys=[key],
            sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=os.fsencode(root)),
        )

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    port = state["server"].sockets[0].getsockname()[1]
    try:
        yield SftpServer(root, port, public, logins)
    finally:
        state["server"].close()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


@dataclass
class HttpServer:
    """An HTTP server on 127.0.0.1 answering with `answer(path, query)`; `requests` records."""

    port: int
    requests: list[tuple[str, dict[str, str]]]
    host: str = "127.0.0.1"

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"


Answer = Callable[[str, dict[str, list[str]]], tuple[int, str, bytes]]


@contextmanager
def http_server(
    answer: Answer, *, token_header: str, token: str, host: str = "127.0.0.1"
) -> Iterator[HttpServer]:
    """Serve answer() to requests carrying the token; others get 401 with AFAS's words.

    An answer with a 3xx status sends its body as the Location to go on to.
    """
    requests: list[tuple[str, dict[str, str]]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append((self.path, dict(self.headers)))
            if self.headers.get(token_header) != token:
                status, kind, body = (
                    401,
                    "application/json",
                    orjson.dumps(
                        {"externalMessage": "Ongeldig token", "profitLogReference": "ABC123"}
                    ),
                )
            else:
                parts = urlsplit(self.path)
                status, kind, body = answer(parts.path, parse_qs(parts.query))
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", body.decode())
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield HttpServer(server.server_address[1], requests, host)
    finally:
        server.shutdown()
        server.server_close()


def afas_connector(rows: list[dict[str, Any]]) -> Answer:
    """AFAS Profit's GetConnector: {"skip", "take", "rows"} pages (take defaults to 100)."""

    def answer(path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        skip = int(query.get("skip", ["0"])[0])
        take = int(query.get("take", ["100"])[0])
        page = {"skip": skip, "take": take, "rows": rows[skip : skip + take]}
        return 200, "application/json; charset=utf-8", orjson.dumps(page)

    return answer


@contextmanager
def dripping_server(every: float) -> Iterator[str]:
    """An HTTP server that answers its headers, then one byte every `every` seconds, for ever."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\n\r\nemail\n")
                while not stop.wait(every):
                    try:
                        connection.sendall(b"a")
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/export.csv"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def instroom_env(port: int, database_url: str, **extra: str) -> dict[str, str]:
    """This environment, with Instroom's database and its own address on 127.0.0.1:port."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "INSTROOM_BASE_URL": f"http://127.0.0.1:{port}",
        **extra,
    }


def portal_command(port: int, launcher: tuple[str, ...] = ("-m", "streamlit")) -> list[str]:
    """`streamlit run app.py` on 127.0.0.1:port, headless, as the tests run the portal."""
    return [
        sys.executable,
        *launcher,
        "run",
        "app.py",
        "--server.headless=true",
        f"--server.port={port}",
        "--server.address=127.0.0.1",
        "--browser.gatherUsageStats=false",
        # The server runs the code as it was when it started, even if files change.
        "--server.fileWatcherType=none",
    ]


@contextmanager
def serving(command: list[str], env: dict[str, str], ready: str, cwd: Path) -> Iterator[None]:
    """Run one of Instroom's processes until the test ends; ready answers 200 once it is up.
    Its output may hold no traceback."""
    server = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(ready, timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        server.kill()
        raise AssertionError(f"the server did not start: {server.communicate()[0]}")
    try:
        yield
    finally:
        server.terminate()
        try:
            output = server.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            server.kill()
            output = server.communicate()[0]
    assert "Traceback" not in output, output
