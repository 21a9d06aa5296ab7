"""Reading what is stored: users, export, jobs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cli import common
from cli.common import _
from core.i18n import NP_, render_counted


def cmd_users(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from core import export

    with Session(common.open_engine()) as session:
        users = export.list_users(session=session)
    if args.json:
        print(json.dumps(users, ensure_ascii=False))
    else:
        for user in users:
            print(f"{user['email']}\t{user['status']}\t{user['first_name']} {user['last_name']}")
    return common.EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from core import export

    with Session(common.open_engine()) as session:
        frame = export.users_frame(session=session)
    writer = export.to_xlsx_bytes if args.format == "xlsx" else export.to_csv_bytes
    common.write_file(Path(args.out), writer(frame))
    exported = NP_("Exported {count:,} user to {file}.", "Exported {count:,} users to {file}.")
    print(render_counted(exported, len(frame), common.LANGUAGE, file=args.out))
    return common.EXIT_OK


def cmd_jobs(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from core.jobs import list_jobs

    with Session(common.open_engine()) as session:
        jobs = list_jobs(session=session, limit=args.limit)
    if args.json:
        print(json.dumps(jobs, ensure_ascii=False))
    else:
        for job in jobs:
            print(f"{job['job_id']}\t{job['status']}\t{job['created_at']}\t{job['file_name']}")
    return common.EXIT_OK


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """This group's commands, with their arguments."""
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
