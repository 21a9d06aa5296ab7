"""Importing and taking an import back: import, revert."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli import common
from cli.common import _, say
from core.i18n import N_, gettext
from core.issues import UnusableFileError
from db.vocabulary import EmptyAction, Kind, MatchKey, Mode, values

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from core.config import Settings
    from core.jobs import ImportResult
    from core.options import ImportOptions


def print_summary(result: ImportResult, file: str) -> None:
    verb = N_("Dry run of {file}: {status}") if result.dry_run else N_("Imported {file}: {status}")
    line = say(verb, file=file, status=common.status_words(result.status))
    if result.job_id:
        line += say(N_(" (job {job_id})"), job_id=result.job_id)
    print(line)
    print("  " + common.count_words(result.counts))
    for issue in result.issues[:50]:
        where = say(N_("row {row}"), row=issue.row) if issue.row else _("file")
        column = f" [{issue.column}]" if issue.column else ""
        severity = gettext(issue.severity, common.LANGUAGE)
        print(f"  {severity}: {where}{column}: {issue.text(common.LANGUAGE)} ({issue.code})")
    if len(result.issues) > 50:
        more = N_("  ... and {count:,} more issues (use --json for all).")
        print(say(more, count=len(result.issues) - 50))


def cmd_import(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from core import export
    from core.config import load_settings
    from core.jobs import SUCCEEDED, run_import
    from core.pipeline import ImportRequest, resolve_mapping
    from core.read import ReadOptions, read_upload
    from core.validate import load_known_names
    from db.engine import get_engine

    settings = load_settings()
    path = Path(args.file)
    if not path.is_file():
        raise UnusableFileError.of("missing-file", name=args.file)
    data = path.read_bytes()
    read_options = ReadOptions(**read_choices(args), **settings.read_limits)
    options = import_options(args)
    table = read_upload(data, path.name, read_options)
    engine = get_engine(settings.database_url)
    with Session(engine) as session:
        mapping = resolve_mapping(
            table, load_known_names(session=session), common.parse_map(args.map)
        )
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
        refusal.findings = [*exc.findings, *table.findings]
        raise refusal from None
    emails = send_import_mail(engine, settings, result)
    if args.rejected_out and result.plan.error_rows:
        frame = export.rejected_rows(table, result.plan, mapping, common.LANGUAGE)
        out = Path(args.rejected_out)
        if out.suffix.lower() == ".xlsx":
            common.write_file(out, export.to_xlsx_bytes(frame, _(export.USERS_SHEET)))
        else:
            common.write_file(out, export.to_csv_bytes(frame))
    if args.json:
        print(
            json.dumps(
                result.as_json(common.language_of(args)) | {"emails": emails}, ensure_ascii=False
            )
        )
    else:
        print_summary(result, path.name)
        if emails["failed"] or emails["queued"]:
            unsent = N_(
                "Mail: {sent:,} sent, {failed:,} failed, {queued:,} still queued (a running "
                "worker sends those; see the history)."
            )
            print(
                say(unsent, **{k: emails[k] for k in ("sent", "failed", "queued")}), file=sys.stderr
            )
    return common.EXIT_OK if result.status == SUCCEEDED else common.EXIT_REJECTED


def read_choices(args: argparse.Namespace) -> dict[str, Any]:
    """How to read the file, as the reading flags ask (ReadOptions without its limits)."""
    return {
        "encoding": args.encoding,
        "delimiter": "\t" if args.delimiter in {"tab", "\\t"} else args.delimiter,
        "has_header": False if args.no_header else None,
        "header_row": args.header_row,
        "sheet": args.sheet,
    }


def import_options(args: argparse.Namespace) -> ImportOptions:
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


def send_import_mail(engine: Engine, settings: Settings, result: ImportResult) -> dict[str, int]:
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


def cmd_revert(args: argparse.Namespace) -> int:
    from core.jobs import SUCCEEDED
    from core.revert import run_revert

    engine = common.open_engine()
    result = run_revert(
        engine=engine,
        job_id=args.job_id,
        created_by="cli",
        dry_run=args.dry_run,
        overwrite={e.strip().lower() for e in args.overwrite},
    )
    if args.json:
        print(json.dumps(result.as_json(common.language_of(args)), ensure_ascii=False))
    else:
        verb = (
            N_("Dry run of the revert of import {job_id}: {status}")
            if result.dry_run
            else N_("Reverted import {job_id}: {status}")
        )
        print(say(verb, job_id=args.job_id, status=common.status_words(result.status)))
        print("  " + common.count_words(result.plan.counts))
        for issue in result.plan.issues:
            print(f"  {_('warning')}: {issue.text(common.LANGUAGE)}")
    return common.EXIT_OK if result.status == SUCCEEDED else common.EXIT_REJECTED


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """import and revert, with their arguments."""
    p = commands.add_parser("import", help=_("import users from a CSV, TSV, TXT, XLSX or XLS file"))
    p.add_argument("file")
    add_import_arguments(p)
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


def add_import_arguments(p: argparse.ArgumentParser) -> None:
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
