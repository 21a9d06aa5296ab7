"""SCIM: the tokens identity providers provision with, and the service on its own port."""

from __future__ import annotations

import argparse

from cli import common
from cli.common import _, say
from core.i18n import N_, format_moment


def cmd_token_create(args: argparse.Namespace) -> int:
    from core.scim import create_connection
    from db.engine import session_scope

    _settings, engine = common.context()
    with session_scope(engine) as session:
        connection, token = create_connection(session=session, name=args.name, created_by="cli")
        name = connection.name
    print(say(N_("Connection {name!r} made. Its token, shown this once:"), name=name))
    print(token)
    return common.EXIT_OK


def cmd_token_list(args: argparse.Namespace) -> int:
    from core.scim import list_connections
    from db.engine import session_scope

    settings, engine = common.context()
    never = _("never")
    with session_scope(engine) as session:
        for connection in list_connections(session=session):
            used = connection.last_used_at
            state = (
                _("revoked")
                if connection.token_hash is None
                else _("paused")
                if connection.paused
                else _("active")
            )
            when = format_moment(used, common.LANGUAGE, settings.time_zone) if used else never
            print(f"{connection.name}\t{state}\t{_('last used')}: {when}")
    return common.EXIT_OK


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from core.scim import revoke_token
    from db.engine import session_scope

    _settings, engine = common.context()
    with session_scope(engine) as session:
        revoke_token(session=session, name=args.name)
    print(say(N_("The token of {name!r} no longer works."), name=args.name))
    return common.EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn
    from starlette.applications import Starlette

    from core.scim_server import routes

    settings, _engine = common.context()
    app = Starlette(routes=routes(settings))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", proxy_headers=True)
    return common.EXIT_OK


def add_parsers(commands: argparse._SubParsersAction) -> None:
    scim = commands.add_parser("scim", help=_("SCIM: Entra ID and Okta keep users in step"))
    sub = scim.add_subparsers(dest="scim_command", required=True, metavar="COMMAND")
    token = sub.add_parser("token", help=_("the tokens of the SCIM connections"))
    tokens = token.add_subparsers(dest="token_command", required=True, metavar="COMMAND")
    create = tokens.add_parser("create", help=_("make a connection and print its token once"))
    create.add_argument("name")
    create.set_defaults(handler=cmd_token_create)
    listing = tokens.add_parser("list", help=_("every connection and when its token was used"))
    listing.set_defaults(handler=cmd_token_list)
    revoke = tokens.add_parser("revoke", help=_("stop a connection's token from working"))
    revoke.add_argument("name")
    revoke.set_defaults(handler=cmd_token_revoke)
    serve = sub.add_parser("serve", help=_("serve /scim/v2 on its own port (uvicorn)"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8502)
    serve.set_defaults(handler=cmd_serve)
