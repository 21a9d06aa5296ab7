"""One Settings object from the environment and .streamlit/secrets.toml."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.entropy import estimated_bits
from core.issues import InstroomError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"

# Values copied from an example file are not secrets; refuse them rather than run insecurely.
PLACEHOLDERS = {"", "change-me", "changeme", "replace-me", "secret", "some_key", "xxx"}
MIN_COOKIE_KEY_LENGTH = 32
# What a guesser must try at the least: 128 bits, as NIST asks of a key (SP 800-131A).
MIN_COOKIE_KEY_BITS = 128
MAX_SESSION_DAYS = 14


class SettingsError(InstroomError):
    """The configuration cannot be used; the message says what to change."""


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one Instroom installation."""

    database_url: str
    cookie_key: str | None = None
    cookie_key_file: Path | None = None
    vault_key_file: Path | None = None
    cookie_name: str = "instroom_auth"
    session_days: float = 7.0
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "none"
    smtp_timeout: float = 10.0
    mail_budget: float = 60.0
    mail_from: str = "instroom@localhost"
    base_url: str = "http://localhost:8501"
    max_upload_bytes: int = 200 * 1024 * 1024
    max_rows: int = 1_000_000
    max_read_bytes: int = 4096 * 1024 * 1024
    activation_days: int = 7
    # Schedules are read, and times shown, in this zone; the database keeps UTC.
    time_zone: str = "Europe/Amsterdam"
    # The only folders a folder link may read (below them); none: folder links are off.
    link_folders: tuple[Path, ...] = ()
    # Proxies whose X-Forwarded-For is believed (addresses or networks); none: no proxy.
    trusted_proxies: tuple[str, ...] = ()
    # Sign-in through Microsoft: the Entra tenant (tid) whose people an invitation links.
    signin_tenant: str | None = None
    # Sign-in through Google: the Workspace domain (hd) whose people an invitation links.
    signin_domain: str | None = None
    # The names set in the environment or secrets.toml: the portal shows those as locked.
    from_outside: frozenset[str] = frozenset()

    @property
    def read_limits(self) -> dict[str, Any]:
        """The limits every way in reads a file with (ReadOptions' limit fields)."""
        return {
            "max_rows": self.max_rows,
            "max_bytes": self.max_upload_bytes,
            "max_memory_bytes": self.max_read_bytes,
        }

    @property
    def smtp_configured(self) -> bool:
        """Whether mail can be sent at all."""
        return bool(self.smtp_host)


def default_database_url() -> str:
    """The embedded SQLite database under data/."""
    return f"sqlite:///{PROJECT_ROOT / 'data' / 'instroom.db'}"


def _read_secrets(path: Path) -> dict[str, object]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path} is not valid TOML: {exc}. Fix the file or remove it.") from exc


