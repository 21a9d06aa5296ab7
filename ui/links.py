"""Settings > Links: the scheduled imports, their last runs, and the form that makes one."""

from collections.abc import Callable
from functools import partial
from zoneinfo import ZoneInfo

import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session

from core.accounts import SignedInAccount
from core.config import Settings
from core.i18n import N_
from core.issues import InstroomError, Issue
from core.links import (
    LinkDraft,
    LinkOutcome,
    create_link,
    describe_link,
    forget_host_key,
    remove_link,
    run_link,
    secrets_for,
    set_paused,
)
from core.options import ImportOptions
from core.read import ReadOptions
from core.schedule import next_runs, parse_schedule
from db.links import get_link_by_name, list_link_runs, list_links
from db.models import id_of, utcnow
from db.vocabulary import RunStatus
from ui.progress import COUNT_WORDS
from ui.text import _, current_language, moment, number, reason
from ui.widgets import md, run_action

# What the form needs to become a link; the caller adds the mapping, options and reading.
DraftMaker = Callable[..., LinkDraft]
OUTCOME_KEY = "link_outcome"
SCHEDULES = {
    "hand": N_("By hand only"),
    "every": N_("Every N hours"),
    "daily": N_("Daily at"),
    "cron": N_("Cron expression"),
}
STATUS_WORDS = {
    "succeeded": N_("succeeded"),
    "completed_with_errors": N_("completed, rows rejected"),
    "failed": N_("failed"),
    "unchanged": N_("unchanged, skipped"),
    "running": N_("running"),
}


def links_section(engine: Engine, settings: Settings, account: SignedInAccount) -> None:
    """Every link with its schedule and last run; run, dry-run, pause or remove one."""
    st.write(
        _(
            "A link imports the HR system's export by itself, on a schedule, with the mapping "
            "and options of an import. Save one from the import wizard's last step, or below "
            "(its columns are then mapped as the wizard suggests)."
        )
    )
    now, language = utcnow(), current_language()
    with Session(engine) as session:
        links = [
            describe_link(k, session=session, settings=settings, now=now, language=language)
            for k in list_links(session=session)
        ]
    if not links:
        st.info(_("There are no links yet."))
    else:
        st.dataframe(
            [
                {
                    _("Name"): k["name"],
                    _("Source"): k["source_text"],
                    _("Schedule"): k["schedule_text"],
                    _("Next run"): _when(k["next_runs"][0]) if k["next_runs"] else "",
                    _("State"): _("paused") if k["paused"] else _("active"),
                    _("Last run"): _last_run(k["last_run"]),
                }
                for k in links
            ],
            hide_index=True,
            placeholder="",
        )
        _manage(engine, settings, links)
    with st.expander(_("Add a link")):
        make = partial(LinkDraft, mapping=[], options=ImportOptions(), read_options=ReadOptions())
        link_form(engine, settings, account, key="new_link", make=make)


def _last_run(run: dict | None) -> str:
    if run is None:
        return _("never")
    return _when(run["started_at"]) + ": " + _status(run["status"])


def _status(status: str) -> str:
    return _(STATUS_WORDS[status]) if status in STATUS_WORDS else status


def _when(iso: str) -> str:
    return iso[:16].replace("T", " ")


def _manage(engine: Engine, settings: Settings, links: list[dict]) -> None:
    names = [k["name"] for k in links]
    name = st.selectbox(_("Link"), names, key="link_chosen")
    link = next(k for k in links if k["name"] == name)
    if link["paused"]:
        st.warning(md(link["pause_reason"] or _("Paused.")))
    if link["host_key"]:
        pinned = _("SFTP host key, pinned on the first run: {key}").format(key=md(link["host_key"]))
        st.caption(pinned)
        if st.button(_("Forget the pinned host key"), key="link_forget_key"):
            forgotten = _("The next run pins the key it is shown.")
            run_action(engine, forget_host_key, forgotten, name=name)
    if link["next_runs"]:
        st.caption(
            _("Next runs: ")
            + ", ".join(_when(r) for r in link["next_runs"])
            + f" ({settings.time_zone})"
        )
    run, dry, pause, remove = st.columns(4)
    for column, label, dry_run in ((run, _("Run now"), False), (dry, _("Dry run now"), True)):
        if column.button(
            label, key=f"link_{label}", type="primary" if not dry_run else "secondary"
        ):
            # Shown after a rerun, so the table above already has this run in it.
            st.session_state[OUTCOME_KEY] = _run(engine, settings, name, dry_run=dry_run)
            st.rerun()
    if OUTCOME_KEY in st.session_state:
        _show(st.session_state.pop(OUTCOME_KEY))
    verb = _("Resume") if link["paused"] else _("Pause")
    if pause.button(verb, key="link_pause"):
        run_action(
            engine,
            set_paused,
            (_("Link {name!r} resumed.") if link["paused"] else _("Link {name!r} paused.")).format(
                name=name
            ),
            settings=settings,
            name=name,
            paused=not link["paused"],
            now=utcnow(),
        )
    confirm = remove.popover(_("Remove"))
    confirm.write(
        _("Remove the link {name}? Its imports stay in the history.").format(name=md(name))
    )
    if confirm.button(_("Remove the link"), key="link_remove"):
        run_action(
            engine,
            remove_link,
            _("Link {name!r} removed; its imports stay in the history.").format(name=name),
            name=name,
        )
    with Session(engine) as session:
        stored = get_link_by_name(session=session, name=name)
        runs = list_link_runs(session=session, link_id=id_of(stored), limit=20) if stored else []
    zone, language = ZoneInfo(settings.time_zone), current_language()
    st.dataframe(
        [
            {
                _("Started"): r.started_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                _("Status"): _status(r.status) + (_(" (dry run)") if r.dry_run else ""),
                "Import": f"/History?job={r.job_id}" if r.job_id else "",
                _("File"): r.file_name,
                _("Created"): r.counts.get("created", 0),
                _("Updated"): r.counts.get("updated", 0),
                _("Rejected"): r.counts.get("errors", 0),
                _("Why"): Issue(**r.refusal).text(language) if r.refusal else r.error or "",
            }
            for r in runs
        ],
        hide_index=True,
        placeholder="",
        column_config={"Import": st.column_config.LinkColumn("Import", display_text=r"job=(\d+)")},
    )


