"""Where a link fetches its file: a folder on the server, an SFTP server, or an HTTPS URL.

Every source is read with the upload limit checked before the bytes are held: a folder or
SFTP file by its size, an HTTP answer while it streams, all pages of one together. A fetch
runs in a child process (core.sandbox) with one deadline and the read's memory cap, so no
source can hold the worker or the portal's memory. A folder link reads only below the
folders the server's owner allows, never through a symbolic link out of them.
"""

import asyncio
import csv
import fnmatch
import io
import os
import stat
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

from core.i18n import N_, render
from core.issues import Refusal, UnusableFileError
from core.sandbox import LimitExceeded, run_limited

FOLDER, SFTP, HTTPS = "folder", "sftp", "https"
# Hosts a plain http:// link may reach: tokens travel with the request, so only this machine.
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
TIMEOUT_SECONDS = 60.0
# A whole fetch (every page, every retry of a slow server) ends by then.
FETCH_SECONDS = 300.0
# Never read by a link, whatever the owner allows: the system's live files.
SYSTEM_FOLDERS = (Path("/proc"), Path("/sys"), Path("/dev"))
READ_CHUNK = 1 << 20
# A GetConnector asked without take answers 100 rows; links ask for pages of this size.
AFAS_PAGE = 1000
DONE_FOLDER = "done"


class SourceError(Refusal):
    """A link's source cannot be reached or read; the message says what answered."""


@dataclass(frozen=True)
class Source:
    """A parsed source: `folder:/path/pattern`, `sftp://user@host:port/path/pattern`, a URL."""

    kind: str
    text: str
    folder: str = ""
    pattern: str = ""
    host: str = ""
    port: int = 0
    user: str = ""

    def describe(self, language: str = "en") -> str:
        """The source in words, without secrets (there are none in its text)."""
        if self.kind == FOLDER:
            template = N_("folder {folder}, newest file matching {pattern}")
        elif self.kind == SFTP:
            template = N_("SFTP {user}@{host}:{port}, {folder}/{pattern}")
        else:
            template = N_("web address {address}")
        return render(template, language, {**vars(self), "address": self.text})


@dataclass(frozen=True)
class Fetched:
    """A file a source gave: its name, its bytes, where it was and the server's host key."""

    name: str
    data: bytes
    path: str = ""
    host_key: str | None = None


@dataclass(frozen=True)
class FolderRule:
    """Which folders a folder link may read: below `allowed`, never in `private` (data, keys)."""

    allowed: tuple[Path, ...] = ()
    private: tuple[Path, ...] = ()

    def check(self, folder: str) -> Path:
        """The folder's real path when a link may read it; SourceError says why not."""
        if not self.allowed:
            raise SourceError.of("invalid-source", "folders-off")
        real = Path(os.path.realpath(folder))
        roots = [Path(os.path.realpath(a)) for a in self.allowed]
        private = [Path(os.path.realpath(p)) for p in (*self.private, *SYSTEM_FOLDERS)]
        if any(real.is_relative_to(p) for p in private):
            raise SourceError.of("invalid-source", "folder-private", folder=folder)
        if not any(real.is_relative_to(root) for root in roots):
            allowed = ", ".join(str(a) for a in self.allowed)
            raise SourceError.of(
                "invalid-source", "folder-not-allowed", folder=folder, allowed=allowed
            )
        return real


@dataclass(frozen=True)
class Access:
    """What a fetch may use: the link's secrets, header name, pinned key and the limits."""

    max_bytes: int
    max_rows: int
    secrets: dict[str, str]
    header: str | None = None
    host_key: str | None = None
    timeout: float = TIMEOUT_SECONDS
    deadline: float = FETCH_SECONDS
    max_memory_bytes: int = 4096 * 1024 * 1024
    folders: FolderRule = field(default_factory=FolderRule)


