"""Links: imports that run by themselves from a source."""

from __future__ import annotations

import argparse
import json
import sys

from cli import common
from cli.common import _, say
from cli.imports import (
    add_import_arguments,
    import_options,
    print_summary,
    read_choices,
    send_import_mail,
)
from core.i18n import N_, format_moment


def cmd_links_add(args: argparse.Namespace) -> int:
    from core.links import LinkDraft, create_link, secrets_for
    from core.read import ReadOptions
    from db.engine import session_scope
    from db.models import utcnow

    settings, engine = common.context()
    secrets = secrets_for(args.source, sys.stdin.read().strip()) if args.secret_stdin else {}
    draft = LinkDraft(
        name=args.name,
        source=args.source,
        mapping=common.parse_map(args.map),
        options=import_options(args),
        read_options=ReadOptions(**read_choices(args)),
        schedule=_schedule_of(args),
        header=args.header,
        secrets=secrets,
        notify=tuple(args.notify),
        move_done=args.move_done,
    )
    with session_scope(engine) as session:
        link = create_link(
            session=session, settings=settings, draft=draft, created_by="cli", now=utcnow()
        )
        if link.next_run_at:
            first = format_moment(link.next_run_at, common.LANGUAGE, settings.time_zone)
            added = say(N_("Added link {name!r}, first run {when}."), name=link.name, when=first)
        else:
            added = say(N_("Added link {name!r}; it runs when started by hand."), name=link.name)
        print(added)
    return common.EXIT_OK


def _schedule_of(args: argparse.Namespace) -> str:
    """The schedule the flags ask for: --every 6h, --daily 02:00 or --cron EXPR (or none)."""
    if args.every:
        return f"every {args.every.strip().removesuffix('h').strip()}h"
    if args.daily:
        return f"daily {args.daily}"
    return f"cron {args.cron}" if args.cron else ""


