"""What every command shares: the language of messages, exit codes, the engine, files."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from core.i18n import N_, gettext, render
from core.issues import Refusal, UnusableFileError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from core.config import Settings

EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE = 0, 1, 2
# The language of help and messages: --lang, else INSTROOM_LANGUAGE, else LANG, else English.
LANGUAGE = "en"


ROLE_WORDS = {"admin": N_("administrator"), "support": N_("support")}


def _(text: str) -> str:
    """A marked text of the command line, in its language."""
    return gettext(text, LANGUAGE)


def say(template: str, **params: object) -> str:
    """A marked message filled in the command line's language (numbers as 4.812 in Dutch)."""
    return render(template, LANGUAGE, params)


# The counts of the JSON contract, as the summary line names them in each language.
COUNT_NAMES = {
    "rows": N_("rows"),
    "created": N_("created"),
    "updated": N_("updated"),
    "unchanged": N_("unchanged"),
    "skipped": N_("skipped"),
    "blocked": N_("blocked"),
    "unblocked": N_("unblocked"),
    "renamed": N_("renamed"),
    "deactivated": N_("deactivated"),
    "errors": N_("errors"),
    "warnings": N_("warnings"),
}


SEVERITY_WORDS = {"error": N_("error"), "warning": N_("warning")}


class OutputError(Refusal):
    """An output path cannot be used; the message says why."""


def open_engine() -> Engine:
    from core.config import load_settings
    from db.engine import get_engine

    return get_engine(load_settings().database_url)


def context() -> tuple[Settings, Engine]:
    """The settings in use (with the time zone and mail server kept in Settings) and the engine."""
    from core.config import load_settings
    from core.key_rotation import finish_pending_rotation
    from core.saved_settings import effective_settings
    from db.engine import get_engine

    settings = load_settings()
    engine = get_engine(settings.database_url)
    finish_pending_rotation(engine=engine, settings=settings)
    return effective_settings(engine, settings), engine


def password_from_stdin(args: argparse.Namespace) -> str:
    """The first line of standard input; a password never goes on the command line."""
    from core.accounts import AccountError

    if not args.password_stdin:
        raise AccountError.of("account-refused", "password-stdin")
    return sys.stdin.readline().rstrip("\r\n")


def language_of(args: argparse.Namespace) -> str:
    """The language of messages (see LANGUAGE); codes never change with it."""
    return LANGUAGE


def requested_language(argv: Sequence[str]) -> str | None:
    """The --lang asked for, read before parsing: --help is printed while arguments are."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    return None


def status_words(status: str) -> str:
    """A job's or run's status in words."""
    return gettext(status, LANGUAGE).replace("_", " ")


def count_words(counts: dict[str, int]) -> str:
    """Counts as the summary line names them: rows 2, created 1, errors 1."""
    return ", ".join(
        f"{gettext(COUNT_NAMES[k], LANGUAGE)} {say('{n:,}', n=v)}"
        for k, v in counts.items()
        if (v or k == "rows") and k in COUNT_NAMES
    )


def write_file(path: Path, data: bytes) -> None:
    """Write an output file, never through a symbolic link (it could point anywhere)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        if path.is_symlink():
            raise OutputError.of("unusable-output", "symbolic-link", path=str(path)) from exc
        raise
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def parse_map(values: list[str]) -> list[tuple[str, str | None]]:
    pairs = []
    for value in values:
        header, sep, field = value.partition("=")
        if not sep:
            raise UnusableFileError.of("unknown-column", "map-syntax", value=value)
        pairs.append((header.strip(), field.strip() or None))
    return pairs
