"""The portal's keys: keys rotate-vault, keys rotate-cookie."""

from __future__ import annotations

import argparse

from cli import common
from cli.common import _, say
from core.i18n import N_


def cmd_keys_rotate_vault(args: argparse.Namespace) -> int:
    from core.key_rotation import rotate_vault_key

    settings, engine = common.context()
    count = rotate_vault_key(engine=engine, settings=settings)
    print(say(N_("New vault key; {count} stored secrets were sealed with it again."), count=count))
    return common.EXIT_OK


def cmd_keys_rotate_cookie(args: argparse.Namespace) -> int:
    from core.config import load_settings
    from core.keys import rotate_cookie_key

    path = rotate_cookie_key(load_settings())
    print(say(N_("New cookie key in {path}; everyone has to log in again."), path=path))
    return common.EXIT_OK


def add_parsers(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser("keys", help=_("replace the portal's keys"))
    sub = keys.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    vault = sub.add_parser(
        "rotate-vault", help=_("a new vault key: every stored secret is sealed again")
    )
    vault.set_defaults(handler=cmd_keys_rotate_vault)
    cookie = sub.add_parser("rotate-cookie", help=_("a new cookie key: every login ends"))
    cookie.set_defaults(handler=cmd_keys_rotate_cookie)
