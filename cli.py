"""Instroom's command line: the twin of the portal, over the same core."""

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from core import accounts, catalog
from core.accounts import AccountError
from core.catalog import CatalogError
from core.settings import SettingsError, load_settings
from db.engine import get_engine, session_scope

EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE = 0, 1, 2


def _engine() -> Engine:
    return get_engine(load_settings().database_url)


def cmd_create_account(args: argparse.Namespace) -> int:
    if not args.password_stdin:
        print("Give the password on standard input with --password-stdin.", file=sys.stderr)
        return EXIT_UNUSABLE
    password = sys.stdin.readline().rstrip("\r\n")
    with session_scope(_engine()) as session:
        accounts.create_account(
            session=session,
            username=args.username,
            email=args.email,
            role=args.role,
            password=password,
            name=args.name or "",
        )
    print(f"Created {args.role} account {args.username!r}.")
    return EXIT_OK


def cmd_protect(args: argparse.Namespace) -> int:
    with session_scope(_engine()) as session:
        user = catalog.set_user_protected(
            session=session, email=args.email, protected=not args.undo
        )
        state = "no longer protected" if args.undo else "protected: imports will not change it"
        print(f"{user.email} is {state}.")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command."""
    parser = argparse.ArgumentParser(
        prog="cli.py",
        description="Instroom on the command line. Uses DATABASE_URL, or the app's SQLite file.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    create = commands.add_parser("create-account", help="add a portal account (admin or support)")
    create.add_argument("username")
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=accounts.ROLES)
    create.add_argument("--name", help="display name (default: the username)")
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    create.set_defaults(handler=cmd_create_account)

    protect = commands.add_parser("protect", help="protect a user from every import")
    protect.add_argument("email")
    protect.add_argument("--undo", action="store_true", help="lift the protection instead")
    protect.set_defaults(handler=cmd_protect)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (AccountError, CatalogError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except SQLAlchemyError as exc:
        print(
            f"error: the database cannot be used ({type(exc).__name__}: {exc}). "
            "Check DATABASE_URL.",
            file=sys.stderr,
        )
        return EXIT_UNUSABLE


if __name__ == "__main__":
    sys.exit(main())