def parse_source(text: str) -> Source:
    """The source a link names, checked; SourceError says how to write it when it is wrong."""
    text = text.strip()
    if text.startswith("folder:"):
        path = PurePosixPath(text.removeprefix("folder:"))
        if not path.is_absolute() or path.name in {"", ".", ".."}:
            raise SourceError.of("invalid-source", "folder", value=text)
        return Source(FOLDER, text, folder=str(path.parent), pattern=path.name)
    parts = urlsplit(text)
    if parts.password:
        raise SourceError.of("invalid-source", "password-in-address")
    if parts.scheme == "sftp":
        path = PurePosixPath(parts.path or "/")
        if not parts.hostname or not parts.username or path.name in {"", ".", ".."}:
            raise SourceError.of("invalid-source", "sftp", value=text)
        return Source(
            SFTP,
            text,
            folder=str(path.parent),
            pattern=path.name,
            host=parts.hostname,
            port=parts.port or 22,
            user=parts.username,
        )
    if parts.scheme == "https" and parts.hostname:
        return Source(HTTPS, text, host=parts.hostname)
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS:
        return Source(HTTPS, text, host=parts.hostname)
    if parts.scheme == "http":
        raise SourceError.of("invalid-source", "plain-http", value=text)
    raise SourceError.of("invalid-source", value=text)


def fetch(source: Source, access: Access) -> Fetched:
    """The newest matching file (folder, SFTP) or the answer of the web address.

    Fetched in a child process: past the deadline or the memory cap it is stopped.
    """
    if source.kind == FOLDER:
        access.folders.check(source.folder)
    try:
        return run_limited(
            _fetch_here,
            source,
            access,
            memory_bytes=access.max_memory_bytes,
            seconds=access.deadline,
        )
    except LimitExceeded as exc:
        if exc.limit == "time":
            raise SourceError.of(
                "source-unavailable", "deadline", seconds=int(access.deadline)
            ) from None
        if exc.limit == "crashed":
            raise SourceError.of("source-unavailable", "stopped") from None
        raise UnusableFileError.of(
            "too-large", "memory", limit=exc.memory_bytes / 1_048_576
        ) from None


def _fetch_here(source: Source, access: Access) -> Fetched:
    if source.kind == FOLDER:
        return _fetch_folder(source, access)
    if source.kind == SFTP:
        return _run_async(_fetch_sftp(source, access))
    return _fetch_http(source, access)


def move_to_done(fetched: Fetched, folders: FolderRule) -> Path:
    """Move a fetched folder file into done/ beside it, so the next run does not see it.

    Only within an allowed folder, and never through a symbolic link.
    """
    path = Path(fetched.path)
    folder = folders.check(str(path.parent))
    directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        try:
            os.mkdir(DONE_FOLDER, 0o700, dir_fd=directory)
        except FileExistsError:
            if not stat.S_ISDIR(
                os.stat(DONE_FOLDER, dir_fd=directory, follow_symlinks=False).st_mode
            ):
                raise SourceError.of(
                    "source-unavailable", "not-regular", name=DONE_FOLDER, folder=folder
                ) from None
        target = f"{DONE_FOLDER}/{path.name}"
        os.rename(path.name, target, src_dir_fd=directory, dst_dir_fd=directory)
    finally:
        os.close(directory)
    return folder / target


def _too_large(limit: int) -> UnusableFileError:
    return UnusableFileError.of("too-large", "source", limit=limit / 1_048_576)


def _newest(candidates: list[tuple[float, str, int]], source: Source) -> tuple[str, int]:
    if not candidates:
        raise SourceError.of(
            "source-unavailable", "no-match", folder=source.folder, pattern=source.pattern
        )
    _mtime, name, size = max(candidates)
    return name, size


