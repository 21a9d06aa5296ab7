"""Instroom's command line: the twin of the portal, over the same core."""

# Each command imports what it uses when it runs: `cli.py --help` and a mistyped argument
# answer at once instead of loading pandas, SQLAlchemy and the readers first.
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.i18n import N_, choose_language, format_moment, gettext, render
from core.issues import BUSY_MESSAGE, InstroomError, Refusal, UnusableFileError
from core.vocabulary import AccountRole, EmptyAction, Kind, MatchKey, Mode, values

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from core.jobs import ImportResult
    from core.options import ImportOptions
    from core.settings import Settings

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


class OutputError(InstroomError):
    """An output path cannot be used; the message says why."""


def _engine() -> Engine:
    from core.settings import load_settings
    from db.engine import get_engine

    return get_engine(load_settings().database_url)


def _context() -> tuple[Settings, Engine]:
    """The settings in use (with the time zone and mail server kept in Settings) and the engine."""
    from core.key_rotation import finish_pending_rotation
    from core.portal_settings import effective_settings
    from core.settings import load_settings
    from db.engine import get_engine

    settings = load_settings()
    engine = get_engine(settings.database_url)
    finish_pending_rotation(engine=engine, settings=settings)
    return effective_settings(engine, settings), engine


def _password_from_stdin(args: argparse.Namespace) -> str:
    """The first line of standard input; a password never goes on the command line."""
    from core.accounts import AccountError

    if not args.password_stdin:
        raise AccountError(N_("Give the password on standard input with --password-stdin."))
    return sys.stdin.readline().rstrip("\r\n")


def cmd_create_account(args: argparse.Namespace) -> int:
    from core import accounts
    from db.engine import session_scope

    password = _password_from_stdin(args)
    with session_scope(_engine()) as session:
        accounts.create_account(
            session=session,
            username=args.username,
            email=args.email,
            role=args.role,
            password=password,
            name=args.name or "",
        )
    role = gettext(ROLE_WORDS[args.role], LANGUAGE)
    print(say(N_("Created {role} account {username!r}."), role=role, username=args.username))
    return EXIT_OK


def cmd_reset_password(args: argparse.Namespace) -> int:
    from core import accounts
    from db.engine import session_scope

    password = _password_from_stdin(args)
    with session_scope(_engine()) as session:
        accounts.reset_password(session=session, username=args.username, password=password)
    done = N_("New password set for {username!r}; the account is unlocked and logged out.")
    print(say(done, username=args.username))
    return EXIT_OK


def cmd_protect(args: argparse.Namespace) -> int:
    from core import catalog
    from db.engine import session_scope

    with session_scope(_engine()) as session:
        user = catalog.set_user_protected(
            session=session, email=args.email, protected=not args.undo
        )
        state = (
            N_("{email} is no longer protected.")
            if args.undo
            else N_("{email} is protected: imports will not change it.")
        )
        print(say(state, email=user.email))
    return EXIT_OK


def _parse_map(values: list[str]) -> list[tuple[str, str | None]]:
    pairs = []
    for value in values:
        header, sep, field = value.partition("=")
        if not sep:
            raise UnusableFileError.of("unknown-column", "map-syntax", value=value)
        pairs.append((header.strip(), field.strip() or None))
    return pairs


def _language(args: argparse.Namespace) -> str:
    """The language of messages (see LANGUAGE); codes never change with it."""
    return LANGUAGE


