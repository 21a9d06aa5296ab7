"""Links run as ordinary imports: from a folder, SFTP and AFAS's connector, on a schedule."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from core.config import Settings
from core.links import (
    LinkDraft,
    create_link,
    describe_link,
    run_due_links,
    run_link,
    set_paused,
)
from core.mail import deliver_pending
from core.options import ImportOptions
from core.read import ReadOptions
from db.engine import session_scope
from db.models import EmailMessage, ImportJob, Link, LinkRun, User
from tests.conftest import Inbox
from tests.servers import afas_connector, http_server, sftp_server

KEY = "k5Jx9Qw2Lm8Zr4Tn7Vb1Hc6Yd3Fg0Sa-Pe_Uo"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
HEADER = "email;voornaam;achternaam;mobiel"


def settings_for(db_url: str, folder: Path, inbox: Inbox | None = None) -> Settings:
    mail = {"smtp_host": inbox.host, "smtp_port": inbox.port} if inbox else {}
    return Settings(database_url=db_url, cookie_key=KEY, link_folders=(folder,), **mail)


def add_link(engine: Engine, settings: Settings, name: str, source: str, **kw: object) -> Link:
    options = kw.pop("options", ImportOptions())
    draft = LinkDraft(
        name=name,
        source=source,
        mapping=kw.pop("mapping", []),
        options=options,
        read_options=ReadOptions(),
        **kw,
    )
    with session_scope(engine) as session:
        link = create_link(
            session=session, settings=settings, draft=draft, created_by="beheer", now=NOW
        )
        session.expunge(link)
        return link


def export(folder: Path, name: str, rows: list[str], mtime: float = 1_000.0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    os.utime(path, (mtime, mtime))
    return path


def people(n: int, start: int = 0) -> list[str]:
    return [f"m{i}@example.nl;Mede{i};Werker;0612345{i:03d}" for i in range(start, start + n)]


def runs_of(engine: Engine, name: str) -> list[LinkRun]:
    with Session(engine) as session:
        link = session.exec(select(Link).where(Link.name == name)).one()
        return list(
            session.exec(select(LinkRun).where(LinkRun.link_id == link.id).order_by(LinkRun.id))
        )


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_a_folder_link_imports_then_skips_an_unchanged_export(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    settings = settings_for(db_url, tmp_path)
    export(tmp_path / "hr", "medewerkers_1.csv", people(3))
    add_link(engine, settings, "Personeel", f"folder:{tmp_path}/hr/medewerkers_*.csv")

    first = run_link(engine=engine, settings=settings, name="Personeel", now=NOW)
    assert (first.status, first.result.counts["created"]) == ("succeeded", 3)
    with Session(engine) as session:
        job = session.get(ImportJob, first.job_id)
        assert (job.created_by, job.file_name) == ("link Personeel", "medewerkers_1.csv")
        assert (
            session.exec(select(User).where(User.email == "m1@example.nl")).one().profile
        )  # mobile kept
        assert session.exec(select(User.email).order_by(User.email)).all() == [
            "m0@example.nl",
            "m1@example.nl",
            "m2@example.nl",
        ]

    again = run_link(engine=engine, settings=settings, name="Personeel", now=NOW)
    assert (again.status, again.job_id) == ("unchanged", None)
    assert count(engine, ImportJob) == 1

    export(tmp_path / "hr", "medewerkers_2.csv", people(4), mtime=2_000.0)
    third = run_link(engine=engine, settings=settings, name="Personeel", now=NOW)
    assert (third.status, third.result.counts["created"], third.result.counts["unchanged"]) == (
        "succeeded",
        1,
        3,
    )
    assert [r.status for r in runs_of(engine, "Personeel")] == [
        "succeeded",
        "unchanged",
        "succeeded",
    ]


def test_a_folder_file_is_moved_to_done_once_it_is_imported(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    settings = settings_for(db_url, tmp_path)
    export(tmp_path, "medewerkers.csv", people(2))
    add_link(engine, settings, "Map", f"folder:{tmp_path}/medewerkers*.csv", move_done=True)
    dry = run_link(engine=engine, settings=settings, name="Map", dry_run=True, now=NOW)
    assert (dry.dry_run, dry.result.counts["created"], count(engine, User)) == (True, 2, 0)
    assert (tmp_path / "medewerkers.csv").exists()  # a dry run leaves the file where it is
    run_link(engine=engine, settings=settings, name="Map", now=NOW)
    assert not (tmp_path / "medewerkers.csv").exists()
    assert (tmp_path / "done" / "medewerkers.csv").exists()


def test_a_full_list_link_over_its_limit_writes_nothing_and_mails_the_list(
    engine: Engine, db_url: str, tmp_path: Path, inbox: Inbox
) -> None:
    settings = settings_for(db_url, tmp_path, inbox)
    export(tmp_path, "alle.csv", people(10))
    options = ImportOptions(full_list=True, max_deactivate="2")
    add_link(
        engine,
        settings,
        "Volledig",
        f"folder:{tmp_path}/alle.csv",
        options=options,
        notify=("hr@example.nl",),
    )
    assert (
        run_link(engine=engine, settings=settings, name="Volledig", now=NOW).status == "succeeded"
    )

    export(tmp_path, "alle.csv", people(6), mtime=2_000.0)  # four people fell out of the export
    refused = run_link(engine=engine, settings=settings, name="Volledig", now=NOW)
    assert refused.status == "failed"
    assert "would deactivate 4 of 10" in refused.as_json()["issues"][0]["message"]
    with Session(engine) as session:
        assert (
            session.exec(
                select(func.count()).select_from(User).where(User.status == "blocked")
            ).one()
            == 0
        )
    deliver_pending(engine=engine, settings=settings)
    (mail,) = inbox.to("hr@example.nl")
    text = Inbox.text(mail)
    assert mail["Subject"] == 'Koppeling "Volledig": import mislukt'
    assert "Er is niets gewijzigd. Deze 4 gebruikers zouden zijn geblokkeerd:" in text
    # The reason in the mail's language, the time on the portal's clock (09:00 UTC is 10:00).
    assert "Reden: Deze import van de volledige lijst zou 4 van de 10 gebruikers" in text
    assert '"Volledig" kon niet importeren (2 december 2026 10:00).' in text
    for i in range(6, 10):
        assert f"- m{i}@example.nl (Mede{i} Werker)" in text
    assert "m5@example.nl" not in text


def test_a_full_list_link_must_have_a_limit(engine: Engine, db_url: str, tmp_path: Path) -> None:
    from core.links import LinkError

    with pytest.raises(LinkError, match="deactivation limit"):
        add_link(
            engine,
            settings_for(db_url, tmp_path),
            "X",
            f"folder:{tmp_path}/x.csv",
            options=ImportOptions(full_list=True),
        )


def test_three_failures_in_a_row_pause_the_link_and_say_why(
    engine: Engine, db_url: str, tmp_path: Path, inbox: Inbox
) -> None:
    settings = settings_for(db_url, tmp_path, inbox)
    add_link(
        engine,
        settings,
        "Weg",
        f"folder:{tmp_path}/niet-er/x.csv",
        schedule="every 1h",
        notify=("hr@example.nl",),
    )
    times = [NOW + timedelta(hours=h) for h in (1, 2, 3, 4)]
    outcomes = [run_due_links(engine=engine, settings=settings, now=t) for t in times]
    assert [len(o) for o in outcomes] == [
        1,
        1,
        1,
        0,
    ]  # paused after the third: the fourth hour runs nothing
    assert outcomes[2][0].paused
    with Session(engine) as session:
        link = session.exec(select(Link)).one()
        assert link.paused and link.failures_in_row == 3
        english = describe_link(link, session=session, settings=settings, now=times[-1])
        dutch = describe_link(
            link, session=session, settings=settings, now=times[-1], language="nl"
        )
    folder = tmp_path / "niet-er"
    assert english["pause_reason"] == (
        "Paused after 3 failed runs in a row; the last: The folder "
        f"{folder} does not exist or cannot be read by Instroom."
    )
    assert dutch["pause_reason"] == (
        "Gepauzeerd na 3 mislukte runs op rij; de laatste: De map "
        f"{folder} bestaat niet of kan niet door Instroom worden gelezen."
    )
    assert (dutch["schedule_text"], dutch["source_text"]) == (
        "elk uur",
        f"map {folder}, nieuwste bestand dat past bij x.csv",
    )
    deliver_pending(engine=engine, settings=settings)
    subjects = [m["Subject"] for m in inbox.to("hr@example.nl")]
    assert subjects == ['Koppeling "Weg": import mislukt'] * 2 + ['Koppeling "Weg" gepauzeerd']
    assert 'python cli.py links resume "Weg"' in Inbox.text(inbox.to("hr@example.nl")[-1])

    with session_scope(engine) as session:
        set_paused(session=session, settings=settings, name="Weg", paused=False, now=times[-1])
    with Session(engine) as session:
        link = session.exec(select(Link)).one()
        assert (link.paused, link.failures_in_row, link.next_run_at) == (
            False,
            0,
            times[-1] + timedelta(hours=1),
        )


def test_runs_missed_while_nothing_ran_happen_once(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    settings = settings_for(db_url, tmp_path)
    export(tmp_path, "m.csv", people(1))
    link = add_link(engine, settings, "Nacht", f"folder:{tmp_path}/m.csv", schedule="daily 02:00")
    assert link.next_run_at == datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # 02:00 in Amsterdam
    a_week_later = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
    assert len(run_due_links(engine=engine, settings=settings, now=a_week_later)) == 1
    assert run_due_links(engine=engine, settings=settings, now=a_week_later) == []
    with Session(engine) as session:
        assert session.exec(select(Link)).one().next_run_at == datetime(
            2026, 12, 11, 1, 0, tzinfo=UTC
        )


def test_an_afas_connector_link_reads_every_page(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    settings = settings_for(db_url, tmp_path)
    token = "AfasToken PHRva2VuPjxpZD4xPC9pZD48L3Rva2VuPg=="
    rows = [
        {"Email": f"a{i}@example.nl", "Voornaam": f"A{i}", "Achternaam": "Fas"} for i in range(230)
    ]
    with http_server(afas_connector(rows), token_header="Authorization", token=token) as server:
        add_link(
            engine,
            settings,
            "AFAS",
            server.url("/ProfitRestServices/connectors/Instroom_Medewerkers"),
            header="Authorization",
            secrets={"header": token},
        )
        outcome = run_link(engine=engine, settings=settings, name="AFAS", now=NOW)
        assert len(server.requests) == 3  # 100 + 100 + 30 rows
    assert (outcome.status, outcome.result.counts["created"]) == ("succeeded", 230)
    with Session(engine) as session:
        link = session.exec(select(Link)).one()
        assert token not in link.secret and link.secret


def test_a_wrong_token_fails_the_run_with_the_servers_answer(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    settings = settings_for(db_url, tmp_path)
    with http_server(
        afas_connector([]), token_header="Authorization", token="AfasToken goed"
    ) as server:
        add_link(
            engine,
            settings,
            "AFAS",
            server.url("/c"),
            header="Authorization",
            secrets={"header": "AfasToken fout"},
        )
        outcome = run_link(engine=engine, settings=settings, name="AFAS", now=NOW)
    assert (outcome.status, outcome.code) == ("failed", "source-unavailable")
    assert "answered 401 Unauthorized" in outcome.error and "Ongeldig token" in outcome.error
    (run,) = runs_of(engine, "AFAS")
    assert run.error == outcome.error and "fout" not in run.error
    assert count(engine, ImportJob) == 0


def test_an_sftp_link_pins_the_host_key_of_its_first_run(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    settings = settings_for(db_url, tmp_path)
    export(tmp_path / "export", "medewerkers_20261202.csv", people(2))
    with sftp_server(tmp_path) as server:
        add_link(
            engine,
            settings,
            "SFTP",
            server.source("/export/medewerkers_*.csv"),
            secrets={"password": "nacht-export"},
        )
        outcome = run_link(engine=engine, settings=settings, name="SFTP", now=NOW)
    assert (outcome.status, outcome.result.counts["created"]) == ("succeeded", 2)
    with Session(engine) as session:
        assert session.exec(select(Link)).one().host_key == server.host_key

    # Another server on that address (a new key): refused before the password is sent.
    with sftp_server(tmp_path) as impostor:
        with session_scope(engine) as session:
            link = session.exec(select(Link)).one()
            link.source = impostor.source("/export/medewerkers_*.csv")
        refused = run_link(engine=engine, settings=settings, name="SFTP", now=NOW)
        assert (refused.status, refused.code) == ("failed", "host-key-changed")
        assert impostor.logins == []


def test_a_failure_queues_no_mail_when_the_link_names_nobody(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    settings = settings_for(db_url, tmp_path)
    add_link(engine, settings, "Stil", f"folder:{tmp_path}/none.csv")
    assert run_link(engine=engine, settings=settings, name="Stil", now=NOW).status == "failed"
    assert count(engine, EmailMessage) == 0
