"""The worker: queued imports, due links and mail."""

from __future__ import annotations

import argparse
import signal

from cli import common
from cli.common import _, say
from core.i18n import N_


def cmd_worker(args: argparse.Namespace) -> int:
    from core.links import recover_lost_runs, run_due_links
    from core.mail import deliver_pending
    from core.worker import mark_interrupted, run_next_job, start_threads, work

    settings, engine = common.context()
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
            status = common.status_words(outcome.status)
            print(
                say(N_("Ran link {name!r}: {status}"), name=outcome.link, status=status)
                + job
                + ".",
                flush=True,
            )
        report = deliver_pending(engine=engine, settings=settings, budget=settings.mail_budget)
        mail = N_("Mail: {sent:,} sent, {failed:,} failed, {queued:,} still queued.")
        print(say(mail, sent=report.sent, failed=report.failed, queued=report.queued))
        return common.EXIT_OK
    stop = start_threads(engine=engine, settings=settings, imports=False)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(_("Worker running; stop with Ctrl+C."), flush=True)
    try:
        work(engine=engine, settings=settings, stop=stop)
    except KeyboardInterrupt:
        stop.set()
    return common.EXIT_OK


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """This group's commands, with their arguments."""
    worker = commands.add_parser(
        "worker", help=_("run queued imports (a dedicated worker process)")
    )
    worker.add_argument("--once", action="store_true", help=_("run what is queued, then stop"))
    worker.set_defaults(handler=cmd_worker)