def _requested_language(argv: Sequence[str]) -> str | None:
    """The --lang asked for, read before parsing: --help is printed while arguments are."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    return None


def _status(status: str) -> str:
    """A job's or run's status in words."""
    return gettext(status, LANGUAGE).replace("_", " ")


def _count_words(counts: dict[str, int]) -> str:
    """Counts as the summary line names them: rows 2, created 1, errors 1."""
    return ", ".join(
        f"{gettext(COUNT_NAMES[k], LANGUAGE)} {say('{n:,}', n=v)}"
        for k, v in counts.items()
        if (v or k == "rows") and k in COUNT_NAMES
    )


def _print_summary(result: ImportResult, file: str) -> None:
    verb = N_("Dry run of {file}: {status}") if result.dry_run else N_("Imported {file}: {status}")
    line = say(verb, file=file, status=_status(result.status))
    if result.job_id:
        line += say(N_(" (job {job_id})"), job_id=result.job_id)
    print(line)
    print("  " + _count_words(result.counts))
    for issue in result.issues[:50]:
        where = say(N_("row {row}"), row=issue.row) if issue.row else _("file")
        column = f" [{issue.column}]" if issue.column else ""
        severity = gettext(issue.severity, LANGUAGE)
        print(f"  {severity}: {where}{column}: {issue.text(LANGUAGE)} ({issue.code})")
    if len(result.issues) > 50:
        more = N_("  ... and {count:,} more issues (use --json for all).")
        print(say(more, count=len(result.issues) - 50))


def cmd_import(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from core import export
    from core.jobs import SUCCEEDED, run_import
    from core.pipeline import ImportRequest, resolve_mapping
    from core.read import ReadOptions, read_upload
    from core.settings import load_settings
    from core.validate import load_known_names
    from db.engine import get_engine

    settings = load_settings()
    path = Path(args.file)
    if not path.is_file():
        raise UnusableFileError.of("unreadable-file", "no-file", name=args.file)
    data = path.read_bytes()
    read_options = ReadOptions(**_read_choices(args), **settings.read_limits)
    options = _import_options(args)
    table = read_upload(data, path.name, read_options)
    engine = get_engine(settings.database_url)
    with Session(engine) as session:
        mapping = resolve_mapping(table, load_known_names(session=session), _parse_map(args.map))
    try:
        result = run_import(
            engine=engine,
            request=ImportRequest(table, mapping, options),
            file_name=path.name,
            file_bytes=data,
            created_by="cli",
            dry_run=args.dry_run,
        )
    except UnusableFileError as exc:
        refusal = exc
        if exc.code == "missing-required-field":
            columns = [table.column_name(i) for i in range(len(table.headers))]
            holds_at = (i for i, _ in enumerate(columns) if "@" in table.data[i].iloc[0])
            example = columns[next(holds_at, 0)]
            refusal = UnusableFileError.of(
                exc.code,
                "with-columns",
                field="email",
                columns=", ".join(map(repr, columns)),
                example=example,
            )
        refusal.findings = list(table.findings)
        raise refusal from None
    emails = _send_import_mail(engine, settings, result)
    if args.rejected_out and result.plan.error_rows:
        frame = export.rejected_rows(table, result.plan, mapping, LANGUAGE)
        out = Path(args.rejected_out)
        if out.suffix.lower() == ".xlsx":
            _write_file(out, export.to_xlsx_bytes(frame, _(export.USERS_SHEET)))
        else:
            _write_file(out, export.to_csv_bytes(frame))
    if args.json:
        print(json.dumps(result.as_json(_language(args)) | {"emails": emails}, ensure_ascii=False))
    else:
        _print_summary(result, path.name)
        if emails["failed"] or emails["queued"]:
            print(
                f"Mail: {emails['sent']} sent, {emails['failed']} failed, {emails['queued']} "
                "still queued (a running worker sends those; see the history).",
                file=sys.stderr,
            )
    return EXIT_OK if result.status == SUCCEEDED else EXIT_REJECTED


def _read_choices(args: argparse.Namespace) -> dict[str, Any]:
    """How to read the file, as the reading flags ask (ReadOptions without its limits)."""
    return {
        "encoding": args.encoding,
        "delimiter": "\t" if args.delimiter in {"tab", "\\t"} else args.delimiter,
        "has_header": False if args.no_header else None,
        "header_row": args.header_row,
        "sheet": args.sheet,
    }


def _import_options(args: argparse.Namespace) -> ImportOptions:
    """The import's options, as the flags of `import` (and `links add`) ask."""
    from core.options import ImportOptions

    return ImportOptions(
        mode=args.mode,
        match=args.match,
        fill_missing=args.fill_missing,
        groups=tuple(args.group),
        levels=tuple(args.level),
        create_groups=args.create_groups,
        create_levels=args.create_levels,
        create_terms=args.create_terms,
        terms=tuple(args.term),
        role=args.role,
        language=args.language,
        kind=args.kind,
        full_list=args.full_list,
        max_deactivate=args.max_deactivate,
        welcome_new=args.welcome_new,
        welcome_updated=args.welcome_updated,
        notify_updated=args.notify_updated,
        notify_admin=args.notify_admin,
        strict=args.strict,
        empty_action=args.empty_action,
        keep_file_days=args.keep_file_days,
    )


