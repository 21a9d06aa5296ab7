"""Portal accounts and protected users: create-account, reset-password, protect."""

from __future__ import annotations

import argparse

from cli import common
from cli.common import _, say
from core.i18n import N_, gettext
from db.vocabulary import AccountRole, values


def cmd_create_account(args: argparse.Namespace) -> int:
    from core import accounts
    from db.engine import session_scope

    password = common.password_from_stdin(args)
    with session_scope(common.open_engine()) as session:
        accounts.create_account(
            session=session,
            username=args.username,
            email=args.email,
            role=args.role,
            password=password,
            name=args.name or "",
        )
    role = gettext(common.ROLE_WORDS[args.role], common.LANGUAGE)
    print(say(N_("Created {role} account {username!r}."), role=role, username=args.username))
    return common.EXIT_OK


def cmd_reset_password(args: argparse.Namespace) -> int:
    from core import accounts, signin
    from db.engine import session_scope

    password = common.password_from_stdin(args)
    with session_scope(common.open_engine()) as session:
        accounts.reset_password(session=session, username=args.username, password=password)
        # The way back in: a password is of no use while the login page offers none.
        reopened = not signin.local_passwords_allowed(session=session)
        if reopened:
            signin.set_local_passwords(session=session, allowed=True, providers=[])
    done = N_("New password set for {username!r}; the account is unlocked and logged out.")
    print(say(done, username=args.username))
    if reopened:
        print(say(N_("Local passwords were off; they are allowed again.")))
    return common.EXIT_OK


def cmd_protect(args: argparse.Namespace) -> int:
    from core import catalog
    from db.engine import session_scope

    with session_scope(common.open_engine()) as session:
        user = catalog.set_user_protected(
            session=session, email=args.email, protected=not args.undo
        )
        state = (
            N_("{email} is no longer protected.")
            if args.undo
            else N_("{email} is protected: imports will not change it.")
        )
        print(say(state, email=user.email))
    return common.EXIT_OK


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """This group's commands, with their arguments."""
    create = commands.add_parser(
        "create-account", help=_("add a portal account (admin or support)")
    )
    create.add_argument("username")
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=values(AccountRole))
    create.add_argument("--name", help=_("display name (default: the username)"))
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help=_("read the password from the first line of standard input"),
    )
    create.set_defaults(handler=cmd_create_account)

    reset = commands.add_parser(
        "reset-password",
        help=_("give a portal account a new password; unlocks it and ends its sessions"),
    )
    reset.add_argument("username")
    reset.add_argument(
        "--password-stdin",
        action="store_true",
        help=_("read the new password from the first line of standard input"),
    )
    reset.set_defaults(handler=cmd_reset_password)

    protect = commands.add_parser("protect", help=_("protect a user from every import"))
    protect.add_argument("email")
    protect.add_argument("--undo", action="store_true", help=_("lift the protection instead"))
    protect.set_defaults(handler=cmd_protect)