def _fetch_folder(source: Source, access: Access) -> Fetched:
    folder = access.folders.check(source.folder)
    try:
        directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        raise SourceError.of("source-unavailable", "no-folder", folder=source.folder) from None
    try:
        candidates = [
            (entry.stat(follow_symlinks=False).st_mtime, entry.name, 0)
            for entry in os.scandir(directory)
            if fnmatch.fnmatchcase(entry.name, source.pattern)
            and entry.is_file(follow_symlinks=False)
        ]
        name, _size = _newest(candidates, source)
        try:
            handle = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=directory)
        except OSError:
            raise SourceError.of(
                "source-unavailable", "not-regular", name=name, folder=source.folder
            ) from None
        with os.fdopen(handle, "rb") as file:
            status = os.fstat(file.fileno())
            if not stat.S_ISREG(status.st_mode):
                raise SourceError.of(
                    "source-unavailable", "not-regular", name=name, folder=source.folder
                )
            if status.st_size > access.max_bytes:
                raise _too_large(access.max_bytes)
            data = file.read(access.max_bytes + 1)
        if len(data) > access.max_bytes:
            raise _too_large(access.max_bytes)
    finally:
        os.close(directory)
    return Fetched(name, data, path=str(folder / name))


def _run_async(coroutine: Any) -> Fetched:
    """Run a coroutine to its end from synchronous code, also where a loop already runs."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        result: Fetched = asyncio.run(coroutine)
        return result
    with ThreadPoolExecutor(1) as pool:
        fetched: Fetched = pool.submit(asyncio.run, coroutine).result()
        return fetched


async def _fetch_sftp(source: Source, access: Access) -> Fetched:
    import asyncssh

    where = f"{source.host}:{source.port}"
    key = access.secrets.get("private_key")
    # The pinned key is checked before any password or key is offered to the server.
    pinned = [asyncssh.import_public_key(access.host_key)] if access.host_key else None
    try:
        async with asyncssh.connect(
            source.host,
            source.port,
            username=source.user,
            password=access.secrets.get("password"),
            client_keys=[asyncssh.import_private_key(key)] if key else None,
            known_hosts=(pinned, [], []) if pinned else None,
            connect_timeout=access.timeout,
            agent_path=None,
        ) as connection:
            host_key = connection.get_server_host_key()
            seen = host_key.export_public_key("openssh").decode().strip() if host_key else None
            async with connection.start_sftp_client() as sftp:
                fetched = await _read_newest_sftp(sftp, source, access, where)
            return Fetched(fetched.name, fetched.data, path=fetched.path, host_key=seen)
    except asyncssh.HostKeyNotVerifiable:
        raise SourceError.of("host-key-changed", where=where) from None
    except asyncssh.PermissionDenied:
        raise SourceError.of(
            "source-unavailable", "sftp-login", where=where, user=source.user
        ) from None
    except (TimeoutError, OSError, asyncssh.Error) as exc:
        raise SourceError.of(
            "source-unavailable", "sftp", where=where, answer=str(exc) or type(exc).__name__
        ) from None


async def _read_newest_sftp(sftp: Any, source: Source, access: Access, where: str) -> Fetched:
    import asyncssh

    try:
        names = await sftp.listdir(source.folder)
    except asyncssh.SFTPError as exc:
        raise SourceError.of(
            "source-unavailable",
            "sftp-folder",
            folder=source.folder,
            where=where,
            answer=exc.reason,
        ) from None
    candidates: list[tuple[float, str, int]] = []
    for name in names:
        if fnmatch.fnmatchcase(name, source.pattern):
            attrs = await sftp.stat(f"{source.folder}/{name}")
            if attrs.type == asyncssh.FILEXFER_TYPE_REGULAR:
                candidates.append((attrs.mtime or 0, name, attrs.size or 0))
    name, size = _newest(candidates, source)
    if size > access.max_bytes:
        raise _too_large(access.max_bytes)
    path = f"{source.folder}/{name}"
    async with sftp.open(path, "rb") as handle:
        data: bytes = await handle.read(access.max_bytes + 1)
    if len(data) > access.max_bytes:
        raise _too_large(access.max_bytes)
    return Fetched(name, data, path=path)


def _fetch_http(source: Source, access: Access) -> Fetched:
    name = PurePosixPath(urlsplit(source.text).path).name or "export"
    url, pages, rows, received = source.text, 0, [], 0
    while True:
        # One size limit for every page together: a server paging for ever stops here.
        body, content_type = _get(url, access, access.max_bytes - received)
        received += len(body)
        if not _is_json(body, content_type):
            if pages:
                raise SourceError.of("source-unavailable", "not-json-page", url=url)
            suffix = "" if "." in name else (".xlsx" if body[:4] == b"PK\x03\x04" else ".csv")
            return Fetched(name + suffix, body, path=source.text)
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise SourceError.of(
                "source-unavailable", "bad-json", url=url, answer=str(exc)
            ) from None
        page, next_url = _afas_page(url, answer)
        if page is None:
            raise SourceError.of("source-unavailable", "json-shape", url=url)
        rows.extend(page)
        pages += 1
        if len(rows) > access.max_rows:
            raise UnusableFileError.of("too-large", "rows", rows=len(rows), limit=access.max_rows)
        if next_url is None:
            break
        url = next_url
    data = _rows_to_csv(rows)
    if len(data) > access.max_bytes:
        raise _too_large(access.max_bytes)
    return Fetched(PurePosixPath(name).stem + ".csv", data, path=source.text)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect within the link's own server only, so its token goes nowhere else."""

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        if _origin(newurl) != _origin(req.full_url):
            raise SourceError.of("source-unavailable", "redirect", url=req.full_url, target=newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _get(url: str, access: Access, limit: int) -> tuple[bytes, str]:
    headers = {"Accept": "application/json, text/csv, */*", "User-Agent": "Instroom"}
    if access.header and access.secrets.get("header"):
        headers[access.header] = access.secrets["header"]
    request = urllib.request.Request(url, headers=headers)
    opener = urllib.request.build_opener(_SameOriginRedirects)
    try:
        with opener.open(request, timeout=access.timeout) as response:
            chunks, size = [], 0
            while chunk := response.read1(READ_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise _too_large(access.max_bytes)
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        answer = exc.read(500).decode("utf-8", "replace").strip()
        raise SourceError.of(
            "source-unavailable",
            "http-status",
            url=url,
            status=exc.code,
            reason=exc.reason,
            answer=answer or "(no text)",
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceError.of("source-unavailable", "http", url=url, answer=str(reason)) from None


def _is_json(body: bytes, content_type: str) -> bool:
    return "json" in content_type.lower() or body.lstrip()[:1] in (b"[", b"{")


def _afas_page(url: str, answer: Any) -> tuple[list[dict[str, Any]] | None, str | None]:
    """The rows of one answer and the address of the next page, if there is one.

    A JSON array is the whole list; AFAS Profit's GetConnector answers
    {"skip": 0, "take": N, "rows": [...]}, and a full page means another may follow.
    """
    if isinstance(answer, list):
        return (answer if all(isinstance(r, dict) for r in answer) else None), None
    if not isinstance(answer, dict) or not isinstance(answer.get("rows"), list):
        return None, None
    rows = answer["rows"]
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    take = int(answer.get("take") or query.get("take") or AFAS_PAGE)
    skip = int(answer.get("skip") or query.get("skip") or 0)
    if not rows or len(rows) < take:
        return rows, None
    query |= {"skip": str(skip + len(rows)), "take": str(take)}
    return rows, urlunsplit(parts._replace(query=urlencode(query)))


def _rows_to_csv(rows: list[dict[str, Any]]) -> bytes:
    """JSON objects as CSV text, every key a column in the order first seen, values as text."""
    headers: dict[str, None] = {}
    for row in rows:
        headers.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(_cell(row.get(h)) for h in headers)
    return out.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return orjson.dumps(value).decode()