def _send_import_mail(engine: Engine, settings: Settings, result: ImportResult) -> dict[str, int]:
    """Send an import's mail within INSTROOM_MAIL_BUDGET; the counts of what really happened."""
    from sqlmodel import Session

    from core.mail import deliver_pending
    from db import queries

    emails = result.as_json()["emails"] | dict.fromkeys(("sent", "failed", "skipped", "queued"), 0)
    if result.applied and result.job_id is not None:
        deliver_pending(
            engine=engine, settings=settings, job_id=result.job_id, budget=settings.mail_budget
        )
        with Session(engine) as session:
            by_status = queries.count_emails_by_status(session=session, job_id=result.job_id)
        emails |= {k: by_status.get(k, 0) for k in ("sent", "failed", "skipped", "queued")}
    return emails


def cmd_worker(args: argparse.Namespace) -> int:
    from core.links import recover_lost_runs, run_due_links
    from core.mail import deliver_pending
    from core.worker import mark_interrupted, run_next_job, start_threads, work

    settings, engine = _context()
    if args.once:
        interrupted = mark_interrupted(engine=engine)
        if interrupted:
            print(say(N_("Marked interrupted: {jobs}."), jobs=", ".join(map(str, interrupted))))
        for lost in recover_lost_runs(engine=engine, settings=settings):
            print(say(N_("Link {name!r}: a run stopped half-way."), name=lost.link), flush=True)
        while (job_id := run_next_job(engine, settings)) is not None:
            print(say(N_("Ran job {job_id}."), job_id=job_id), flush=True)
        for outcome in run_due_links(engine=engine, settings=settings):
            job = say(N_(" (import {job_id})"), job_id=outcome.job_id) if outcome.job_id else ""
            status = _status(outcome.status)
            print(
                say(N_("Ran link {name!r}: {status}"), name=outcome.link, status=status)
                + job
                + ".",
                flush=True,
            )
        report = deliver_pending(engine=engine, settings=settings, budget=settings.mail_budget)
        mail = N_("Mail: {sent:,} sent, {failed:,} failed, {queued:,} still queued.")
        print(say(mail, sent=report.sent, failed=report.failed, queued=report.queued))
        return EXIT_OK
    stop = start_threads(engine=engine, settings=settings, imports=False)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(_("Worker running; stop with Ctrl+C."), flush=True)
    try:
        work(engine=engine, settings=settings, stop=stop)
    except KeyboardInterrupt:
        stop.set()
    return EXIT_OK


def cmd_revert(args: argparse.Namespace) -> int:
    from core.jobs import SUCCEEDED
    from core.revert import run_revert

    engine = _engine()
    result = run_revert(
        engine=engine,
        job_id=args.job_id,
        created_by="cli",
        dry_run=args.dry_run,
        overwrite={e.strip().lower() for e in args.overwrite},
    )
    if args.json:
        print(json.dumps(result.as_json(_language(args)), ensure_ascii=False))
    else:
        verb = (
            N_("Dry run of the revert of import {job_id}: {status}")
            if result.dry_run
            else N_("Reverted import {job_id}: {status}")
        )
        print(say(verb, job_id=args.job_id, status=_status(result.status)))
        print("  " + _count_words(result.plan.counts))
        for issue in result.plan.issues:
            print(f"  {_('warning')}: {issue.text(LANGUAGE)}")
    return EXIT_OK if result.status == SUCCEEDED else EXIT_REJECTED


