"""Secrets kept in the database (a link's password, key or token), encrypted with Fernet.

The key is derived from the portal's secret (the cookie key), so a copy of the database
alone reveals nothing; a different key for each purpose, so one never unlocks the other.
"""

import base64
import hashlib
import hmac

import orjson
from cryptography.fernet import Fernet, InvalidToken

from core.issues import Refusal


class SecretError(Refusal):
    """A stored secret cannot be opened with this portal's secret."""


class Vault:
    """Seals and opens small secrets with a key derived from the portal's secret."""

    def __init__(self, portal_secret: str, purpose: str = "link secrets") -> None:
        derived = hmac.new(portal_secret.encode(), purpose.encode(), hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, values: dict[str, str]) -> str:
        """The values as a token only this portal's secret opens."""
        return self._fernet.encrypt(orjson.dumps(values)).decode("ascii")

    def open(self, token: str) -> dict[str, str]:
        """The values sealed in a token; SecretError when the portal's secret changed."""
        if not token:
            return {}
        try:
            values: dict[str, str] = orjson.loads(self._fernet.decrypt(token.encode("ascii")))
        except (InvalidToken, ValueError):
            raise SecretError.of("secret-unreadable") from None
        return values
