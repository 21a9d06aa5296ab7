"""Instroom's command line: the twin of the portal, over the same core.

A module per group of commands, each with the parsers of its commands. Each command imports
what it uses when it runs: `cli.py --help` and a mistyped argument answer at once instead of
loading pandas, SQLAlchemy and the readers first.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from cli import accounts, common, imports, keys, links, scim, users, worker
from cli.common import _, say
from core.i18n import N_, choose_language
from core.issues import BUSY_MESSAGE, InstroomError, Refusal


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command."""
    parser = argparse.ArgumentParser(
        prog="cli.py",
        description=_("Instroom on the command line. Uses DATABASE_URL, or the app's SQLite file."),
    )
    parser.add_argument(
        "--lang",
        choices=("nl", "en"),
        help=_(
            "language of messages (default: INSTROOM_LANGUAGE, then LANG, else English); "
            "JSON keys and issue codes are the same in every language"
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for group in (accounts, imports, users, links, keys, scim, worker):
        group.add_parsers(commands)
    return parser


def _refused(args: argparse.Namespace, exc: Refusal) -> int:
    """A refusal: its code and message on standard error, and with --json the contract too."""
    language = common.language_of(args)
    findings = exc.findings
    first = exc.issue.as_contract(language)
    if getattr(args, "json", False):
        print(
            json.dumps(
                {
                    "job_id": None,
                    "status": "failed",
                    "dry_run": getattr(args, "dry_run", False),
                    "counts": None,
                    "issues": [first, *(f.as_contract(language) for f in findings)],
                    "emails": None,
                },
                ensure_ascii=False,
            )
        )
    print(f"{_('error')}: {exc.text(common.LANGUAGE)} ({exc.code})", file=sys.stderr)
    for finding in findings:
        word = _(common.SEVERITY_WORDS.get(finding.severity, finding.severity))
        print(f"{word}: {finding.text(common.LANGUAGE)} ({finding.code})", file=sys.stderr)
    return common.EXIT_UNUSABLE


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    common.LANGUAGE = choose_language(common.requested_language(arguments), os.environ)
    args = build_parser().parse_args(arguments)
    try:
        return args.handler(args)
    except Refusal as exc:
        return _refused(args, exc)
    except InstroomError as exc:
        text = getattr(exc, "text", None)
        print(f"{_('error')}: {text(common.LANGUAGE) if callable(text) else exc}", file=sys.stderr)
        return common.EXIT_UNUSABLE
    except OSError as exc:
        where = exc.filename or _("a file")
        print(f"{_('error')}: {exc.strerror or exc} ({where}).", file=sys.stderr)
        return common.EXIT_UNUSABLE
    except Exception as exc:
        # Only a command that reached the database can meet its errors; it loaded db.engine.
        from db.engine import database_errors, is_busy

        if not isinstance(exc, database_errors()):
            raise
        if is_busy(exc):
            print(f"{_('error')}: {_(BUSY_MESSAGE)}", file=sys.stderr)
            return common.EXIT_UNUSABLE
        if "full" in str(getattr(exc, "orig", exc)):
            full = _(
                "the disk of the database is full; nothing of the import was kept. "
                "Free some space and run it again."
            )
            print(f"{_('error')}: {full}", file=sys.stderr)
            return common.EXIT_UNUSABLE
        unusable = N_("the database cannot be used ({error}). Check DATABASE_URL.")
        print(
            f"{_('error')}: " + say(unusable, error=f"{type(exc).__name__}: {exc}"),
            file=sys.stderr,
        )
        return common.EXIT_UNUSABLE
