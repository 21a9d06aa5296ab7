"""Imported passwords: hashed before anything holds them, in a job's stored file too."""

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import bcrypt

# Imported passwords are hashed with a lower bcrypt cost than portal accounts: a file with
# thousands of passwords would otherwise take minutes; 10 rounds is still well above the
# OWASP minimum for bcrypt.
IMPORTED_PASSWORD_ROUNDS = 10
MIN_IMPORTED_PASSWORD = 8
# A cell that holds a password's hash already (a job's stored file); no one types this.
PREHASHED = "\u2063bcrypt:"
# A stored file keeps a too-short password as this, so it is refused as it was in the preview.
TOO_SHORT = "short"


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


def sealed_cells(values: Sequence[str]) -> list[str]:
    """Password cells as a stored file may keep them: hashed, a short one as TOO_SHORT."""
    typed = [v for v in values if v and not set(v) <= {"*"} and not v.startswith(PREHASHED)]
    hashes = dict(zip(typed, hash_imported(typed), strict=True))
    return [
        TOO_SHORT
        if v in hashes and len(v) < MIN_IMPORTED_PASSWORD
        else PREHASHED + hashes[v]
        if v in hashes
        else v
        for v in values
    ]