def load_settings(env: dict[str, str] | None = None, secrets_file: Path = SECRETS_FILE) -> Settings:
    """Read settings: environment first, then secrets.toml, then defaults."""
    env = dict(os.environ) if env is None else env
    secrets = _read_secrets(secrets_file)

    def get(name: str, default: str | None = None) -> str | None:
        if name in env and env[name] != "":
            return env[name]
        if name in secrets:
            return str(secrets[name])
        return default

    cookie_key = get("INSTROOM_COOKIE_KEY")
    if cookie_key is not None:
        check_cookie_key(cookie_key)
    database_url = get("DATABASE_URL") or default_database_url()
    key_file = get("INSTROOM_COOKIE_KEY_FILE")
    vault_file = get("INSTROOM_VAULT_KEY_FILE")
    session_days = float(get("INSTROOM_SESSION_DAYS", "7") or 7)
    if not 0 < session_days <= MAX_SESSION_DAYS:
        raise SettingsError(
            f"INSTROOM_SESSION_DAYS is {session_days:g}; a login may last from a part of a day "
            f"up to {MAX_SESSION_DAYS} days."
        )
    security = (get("INSTROOM_SMTP_SECURITY", "none") or "none").lower()
    if security not in {"ssl", "starttls", "none"}:
        raise SettingsError(
            f"INSTROOM_SMTP_SECURITY is {security!r}; use 'ssl', 'starttls' or 'none'."
        )
    time_zone = get("INSTROOM_TIME_ZONE", "Europe/Amsterdam") or "Europe/Amsterdam"
    check_time_zone(time_zone)
    try:
        return Settings(
            database_url=database_url,
            cookie_key=cookie_key,
            cookie_key_file=Path(key_file) if key_file else default_key_file(database_url),
            vault_key_file=Path(vault_file) if vault_file else None,
            session_days=session_days,
            smtp_host=get("INSTROOM_SMTP_HOST"),
            smtp_port=int(get("INSTROOM_SMTP_PORT", "25") or 25),
            smtp_user=get("INSTROOM_SMTP_USER"),
            smtp_password=get("INSTROOM_SMTP_PASSWORD"),
            smtp_security=security,
            smtp_timeout=float(get("INSTROOM_SMTP_TIMEOUT", "10") or 10),
            mail_budget=float(get("INSTROOM_MAIL_BUDGET", "60") or 60),
            mail_from=get("INSTROOM_MAIL_FROM", "instroom@localhost") or "instroom@localhost",
            base_url=(get("INSTROOM_BASE_URL", "http://localhost:8501") or "").rstrip("/"),
            max_upload_bytes=int(get("INSTROOM_MAX_UPLOAD_MB", "200") or 200) * 1024 * 1024,
            max_rows=int(get("INSTROOM_MAX_ROWS", "1000000") or 1_000_000),
            max_read_bytes=int(get("INSTROOM_MAX_READ_MB", "4096") or 4096) * 1024 * 1024,
            activation_days=int(get("INSTROOM_ACTIVATION_DAYS", "7") or 7),
            time_zone=time_zone,
            link_folders=tuple(
                Path(p) for p in (get("INSTROOM_LINK_FOLDERS") or "").split(os.pathsep) if p
            ),
            trusted_proxies=tuple(
                (get("INSTROOM_TRUSTED_PROXIES") or "").replace(",", " ").split()
            ),
            signin_tenant=get("INSTROOM_SIGNIN_TENANT"),
            signin_domain=get("INSTROOM_SIGNIN_DOMAIN"),
            from_outside=frozenset(
                n for n in (*env, *secrets) if n.startswith("INSTROOM_") and get(n) is not None
            ),
        )
    except ValueError as exc:
        raise SettingsError(f"A numeric setting is not a whole number: {exc}.") from exc


def check_time_zone(name: str) -> None:
    """Refuse a time zone that is not in the IANA database (Europe/Amsterdam is)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"INSTROOM_TIME_ZONE is {name!r}, which is not a time zone name; use one such as "
            "Europe/Amsterdam or UTC."
        ) from None


def default_key_file(database_url: str) -> Path:
    """Where a generated cookie key is kept: beside the SQLite file, else under data/."""
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        return Path(database_url.removeprefix("sqlite:///")).parent / "cookie_key"
    return PROJECT_ROOT / "data" / "cookie_key"


def check_cookie_key(key: str) -> None:
    """Refuse a placeholder, short or guessable cookie secret."""
    if (
        key.strip().lower() in PLACEHOLDERS
        or len(key) < MIN_COOKIE_KEY_LENGTH
        or any(c.isspace() for c in key)
        or estimated_bits(key) < MIN_COOKIE_KEY_BITS
    ):
        raise SettingsError(
            "INSTROOM_COOKIE_KEY is a placeholder, shorter than 32 characters or not random "
            "enough (words such as change or secret, runs such as abcd or 1234, a repeated "
            "block, or spaces as in the example text). "
            'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))", '
            "or remove the setting and Instroom generates one in a file only it can read."
        )
