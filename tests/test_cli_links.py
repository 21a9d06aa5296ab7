"""`cli.py links ...`: add, list, run (the import command's contract) and the worker's turn."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from db.engine import get_engine
from db.models import ImportJob, Link, LinkRun
from tests.conftest import ROOT
from tests.servers import afas_connector, http_server
from tests.test_cli_import import cli

KEY = "k5Jx9Qw2Lm8Zr4Tn7Vb1Hc6Yd3Fg0Sa-Pe_Uo"
TOKEN = "AfasToken PHRva2VuPjxpZD4xMjM0NTwvaWQ+PC90b2tlbj4="


@pytest.fixture(autouse=True)
def portal_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INSTROOM_COOKIE_KEY", KEY)
    monkeypatch.setenv("INSTROOM_LINK_FOLDERS", str(tmp_path))


def write_export(folder: Path, rows: int, name: str = "medewerkers_1.csv") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["E-mail;Voornaam;Achternaam"] + [f"p{i}@example.nl;P{i};Jansen" for i in range(rows)]
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_add_run_and_list_a_folder_link(db_url: str, tmp_path: Path) -> None:
    write_export(tmp_path, 3)
    added = cli(
        db_url,
        "links",
        "add",
        "Personeel",
        "--source",
        f"folder:{tmp_path}/medewerkers_*.csv",
        "--daily",
        "02:00",
        "--welcome-new",
        "--group",
        "Nieuw",
        "--create-groups",
    )
    assert added.returncode == 0, added.stderr
    assert "Added link 'Personeel', first run" in added.stdout

    ran = cli(db_url, "links", "run", "Personeel", "--json")
    out = json.loads(ran.stdout)
    assert ran.returncode == 0
    assert (out["link"], out["status"], out["counts"]["created"], out["emails"]["welcome"]) == (
        "Personeel",
        "succeeded",
        3,
        3,
    )
    again = cli(db_url, "links", "run", "Personeel", "--json")
    assert (again.returncode, json.loads(again.stdout)["status"]) == (0, "unchanged")
    plain = cli(db_url, "links", "run", "Personeel")
    assert "the source is unchanged since the last run; skipped" in plain.stdout

    (listed,) = json.loads(cli(db_url, "links", "list", "--json").stdout)
    assert listed["schedule_text"] == "daily at 02:00"
    assert len(listed["next_runs"]) == 3 and all(
        r.endswith("T02:00:00+01:00") for r in listed["next_runs"]
    )
    assert (listed["last_run"]["status"], listed["has_secret"]) == ("unchanged", False)
    with Session(get_engine(db_url)) as session:
        job = session.get(ImportJob, out["job_id"])
        assert job.created_by == "link Personeel"


def test_exit_codes_follow_the_import_command(db_url: str, tmp_path: Path) -> None:
    cli(db_url, "links", "add", "Weg", "--source", f"folder:{tmp_path}/nope.csv")
    gone = cli(db_url, "links", "run", "Weg", "--json")
    out = json.loads(gone.stdout)
    assert gone.returncode == 2
    assert (out["status"], out["issues"][0]["code"]) == ("failed", "source-unavailable")
    unknown = cli(db_url, "links", "run", "Niet")
    assert unknown.returncode == 2 and "There is no link 'Niet'" in unknown.stderr

    (tmp_path / "fout.csv").write_text(
        "E-mail;Voornaam\ngoed@example.nl;A\ngeen-adres;B\n", encoding="utf-8"
    )
    cli(db_url, "links", "add", "Fout", "--source", f"folder:{tmp_path}/fout.csv")
    rejected = cli(db_url, "links", "run", "Fout", "--json")
    assert (rejected.returncode, json.loads(rejected.stdout)["status"]) == (
        1,
        "completed_with_errors",
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--source", "http://hr.example.nl/x.csv"], "plain http://"),
        (["--source", "folder:/x.csv", "--every", "30h"], "from 1 to 24 hours"),
        (["--source", "folder:/x.csv", "--cron", "0 25 * * *"], "not a cron expression"),
        (["--source", "folder:/x.csv", "--full-list"], "deactivation limit"),
    ],
)
def test_a_link_that_cannot_work_is_refused_when_added(
    db_url: str, args: list[str], words: str
) -> None:
    refused = cli(db_url, "links", "add", "X", *args)
    assert refused.returncode == 2 and words in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_token_is_never_stored_or_shown_in_plain_text(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rows = [{"Email": "afas@example.nl", "Voornaam": "Af", "Achternaam": "Fas"}]
    with http_server(afas_connector(rows), token_header="Authorization", token=TOKEN) as server:
        outputs = [add_afas_link(db_url, server, monkeypatch)]
        outputs += [
            cli(db_url, "links", "run", "AFAS", "--json"),
            cli(db_url, "links", "list", "--json"),
        ]
        outputs += [cli(db_url, "links", "list"), cli(db_url, "jobs", "--json")]
        assert server.requests[0][1]["Authorization"] == TOKEN
    assert json.loads(outputs[1].stdout)["counts"]["created"] == 1
    secret_part = TOKEN.split()[1]
    for output in outputs:
        assert secret_part not in output.stdout + output.stderr
    assert secret_part not in database_dump(db_url, tmp_path)
    with Session(get_engine(db_url)) as session:
        assert session.exec(select(Link)).one().secret  # sealed, not absent


def add_afas_link(db_url: str, server, monkeypatch: pytest.MonkeyPatch):
    """`links add AFAS` for the test's AFAS connector, its token typed on standard input."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(TOKEN + "\n"))
    url = server.url("/ProfitRestServices/connectors/Instroom")
    return cli(
        db_url,
        "links",
        "add",
        "AFAS",
        "--source",
        url,
        "--header",
        "Authorization",
        "--secret-stdin",
    )


