"""The one password rule, for portal accounts, activated users and imported passwords alike;
and imported passwords hashed before anything holds them, in a job's stored file too.

The rule is NIST SP 800-63B's: length, not composition. At least 10 characters, at most
bcrypt's 72 bytes, none of the person's own names or address (nor "instroom"), and not easy
to guess by zxcvbn's estimate (common passwords, repeats, sequences, keyboard rows, dates).
"""

import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import bcrypt

# Imported passwords are hashed with a lower bcrypt cost than portal accounts: a file with
# thousands of passwords would otherwise take minutes; 10 rounds is still well above the
# OWASP minimum for bcrypt.
IMPORTED_PASSWORD_ROUNDS = 10
MIN_PASSWORD_LENGTH = 10
# bcrypt only looks at the first 72 bytes; a longer password would be cut without a word.
MAX_PASSWORD_BYTES = 72
# zxcvbn's score 3: "safely unguessable" by an online attacker (10^8 guesses and more).
MIN_SCORE = 3
PasswordProblem = Literal["too-short", "too-long", "personal", "guessable"]
# A cell that holds a password's hash already (a job's stored file); no one types this.
PREHASHED = "\u2063bcrypt:"
# A stored file keeps a refused password as this and its reason, refused again as it was.
REFUSED = "\u2063refused:"
_WORDS = re.compile(r"[^\W_]{4,}")


def password_problem(password: str, personal: Iterable[str] = ()) -> PasswordProblem | None:
    """Why a password is refused, or None when it is fine.

    personal: the person's username, names and email address.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return "too-short"
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return "too-long"
    words = {"instroom"} | {
        w.casefold() for value in personal for w in _WORDS.findall(value.split("@")[0])
    }
    lowered = password.casefold()
    if any(word in lowered for word in words):
        return "personal"
    from zxcvbn import zxcvbn  # loaded by what sets a password, not by every command

    if zxcvbn(password, user_inputs=sorted(words))["score"] < MIN_SCORE:
        return "guessable"
    return None


def hash_imported(passwords: Sequence[str]) -> list[str]:
    """The bcrypt hash of every password (one already hashed is kept as it is)."""

    def hash_one(password: str) -> str:
        if password.startswith(PREHASHED):
            return password.removeprefix(PREHASHED)
        salt = bcrypt.gensalt(IMPORTED_PASSWORD_ROUNDS)
        return bcrypt.hashpw(password.encode("utf-8"), salt).decode("ascii")

    # bcrypt releases the GIL, so threads use every core.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(hash_one, passwords))


def sealed_cells(values: Sequence[str], personal: Sequence[Sequence[str]]) -> list[str]:
    """Password cells as a stored file may keep them: hashed, or a refused one as REFUSED
    and its reason (personal: each row's own names and address)."""
    problems = [
        None if _kept(v) else password_problem(v, row)
        for v, row in zip(values, personal, strict=True)
    ]
    typed = [v for v, p in zip(values, problems, strict=True) if not _kept(v) and p is None]
    hashes = dict(zip(typed, hash_imported(typed), strict=True))
    return [
        v if _kept(v) else REFUSED + p if p else PREHASHED + hashes[v]
        for v, p in zip(values, problems, strict=True)
    ]


def _kept(value: str) -> bool:
    """An empty or masked cell keeps the current password; a sealed one is sealed already."""
    return not value or set(value) <= {"*"} or value.startswith((PREHASHED, REFUSED))