def _run(engine: Engine, settings: Settings, name: str, *, dry_run: bool) -> LinkOutcome | str:
    try:
        with st.spinner(_("Fetching the source and importing…") if not dry_run else _("Planning…")):
            return run_link(engine=engine, settings=settings, name=name, dry_run=dry_run)
    except InstroomError as exc:
        return reason(exc)


def _show(outcome: LinkOutcome | str) -> None:
    if isinstance(outcome, str):
        st.error(md(outcome))
        return
    if outcome.result is not None:
        counts = outcome.result.counts
        words = ", ".join(
            f"{_(COUNT_WORDS[k]).lower()} {number(v)}"
            for k, v in counts.items()
            if v and k in COUNT_WORDS
        )
        verb = (
            _("Dry run") if outcome.dry_run else _("Import {job_id}").format(job_id=outcome.job_id)
        )
        text = _("{verb}: {status} ({rows} rows; {counts}).").format(
            verb=verb,
            status=_status(outcome.status),
            rows=number(counts["rows"]),
            counts=words or _("nothing to change"),
        )
        (st.success if outcome.status == RunStatus.SUCCEEDED else st.warning)(md(text))
        plan = outcome.result.plan
        if plan.refused:
            st.error(md(plan.refused))
        if plan.deactivate:
            gone = _("{count} users the export no longer lists:")
            st.write(gone.format(count=number(len(plan.deactivate))))
            st.dataframe([{_("Email"): d.email, _("Name"): d.name} for d in plan.deactivate])
        if plan.issues:
            st.write(_("{count} issues:").format(count=number(len(plan.issues))))
            st.dataframe(
                [
                    {
                        _("Row"): i.row,
                        _("Column"): i.column,
                        _("Severity"): _(i.severity),
                        _("Message"): i.text(current_language()),
                    }
                    for i in plan.issues
                ],
                hide_index=True,
                placeholder="",
            )
    elif outcome.status == "unchanged":
        st.info(_("The source is unchanged since the last run; nothing was imported."))
    if outcome.error:
        st.error(md(outcome.error))
    if outcome.paused:
        st.warning(_("The link is paused after three failed runs in a row."))


def link_form(
    engine: Engine, settings: Settings, account: SignedInAccount, *, key: str, make: DraftMaker
) -> None:
    """Name, source, secret, schedule (its next three runs shown as it is typed) and mail."""
    name = st.text_input(_("Name of the link"), key=f"{key}_name", placeholder=_("Staff AFAS"))
    source = st.text_input(
        _("Source"),
        key=f"{key}_source",
        placeholder=_("folder:/srv/hr/employees_*.csv"),
        help=_(
            "A folder on this server with a file name or pattern "
            "(folder:/path/medewerkers_*.csv); an SFTP server "
            "(sftp://user@host:22/path/medewerkers_*.csv); or a web address "
            "(https://12345.rest.afas.online/ProfitRestServices/connectors/Medewerkers)."
        ),
    )
    header = st.text_input(
        _("Header the token is sent in (web addresses)"),
        key=f"{key}_header",
        placeholder=_("Authorization"),
    )
    secret = st.text_input(
        _("Password, private key or token"),
        key=f"{key}_secret",
        type="password",
        help=_("Stored encrypted and never shown again. For AFAS: AfasToken and the token."),
    )
    schedules = {k: _(v) for k, v in SCHEDULES.items()}
    kind = st.radio(
        _("When"),
        list(schedules),
        format_func=lambda k: schedules[k],
        horizontal=True,
        key=f"{key}_when",
    )
    schedule = ""
    if kind == "every":
        hours = st.number_input(_("Hours"), 1, 24, 6, key=f"{key}_hours")
        schedule = f"every {hours}h"
    elif kind == "daily":
        schedule = "daily " + st.text_input(_("Time (HH:MM)"), "02:00", key=f"{key}_daily")
    elif kind == "cron":
        schedule = "cron " + st.text_input(_("Cron expression"), "0 2 * * 1-5", key=f"{key}_cron")
    if schedule:
        try:
            runs = next_runs(parse_schedule(schedule), after=utcnow(), time_zone=settings.time_zone)
            st.caption(
                _("Next runs: ")
                + ", ".join(moment(r, settings.time_zone) for r in runs)
                + f" ({settings.time_zone})"
            )
        except InstroomError as exc:
            st.error(md(reason(exc)))
    notify = st.text_input(
        _("Mail failed runs to (addresses, separated by commas)"),
        account.email,
        key=f"{key}_notify",
    )
    move_done = st.checkbox(_("Move an imported folder file to done/"), key=f"{key}_done")
    if st.button(_("Save the link"), key=f"{key}_save", type="primary"):
        try:
            draft = make(
                name=name,
                source=source,
                schedule=schedule,
                header=header or None,
                secrets=secrets_for(source, secret),
                notify=tuple(a.strip() for a in notify.split(",") if a.strip()),
                move_done=move_done,
            )
        except InstroomError as exc:
            st.error(md(reason(exc)))
            return
        run_action(
            engine,
            create_link,
            _("Link {name!r} saved.").format(name=name.strip()),
            settings=settings,
            draft=draft,
            created_by=account.username,
            now=utcnow(),
        )