def database_dump(db_url: str, tmp_path: Path) -> str:
    """Everything the database holds, as a backup would: the SQLite file, or pg_dump's text."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        get_engine(db_url).dispose()
        return b"".join(
            p.read_bytes() for p in Path(url.database).parent.glob("instroom.db*")
        ).decode("latin-1")
    schema = url.query["options"].removeprefix("-csearch_path=")
    base = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    dumped = subprocess.run(
        [
            "pg_dump",
            "--dbname",
            base.replace("@/", "@localhost/") if "@/" in base else base,
            "--schema",
            schema,
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PGHOST": "/var/run/postgresql"},
    )
    assert dumped.returncode == 0, dumped.stderr
    assert "CREATE TABLE" in dumped.stdout and "links" in dumped.stdout
    return dumped.stdout


@pytest.mark.postgres
def test_two_worker_processes_run_each_due_link_once(postgres_url: str, tmp_path: Path) -> None:
    links = 6
    for n in range(links):
        write_export(tmp_path / f"hr{n}", 2 + n)
        added = cli(
            postgres_url,
            "links",
            "add",
            f"L{n}",
            "--source",
            f"folder:{tmp_path}/hr{n}/*.csv",
            "--every",
            "1h",
        )
        assert added.returncode == 0, added.stderr
    engine = get_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE links SET next_run_at = now() - interval '3 hours'"))
    env = {**os.environ, "DATABASE_URL": postgres_url, "INSTROOM_COOKIE_KEY": KEY}
    env["INSTROOM_LINK_FOLDERS"] = str(tmp_path)
    workers = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "cli.py"), "worker", "--once"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    printed = [w.communicate(timeout=180) for w in workers]
    assert all(w.returncode == 0 for w in workers), printed
    ran = [
        line.split(" (import")[0]
        for out, _ in printed
        for line in out.splitlines()
        if line.startswith("Ran link")
    ]
    assert sorted(ran) == [f"Ran link 'L{n}': succeeded" for n in range(links)], printed
    with Session(engine) as session:
        per_link = dict(
            session.exec(select(LinkRun.link_id, func.count()).group_by(LinkRun.link_id)).all()
        )
        assert sorted(per_link.values()) == [1] * links
        assert session.exec(select(func.count()).select_from(ImportJob)).one() == links
        assert all(link.next_run_at > link.created_at for link in session.exec(select(Link)))
    assert "Traceback" not in "".join(err for _, err in printed)


def test_an_sftp_link_with_a_private_key_pins_and_forgets_the_host_key(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import asyncssh

    from tests.servers import sftp_server

    key = asyncssh.generate_private_key("ssh-ed25519")
    private = key.export_private_key("openssh").decode()
    public = key.export_public_key("openssh").decode()
    write_export(tmp_path / "export", 2, "medewerkers_20261202.csv")
    with sftp_server(tmp_path, client_key=public) as server:
        monkeypatch.setattr(sys, "stdin", io.StringIO(private))
        source = server.source("/export/medewerkers_*.csv")
        added = cli(db_url, "links", "add", "SFTP", "--source", source, "--secret-stdin")
        assert added.returncode == 0, added.stderr
        ran = cli(db_url, "links", "run", "SFTP", "--json")
        assert (ran.returncode, json.loads(ran.stdout)["counts"]["created"]) == (0, 2)
        assert set(server.logins) == {("hr", "(key)")}  # the key, never a password
    listed = cli(db_url, "links", "list")
    assert f"SFTP host key (pinned): {server.host_key}" in listed.stdout
    assert "PRIVATE KEY" not in listed.stdout + ran.stdout
    assert cli(db_url, "links", "forget-host-key", "SFTP").returncode == 0
    assert "host key" not in cli(db_url, "links", "list").stdout


def test_links_run_on_the_time_zone_chosen_in_settings(db_url: str, tmp_path: Path) -> None:
    from core.config import Settings
    from core.saved_settings import save_time_zone
    from db.engine import session_scope

    assert cli(db_url, "links", "list").returncode == 0  # creates the database
    with session_scope(get_engine(db_url)) as session:
        save_time_zone(session=session, settings=Settings(database_url=db_url), name="Asia/Tokyo")
    write_export(tmp_path, 1)
    added = cli(
        db_url, "links", "add", "Nacht", "--source", f"folder:{tmp_path}/*.csv", "--daily", "02:00"
    )
    assert added.returncode == 0, added.stderr
    (listed,) = json.loads(cli(db_url, "links", "list", "--json").stdout)
    assert all(r.endswith("T02:00:00+09:00") for r in listed["next_runs"]), listed["next_runs"]
    with Session(get_engine(db_url)) as session:
        link = session.exec(select(Link)).one()
    # 02:00 in Tokyo is 17:00 UTC the day before.
    assert link.next_run_at.hour == 17


def test_a_run_killed_half_way_is_recorded_mailed_and_can_start_again(
    db_url: str, tmp_path: Path
) -> None:
    import signal
    import time

    from core.config import Settings
    from core.worker import claim_next_job, requeue_job, run_job
    from db.engine import session_scope
    from db.models import EmailMessage, User

    write_export(tmp_path / "hr", 60_000)
    added = cli(
        db_url,
        "links",
        "add",
        "Groot",
        "--source",
        f"folder:{tmp_path}/hr/*.csv",
        "--notify",
        "hr@example.nl",
    )
    assert added.returncode == 0, added.stderr
    env = {**os.environ, "DATABASE_URL": db_url}
    running = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "links", "run", "Groot"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    engine = get_engine(db_url)

    def job_status() -> str | None:
        with Session(engine) as session:
            job = session.exec(select(ImportJob)).first()
            return job.status if job else None

    deadline = time.monotonic() + 90
    while job_status() != "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    assert running.poll() is None and job_status() == "running"
    os.kill(running.pid, signal.SIGKILL)
    running.wait(timeout=30)

    swept = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "worker", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Link 'Groot': a run stopped half-way." in swept.stdout, swept.stdout + swept.stderr
    with Session(engine) as session:
        run = session.exec(select(LinkRun)).one()
        link = session.exec(select(Link)).one()
        mail = session.exec(select(EmailMessage)).one()
        job = session.exec(select(ImportJob)).one()
        assert (run.status, run.refusal["code"], run.job_id) == (
            "failed",
            "run-interrupted",
            job.id,
        )
        assert link.failures_in_row == 1
        assert mail.recipient == "hr@example.nl" and "Niets van de import is bewaard" in mail.body
        assert job.status == "interrupted"
        assert session.exec(select(func.count()).select_from(User)).one() == 0
    with session_scope(engine) as session:
        requeue_job(session=session, job_id=job.id)
    assert claim_next_job(engine=engine) == job.id
    result = run_job(engine=engine, job_id=job.id, settings=Settings(database_url=db_url))
    assert result.counts["created"] == 60_000


def test_a_vault_key_rotation_seals_every_secret_again_and_links_still_run(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rows = [{"Email": "afas@example.nl", "Voornaam": "Af", "Achternaam": "Fas"}]
    vault = Path(make_url(sqlite_url).database).parent / "vault_key"
    with http_server(afas_connector(rows), token_header="Authorization", token=TOKEN) as server:
        added = add_afas_link(sqlite_url, server, monkeypatch)
        assert added.returncode == 0, added.stderr
        with Session(get_engine(sqlite_url)) as session:
            sealed = session.exec(select(Link)).one().secret
        before = vault.read_text().split()
        rotated = cli(sqlite_url, "keys", "rotate-vault")
        assert rotated.returncode == 0, rotated.stderr
        assert "1 stored secrets were sealed with it again" in rotated.stdout
        after = vault.read_text().split()
        assert len(after) == 1 and after[0] not in before
        with Session(get_engine(sqlite_url)) as session:
            assert session.exec(select(Link)).one().secret != sealed
        ran = cli(sqlite_url, "links", "run", "AFAS", "--json")
        assert json.loads(ran.stdout)["counts"]["created"] == 1
        assert server.requests[-1][1]["Authorization"] == TOKEN
    # The cookie key is set in the environment here: rotating it is done there.
    refused = cli(sqlite_url, "keys", "rotate-cookie")
    assert refused.returncode == 2 and "change it there" in refused.stderr
    monkeypatch.delenv("INSTROOM_COOKIE_KEY")
    cookie = Path(make_url(sqlite_url).database).parent / "cookie_key"
    first = cli(sqlite_url, "keys", "rotate-cookie")
    assert first.returncode == 0 and "everyone has to log in again" in first.stdout
    assert cookie.read_text().strip() and cookie.stat().st_mode & 0o777 == 0o600
