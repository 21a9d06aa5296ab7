"""Secrets kept in the database (a link's password, key or token), encrypted with Fernet.

The vault key lives in a file of its own (core.keys), never the cookie key, so a copy of
the database alone reveals nothing and a leaked cookie key opens no secret. A different
key is derived for each purpose, so one never unlocks the other.
"""

import base64
import hashlib
import hmac
from collections.abc import Sequence

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.issues import Refusal


class SecretError(Refusal):
    """A stored secret cannot be opened with this portal's vault key."""


class Vault:
    """Seals with the first key and opens with any of them (so a key can be rotated)."""

    def __init__(self, keys: str | Sequence[str], purpose: str = "link secrets") -> None:
        keys = [keys] if isinstance(keys, str) else list(keys)
        self._fernet = MultiFernet([_derive(key, purpose) for key in keys])

    def seal(self, values: dict[str, str]) -> str:
        """The values as a token only this portal's vault key opens."""
        return self._fernet.encrypt(orjson.dumps(values)).decode("ascii")

    def open(self, token: str) -> dict[str, str]:
        """The values sealed in a token; SecretError when no key of this vault opens it."""
        if not token:
            return {}
        try:
            values: dict[str, str] = orjson.loads(self._fernet.decrypt(token.encode("ascii")))
        except (InvalidToken, ValueError):
            raise SecretError.of("secret-unreadable") from None
        return values

    def reseal(self, token: str) -> str:
        """The same values sealed with the newest key (the token as it is when empty)."""
        if not token:
            return token
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError):
            raise SecretError.of("secret-unreadable") from None


def _derive(key: str, purpose: str) -> Fernet:
    derived = hmac.new(key.encode(), purpose.encode(), hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))
