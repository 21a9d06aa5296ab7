"""The portal's two secrets, each in a file of its own that only Instroom's user can read.

The cookie key signs login cookies; the vault key seals the secrets kept in the database
(a link's token, the mail server's password). Neither is derived from the other, so one
leaked value gives up only what it guards. Both can be rotated.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from core.config import Settings, SettingsError, check_cookie_key, default_key_file

VAULT_KEY_FILE = "vault_key"


def cookie_key_path(settings: Settings) -> Path:
    """Where a generated cookie key is kept."""
    return settings.cookie_key_file or default_key_file(settings.database_url)


def vault_key_path(settings: Settings) -> Path:
    """Where the vault key is kept: beside the cookie key unless set apart."""
    return settings.vault_key_file or cookie_key_path(settings).with_name(VAULT_KEY_FILE)


def cookie_key(settings: Settings) -> str:
    """The configured cookie key, or the one generated once into its private file."""
    if settings.cookie_key:
        return settings.cookie_key
    path = cookie_key_path(settings)
    key = read_key_file(path, make=lambda: secrets.token_urlsafe(48))[0]
    try:
        check_cookie_key(key)
    except SettingsError as exc:
        raise SettingsError(f"The cookie key in {path} is unusable; delete it. {exc}") from None
    return key


def vault_keys(settings: Settings) -> list[str]:
    """The vault's keys, newest first: the first seals, every one opens (during a rotation).

    An installation from before the keys were apart sealed with the cookie key: that key
    opens its secrets until core.key_rotation has sealed them again with the vault key.
    """
    path = vault_key_path(settings)
    legacy = _legacy_cookie_key(settings) if not path.exists() else None
    keys = read_key_file(path, make=lambda: "\n".join(filter(None, [_new_vault_key(), legacy])))
    if len(keys[0]) < 43:
        raise SettingsError(f"The vault key in {path} is unusable; restore it from a backup.")
    return keys


def _new_vault_key() -> str:
    return secrets.token_urlsafe(32)


def _legacy_cookie_key(settings: Settings) -> str | None:
    """The cookie key that sealed secrets before the vault had a key of its own, if any."""
    if settings.cookie_key:
        return settings.cookie_key
    path = cookie_key_path(settings)
    return path.read_text(encoding="ascii").strip() if path.exists() else None


def read_key_file(path: Path, *, make: Callable[[], str]) -> list[str]:
    """The keys in path (one a line), the file made first with make() when it is missing."""
    if not path.exists():
        write_key_file(path, make(), replace=False)
    os.chmod(path, 0o600)
    keys = path.read_text(encoding="ascii").split()
    if not keys:
        raise SettingsError(f"The key file {path} is empty; delete it and start again.")
    return keys


def write_key_file(path: Path, text: str, *, replace: bool) -> None:
    """Write a key file whole or not at all (a full disk leaves no empty file behind).

    With replace False a file another process made first wins, and is kept.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def rotate_cookie_key(settings: Settings) -> Path:
    """A new cookie key: every login cookie issued so far stops working."""
    if settings.cookie_key:
        raise SettingsError(
            "INSTROOM_COOKIE_KEY is set in the environment or secrets.toml; change it there."
        )
    path = cookie_key_path(settings)
    write_key_file(path, secrets.token_urlsafe(48), replace=True)
    return path


def start_vault_rotation(settings: Settings) -> list[str]:
    """Put a new vault key first, the old ones behind it; finish_vault_rotation drops those."""
    keys = [_new_vault_key(), *vault_keys(settings)]
    write_key_file(vault_key_path(settings), "\n".join(keys), replace=True)
    return keys


def finish_vault_rotation(settings: Settings) -> None:
    """Keep only the newest vault key, once every secret is sealed with it."""
    write_key_file(vault_key_path(settings), vault_keys(settings)[0], replace=True)