def cmd_users(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from core import export

    with Session(_engine()) as session:
        users = export.list_users(session=session)
    if args.json:
        print(json.dumps(users, ensure_ascii=False))
    else:
        for user in users:
            print(f"{user['email']}\t{user['status']}\t{user['first_name']} {user['last_name']}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from core import export

    with Session(_engine()) as session:
        frame = export.users_frame(session=session)
    writer = export.to_xlsx_bytes if args.format == "xlsx" else export.to_csv_bytes
    _write_file(Path(args.out), writer(frame))
    print(say(N_("Exported {count:,} users to {file}."), count=len(frame), file=args.out))
    return EXIT_OK


def _write_file(path: Path, data: bytes) -> None:
    """Write an output file, never through a symbolic link (it could point anywhere)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        if path.is_symlink():
            raise OutputError(
                f"{path} is a symbolic link; give the path of a real file to write."
            ) from exc
        raise
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def cmd_jobs(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from core.jobs import list_jobs

    with Session(_engine()) as session:
        jobs = list_jobs(session=session, limit=args.limit)
    if args.json:
        print(json.dumps(jobs, ensure_ascii=False))
    else:
        for job in jobs:
            print(f"{job['job_id']}\t{job['status']}\t{job['created_at']}\t{job['file_name']}")
    return EXIT_OK


def cmd_links_add(args: argparse.Namespace) -> int:
    from core.links import LinkDraft, create_link, secrets_for
    from core.read import ReadOptions
    from db.engine import session_scope
    from db.models import utcnow

    settings, engine = _context()
    secrets = secrets_for(args.source, sys.stdin.read().strip()) if args.secret_stdin else {}
    draft = LinkDraft(
        name=args.name,
        source=args.source,
        mapping=_parse_map(args.map),
        options=_import_options(args),
        read_options=ReadOptions(**_read_choices(args)),
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
            first = format_moment(link.next_run_at, LANGUAGE, settings.time_zone)
            added = say(N_("Added link {name!r}, first run {when}."), name=link.name, when=first)
        else:
            added = say(N_("Added link {name!r}; it runs when started by hand."), name=link.name)
        print(added)
    return EXIT_OK


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

    settings, engine = _context()
    language = _language(args)
    with Session(engine) as session:
        links = [
            describe_link(link, session=session, settings=settings, now=utcnow(), language=language)
            for link in list_links(session=session)
        ]
    if args.json:
        print(json.dumps(links, ensure_ascii=False))
        return EXIT_OK
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
    return EXIT_OK


def cmd_links_run(args: argparse.Namespace) -> int:
    from core.links import run_link
    from core.vocabulary import RunStatus

    settings, engine = _context()
    outcome = run_link(engine=engine, settings=settings, name=args.name, dry_run=args.dry_run)
    result = outcome.result
    emails = _send_import_mail(engine, settings, result) if result else None
    if args.json:
        print(
            json.dumps(
                outcome.as_json(_language(args)) | ({"emails": emails} if emails else {}),
                ensure_ascii=False,
            )
        )
    elif result is not None:
        _print_summary(result, say(N_("link {name!r}"), name=outcome.link))
    elif outcome.status == RunStatus.UNCHANGED:
        unchanged = N_("Link {name!r}: the source is unchanged since the last run; skipped.")
        print(say(unchanged, name=outcome.link))
    if outcome.error and not args.json:
        error = outcome.refusal.text(LANGUAGE) if outcome.refusal else outcome.error
        code = f" ({outcome.code})" if outcome.code else ""
        print(f"{_('error')}: {error}{code}", file=sys.stderr)
    if outcome.paused:
        paused = N_("Link {name!r} is paused after three failed runs in a row.")
        print(say(paused, name=outcome.link), file=sys.stderr)
    if result is None:
        return EXIT_UNUSABLE if outcome.status == RunStatus.FAILED else EXIT_OK
    return EXIT_OK if result.status == RunStatus.SUCCEEDED else EXIT_REJECTED


def cmd_links_pause(args: argparse.Namespace) -> int:
    from core.links import set_paused
    from db.engine import session_scope
    from db.models import utcnow

    settings, engine = _context()
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
    return EXIT_OK


def cmd_links_forget_host_key(args: argparse.Namespace) -> int:
    from core.links import forget_host_key
    from db.engine import session_scope

    with session_scope(_engine()) as session:
        forget_host_key(session=session, name=args.name)
    forgot = N_("Forgot the host key of link {name!r}; its next run pins the key it is shown.")
    print(say(forgot, name=args.name))
    return EXIT_OK


def cmd_links_remove(args: argparse.Namespace) -> int:
    from core.links import remove_link
    from db.engine import session_scope

    with session_scope(_engine()) as session:
        remove_link(session=session, name=args.name)
    print(say(N_("Removed link {name!r}; its imports stay in the history."), name=args.name))
    return EXIT_OK


def _add_links_parser(commands: argparse._SubParsersAction) -> None:
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
    _add_import_arguments(add)
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


def _add_import_parser(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("import", help=_("import users from a CSV, TSV, TXT, XLSX or XLS file"))
    p.add_argument("file")
    _add_import_arguments(p)
    p.add_argument(
        "--dry-run", action="store_true", help=_("show what would happen; write nothing")
    )
    out = p.add_argument_group(_("output"))
    out.add_argument(
        "--rejected-out",
        metavar="FILE",
        help=_("write rejected rows with an Error column (.csv or .xlsx)"),
    )
    out.add_argument("--json", action="store_true", help=_("print one JSON object"))
    p.set_defaults(handler=cmd_import)


def _add_import_arguments(p: argparse.ArgumentParser) -> None:
    """How to read the file, map its columns, and what the import does: import, links add."""
    read = p.add_argument_group(_("reading the file"))
    read.add_argument("--sheet", help=_("sheet of a workbook (default: the first visible one)"))
    read.add_argument(
        "--delimiter",
        help=_("any single character, or 'tab' (default: ; , tab or | as detected)"),
    )
    read.add_argument("--encoding", help=_("utf-8, utf-16, cp1252, latin-1 (default: detected)"))
    read.add_argument("--no-header", action="store_true", help=_("the first row holds users"))
    read.add_argument(
        "--header-row",
        type=int,
        metavar="N",
        help=_(
            "the header is in row N, as Excel numbers rows (default: found by itself, "
            "passing over a title above it)"
        ),
    )
    read.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="HEADER=FIELD",
        help=_("map a column to a field; 'Header=' leaves it out (repeatable)"),
    )
    what = p.add_argument_group(_("what the import does"))
    what.add_argument("--mode", choices=values(Mode), default=Mode.UPSERT)
    what.add_argument("--match", choices=values(MatchKey), default=MatchKey.EMAIL)
    what.add_argument(
        "--fill-missing",
        action="store_true",
        help=_("only fill empty fields (default: overwrite with non-empty cells)"),
    )
    what.add_argument("--group", action="append", default=[], help=_("add every row to this group"))
    what.add_argument("--create-groups", action="store_true", help=_("create missing groups"))
    what.add_argument("--level", action="append", default=[], help=_("give every row this level"))
    what.add_argument("--create-levels", action="store_true", help=_("create missing levels"))
    what.add_argument(
        "--create-terms", action="store_true", help=_("create missing taxonomy terms")
    )
    what.add_argument(
        "--term",
        action="append",
        default=[],
        metavar="FIELD=TERM",
        help=_("give every row this taxonomy term where its own cell is empty (repeatable)"),
    )
    what.add_argument("--role", help=_("role for new users without one"))
    what.add_argument("--language", help=_("language for new users without one"))
    what.add_argument(
        "--kind",
        choices=values(Kind),
        default=Kind.EMPLOYEE,
        help=_("kind for new users, and the kind a full-list import covers"),
    )
    what.add_argument(
        "--full-list",
        action="store_true",
        help=_("block users of this kind that the file does not list"),
    )
    what.add_argument(
        "--max-deactivate",
        metavar="N|N%",
        help=_("refuse a full-list import that would block more than this"),
    )
    what.add_argument(
        "--empty-action",
        choices=values(EmptyAction),
        default=EmptyAction.BLOCK,
        help=_(
            "what an empty action (AFAS mutation code) means: block, as AFAS Profit "
            "documents (default), or none"
        ),
    )
    what.add_argument(
        "--strict",
        action="store_true",
        help=_("all or nothing: any rejected row and nothing is written"),
    )
    mail = p.add_argument_group(_("emails"))
    mail.add_argument("--welcome-new", action="store_true", help=_("welcome email to new users"))
    mail.add_argument(
        "--welcome-updated",
        action="store_true",
        help=_("welcome email to updated users who have not activated their account yet"),
    )
    mail.add_argument("--notify-updated", action="store_true", help=_("notice to updated users"))
    mail.add_argument("--notify-admin", metavar="EMAIL", help=_("completion email to this address"))
    what.add_argument(
        "--keep-file-days",
        type=int,
        default=0,
        metavar="N",
        help=_("keep the file with the import for N days (default: not kept)"),
    )


def cmd_keys_rotate_vault(args: argparse.Namespace) -> int:
    from core.key_rotation import rotate_vault_key

    settings, engine = _context()
    count = rotate_vault_key(engine=engine, settings=settings)
    print(say(N_("New vault key; {count} stored secrets were sealed with it again."), count=count))
    return EXIT_OK


def cmd_keys_rotate_cookie(args: argparse.Namespace) -> int:
    from core.keys import rotate_cookie_key
    from core.settings import load_settings

    path = rotate_cookie_key(load_settings())
    print(say(N_("New cookie key in {path}; everyone has to log in again."), path=path))
    return EXIT_OK


def _add_keys_parser(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser("keys", help=_("replace the portal's keys"))
    sub = keys.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    vault = sub.add_parser(
        "rotate-vault", help=_("a new vault key: every stored secret is sealed again")
    )
    vault.set_defaults(handler=cmd_keys_rotate_vault)
    cookie = sub.add_parser("rotate-cookie", help=_("a new cookie key: every login ends"))
    cookie.set_defaults(handler=cmd_keys_rotate_cookie)


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

    _add_import_parser(commands)
    _add_links_parser(commands)
    _add_keys_parser(commands)
    users = commands.add_parser("users", help=_("list every user"))
    users.add_argument("--json", action="store_true")
    users.set_defaults(handler=cmd_users)
    export_parser = commands.add_parser("export", help=_("export every user as CSV or XLSX"))
    export_parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    export_parser.add_argument("--out", required=True)
    export_parser.set_defaults(handler=cmd_export)
    jobs = commands.add_parser("jobs", help=_("list the newest imports"))
    jobs.add_argument("--json", action="store_true")
    jobs.add_argument("--limit", type=int, default=100)
    jobs.set_defaults(handler=cmd_jobs)
    revert = commands.add_parser("revert", help=_("take an import back"))
    revert.add_argument("job_id", type=int)
    revert.add_argument("--dry-run", action="store_true", help=_("show what would happen"))
    revert.add_argument(
        "--overwrite",
        action="append",
        default=[],
        metavar="EMAIL",
        help=_("revert this user even though it was changed since (repeatable)"),
    )
    revert.add_argument("--json", action="store_true", help=_("print one JSON object"))
    revert.set_defaults(handler=cmd_revert)
    worker = commands.add_parser(
        "worker", help=_("run queued imports (a dedicated worker process)")
    )
    worker.add_argument("--once", action="store_true", help=_("run what is queued, then stop"))
    worker.set_defaults(handler=cmd_worker)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status."""
    global LANGUAGE
    arguments = sys.argv[1:] if argv is None else list(argv)
    LANGUAGE = choose_language(_requested_language(arguments), os.environ)
    args = build_parser().parse_args(arguments)
    try:
        return args.handler(args)
    except Refusal as exc:
        if getattr(args, "json", False):
            print(
                json.dumps(
                    {
                        "job_id": None,
                        "status": "failed",
                        "dry_run": getattr(args, "dry_run", False),
                        "counts": None,
                        "issues": [
                            i.as_contract(_language(args)) for i in [exc.issue, *exc.findings]
                        ],
                        "emails": None,
                    },
                    ensure_ascii=False,
                )
            )
        print(f"{_('error')}: {exc.text(LANGUAGE)} ({exc.code})", file=sys.stderr)
        for finding in exc.findings:
            word = _(SEVERITY_WORDS.get(finding.severity, finding.severity))
            print(f"{word}: {finding.text(LANGUAGE)} ({finding.code})", file=sys.stderr)
        return EXIT_UNUSABLE
    except InstroomError as exc:
        text = getattr(exc, "text", None)
        print(f"{_('error')}: {text(LANGUAGE) if callable(text) else exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except OSError as exc:
        where = exc.filename or _("a file")
        print(f"{_('error')}: {exc.strerror or exc} ({where}).", file=sys.stderr)
        return EXIT_UNUSABLE
    except Exception as exc:
        # Only a command that reached the database can meet its errors; it loaded db.engine.
        from db.engine import database_errors, is_busy

        if not isinstance(exc, database_errors()):
            raise
        if is_busy(exc):
            print(f"{_('error')}: {_(BUSY_MESSAGE)}", file=sys.stderr)
            return EXIT_UNUSABLE
        if "full" in str(getattr(exc, "orig", exc)):
            full = _(
                "the disk of the database is full; nothing of the import was kept. "
                "Free some space and run it again."
            )
            print(f"{_('error')}: {full}", file=sys.stderr)
            return EXIT_UNUSABLE
        unusable = N_("the database cannot be used ({error}). Check DATABASE_URL.")
        print(
            f"{_('error')}: " + say(unusable, error=f"{type(exc).__name__}: {exc}"),
            file=sys.stderr,
        )
        return EXIT_UNUSABLE


if __name__ == "__main__":
    sys.exit(main())