def cmd_links_list(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from core.i18n import gettext, render
    from core.links import describe_link
    from db.links import list_links
    from db.models import utcnow

    settings, engine = common.context()
    language = common.language_of(args)
    with Session(engine) as session:
        links = [
            describe_link(link, session=session, settings=settings, now=utcnow(), language=language)
            for link in list_links(session=session)
        ]
    if args.json:
        print(json.dumps(links, ensure_ascii=False))
        return common.EXIT_OK
    for link in links:
        state = (
            render(N_("paused: {reason}"), language, {"reason": link["pause_reason"] or ""})
            if link["paused"]
            else gettext("active", language)
        )
        print(f"{link['name']}\t{link['source_text']}\t{link['schedule_text']}\t{state}")
        if link["next_runs"]:
            runs = ", ".join(link["next_runs"])
            print(render(N_("  next runs: {runs}"), language, {"runs": runs}))
        if link["last_run"]:
            last = link["last_run"]
            status = gettext(last["status"], language).replace("_", " ")
            print(
                render(
                    N_("  last run: {when} {status}"),
                    language,
                    {"when": last["started_at"], "status": status},
                )
                + (
                    render(N_(" (import {job_id})"), language, {"job_id": last["job_id"]})
                    if last["job_id"]
                    else ""
                )
            )
        if link["host_key"]:
            key = {"key": link["host_key"]}
            print(render(N_("  SFTP host key (pinned): {key}"), language, key))
    return common.EXIT_OK


def cmd_links_run(args: argparse.Namespace) -> int:
    from core.links import run_link
    from db.vocabulary import RunStatus

    settings, engine = common.context()
    outcome = run_link(engine=engine, settings=settings, name=args.name, dry_run=args.dry_run)
    result = outcome.result
    emails = send_import_mail(engine, settings, result) if result else None
    if args.json:
        print(
            json.dumps(
                outcome.as_json(common.language_of(args)) | ({"emails": emails} if emails else {}),
                ensure_ascii=False,
            )
        )
    elif result is not None:
        print_summary(result, say(N_("link {name!r}"), name=outcome.link))
    elif outcome.status == RunStatus.UNCHANGED:
        unchanged = N_("Link {name!r}: the source is unchanged since the last run; skipped.")
        print(say(unchanged, name=outcome.link))
    if outcome.error and not args.json:
        error = outcome.refusal.text(common.LANGUAGE) if outcome.refusal else outcome.error
        code = f" ({outcome.code})" if outcome.code else ""
        print(f"{_('error')}: {error}{code}", file=sys.stderr)
    if outcome.paused:
        paused = N_("Link {name!r} is paused after three failed runs in a row.")
        print(say(paused, name=outcome.link), file=sys.stderr)
    if result is None:
        return common.EXIT_UNUSABLE if outcome.status == RunStatus.FAILED else common.EXIT_OK
    return common.EXIT_OK if result.status == RunStatus.SUCCEEDED else common.EXIT_REJECTED


def cmd_links_pause(args: argparse.Namespace) -> int:
    from core.links import set_paused
    from db.engine import session_scope
    from db.models import utcnow

    settings, engine = common.context()
    paused = args.links_command == "pause"
    with session_scope(engine) as session:
        link = set_paused(
            session=session, settings=settings, name=args.name, paused=paused, now=utcnow()
        )
        state = (
            N_("Link {name!r} is paused.")
            if paused
            else N_("Link {name!r} runs on its schedule again.")
        )
        print(say(state, name=link.name))
    return common.EXIT_OK


def cmd_links_forget_host_key(args: argparse.Namespace) -> int:
    from core.links import forget_host_key
    from db.engine import session_scope

    with session_scope(common.open_engine()) as session:
        forget_host_key(session=session, name=args.name)
    forgot = N_("Forgot the host key of link {name!r}; its next run pins the key it is shown.")
    print(say(forgot, name=args.name))
    return common.EXIT_OK


def cmd_links_remove(args: argparse.Namespace) -> int:
    from core.links import remove_link
    from db.engine import session_scope

    with session_scope(common.open_engine()) as session:
        remove_link(session=session, name=args.name)
    print(say(N_("Removed link {name!r}; its imports stay in the history."), name=args.name))
    return common.EXIT_OK


def add_parsers(commands: argparse._SubParsersAction) -> None:
    links = commands.add_parser("links", help=_("imports that run by themselves from a source"))
    sub = links.add_subparsers(dest="links_command", required=True, metavar="COMMAND")
    add = sub.add_parser("add", help=_("add a link: a source, a mapping, options and a schedule"))
    add.add_argument("name")
    add.add_argument(
        "--source",
        required=True,
        help=_("folder:/path/pattern, sftp://user@host:port/path/pattern or an https:// address"),
    )
    add.add_argument("--header", help=_("HTTP header the secret is sent in (Authorization...)"))
    add.add_argument(
        "--secret-stdin",
        action="store_true",
        help=_("read the SFTP password or private key, or the header's value, from standard input"),
    )
    add.add_argument(
        "--notify",
        action="append",
        default=[],
        metavar="EMAIL",
        help=_("mail this address about failed runs (repeatable)"),
    )
    add.add_argument(
        "--move-done", action="store_true", help=_("move an imported folder file to done/")
    )
    when = add.add_mutually_exclusive_group()
    when.add_argument("--every", metavar="Nh", help=_("every N hours, counted from midnight"))
    when.add_argument("--daily", metavar="HH:MM", help=_("every day at this time"))
    when.add_argument(
        "--cron", metavar="EXPR", help=_("a cron expression (minute hour day month weekday)")
    )
    add_import_arguments(add)
    add.set_defaults(handler=cmd_links_add)
    listing = sub.add_parser("list", help=_("every link with its schedule and last run"))
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_links_list)
    run = sub.add_parser("run", help=_("run a link now, as the import command would"))
    run.add_argument("name")
    run.add_argument(
        "--dry-run", action="store_true", help=_("show what would happen; write nothing")
    )
    run.add_argument("--json", action="store_true", help=_("print one JSON object"))
    run.set_defaults(handler=cmd_links_run)
    for verb, words in (
        ("pause", _("stop running a link on its schedule")),
        ("resume", _("run a paused link on its schedule again")),
    ):
        pause = sub.add_parser(verb, help=words)
        pause.add_argument("name")
        pause.set_defaults(handler=cmd_links_pause)
    forget = sub.add_parser(
        "forget-host-key", help=_("forget the SFTP server's pinned key (it was really replaced)")
    )
    forget.add_argument("name")
    forget.set_defaults(handler=cmd_links_forget_host_key)
    remove = sub.add_parser("remove", help=_("delete a link (its imports stay in the history)"))
    remove.add_argument("name")
    remove.set_defaults(handler=cmd_links_remove)
