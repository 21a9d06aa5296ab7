"""`cli.py import`, `users`, `export` and `jobs` as a script would call them: the contract."""

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.conftest import ROOT, SAMPLES

COUNT_KEYS = {
    "rows",
    "created",
    "updated",
    "unchanged",
    "skipped",
    "blocked",
    "unblocked",
    "renamed",
    "deactivated",
    "deleted",
    "errors",
    "warnings",
}


def cli(db_url: str, *args: str, process: bool = False) -> subprocess.CompletedProcess[str]:
    """Run cli.py as a script would: in this process (fast), or as a real process."""
    if process:
        return subprocess.run(
            [sys.executable, str(ROOT / "cli.py"), *args],
            env={**os.environ, "DATABASE_URL": db_url},
            text=True,
            capture_output=True,
            timeout=120,
            check=False,
        )
    import cli as command_line

    out, err = io.StringIO(), io.StringIO()
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = db_url
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = command_line.main(list(args))
            except SystemExit as exc:  # argparse refusing the arguments
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def cli_json(db_url: str, *args: str, process: bool = False) -> tuple[int, dict]:
    result = cli(db_url, *args, "--json", process=process)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def test_json_contract_and_exit_0(db_url: str) -> None:
    # A real process, as a script calls it; the other tests run the CLI in this process.
    code, out = cli_json(
        db_url,
        "import",
        str(SAMPLES / "caseware-personeel.csv"),
        "--create-groups",
        "--welcome-new",
        process=True,
    )
    assert code == 0
    assert set(out) == {"job_id", "status", "dry_run", "counts", "issues", "emails"}
    assert set(out["counts"]) == COUNT_KEYS
    assert (out["status"], out["dry_run"], out["counts"]["created"]) == ("succeeded", False, 4)
    assert isinstance(out["job_id"], int) and out["issues"] == []
    # No mail server is configured here: the four welcome mails are recorded as not sent.
    assert out["emails"] == {
        "welcome": 4,
        "updated": 0,
        "sent": 0,
        "failed": 0,
        "skipped": 4,
        "queued": 0,
    }
    code, again = cli_json(
        db_url,
        "import",
        str(SAMPLES / "caseware-personeel.csv"),
        "--create-groups",
        "--welcome-new",
    )
    assert code == 0 and again["counts"]["unchanged"] == 4 and again["emails"]["welcome"] == 0


def test_rejected_rows_exit_1_with_issues_and_a_file_to_fix(db_url: str, tmp_path: Path) -> None:
    source = tmp_path / "medewerkers.csv"
    source.write_text(
        "Email;Voornaam;Achternaam\nok@example.org;Ok;Rij\nfout;Fout;Rij\nzonder@example.org;;\n"
    )
    rejected = tmp_path / "afgekeurd.xlsx"
    code, out = cli_json(db_url, "import", str(source), "--rejected-out", str(rejected))
    assert code == 1 and out["status"] == "completed_with_errors"
    assert (out["counts"]["created"], out["counts"]["errors"]) == (1, 2)
    assert [
        (i["row"], i["column"], i["field"], i["code"], i["severity"]) for i in out["issues"]
    ] == [
        (3, "Email", "email", "invalid-email", "error"),
        (4, "Voornaam", "first_name", "missing-name", "error"),
    ]
    sheet = load_workbook(rejected).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["Email", "Voornaam", "Achternaam", "Error"]
    assert values[1][:3] == ["fout", "Fout", "Rij"] and "not a valid email" in values[1][3]
    assert values[2][0] == "zonder@example.org"


def test_strict_rejects_the_file_with_exit_1_and_writes_no_user(
    db_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "u.csv"
    source.write_text("Email;Voornaam;Achternaam\nok@example.org;Ok;Rij\nfout;Fout;Rij\n")
    code, out = cli_json(db_url, "import", str(source), "--strict")
    assert (code, out["status"], out["counts"]["created"]) == (1, "failed", 0)
    code, users = cli_json(db_url, "users")
    assert users == []


@pytest.mark.parametrize(
    ("content", "args", "code"),
    [
        (b"", (), "empty-file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), (), "not-a-spreadsheet"),
        (b"Naam;Plaats\nAnn;Delft\n", (), "missing-required-field"),
        (b"Email\na@example.org\n", ("--map", "Nope=email"), "unknown-column"),
    ],
    ids=["empty", "png", "no-email-column", "unknown-map-column"],
)
def test_unusable_input_exits_2_and_writes_nothing(
    db_url: str, tmp_path: Path, content: bytes, args: tuple[str, ...], code: str
) -> None:
    source = tmp_path / "u.csv"
    source.write_bytes(content)
    exit_code, out = cli_json(db_url, "import", str(source), *args)
    assert exit_code == 2 and out["job_id"] is None
    assert [i["code"] for i in out["issues"]] == [code]
    _, jobs = cli_json(db_url, "jobs")
    assert jobs == []


def test_bad_arguments_exit_2(sqlite_url: str) -> None:
    result = cli(sqlite_url, "import", "does-not-exist.csv")
    assert result.returncode == 2 and "There is no file" in result.stderr
    result = cli(sqlite_url, "import", str(SAMPLES / "plek-voorbeeld.tsv"), "--mode", "merge")
    assert result.returncode == 2 and "invalid choice" in result.stderr
    result = cli(
        sqlite_url, "import", str(SAMPLES / "plek-voorbeeld.tsv"), "--max-deactivate", "lots"
    )
    assert result.returncode == 2 and "deactivation limit" in result.stderr
    assert result.stderr.rstrip().endswith("(invalid-option)")
    # A script asking for JSON reads the refused option by its code, as an import's refusals.
    plek = str(SAMPLES / "plek-voorbeeld.tsv")
    code, out = cli_json(sqlite_url, "import", plek, "--max-deactivate", "lots")
    assert (code, out["status"], [i["code"] for i in out["issues"]]) == (
        2,
        "failed",
        ["invalid-option"],
    )
    result = cli(sqlite_url, "import", plek, "--role", "bogus-role")
    assert result.returncode == 2 and "There is no role 'bogus-role'" in result.stderr
    result = cli(sqlite_url, "import", plek, "--language", "xx", "--dry-run")
    assert result.returncode == 2 and "There is no language 'xx'" in result.stderr
    result = cli(sqlite_url, "import", plek, "--notify-admin", "a@example.org\r\nBcc: x@evil.nl")
    assert result.returncode == 2 and "not a valid email address" in result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(cli(sqlite_url, "jobs", "--json").stdout) == []


def test_dry_run_map_options_and_readable_summary(sqlite_url: str) -> None:
    plek = str(SAMPLES / "plek-voorbeeld.tsv")
    code, out = cli_json(
        sqlite_url,
        "import",
        plek,
        "--dry-run",
        "--map",
        "Extra profielveld=job_title",
        "--role",
        "manager",
        "--language",
        "en",
    )
    assert (code, out["dry_run"], out["job_id"], out["counts"]["created"]) == (0, True, None, 1)
    _, users = cli_json(sqlite_url, "users")
    assert users == []
    result = cli(
        sqlite_url,
        "import",
        plek,
        "--map",
        "Extra profielveld=job_title",
        "--role",
        "manager",
        "--language",
        "en",
        "--group",
        "Nieuw",
        "--create-groups",
    )
    assert result.returncode == 0
    assert "Imported plek-voorbeeld.tsv: succeeded" in result.stdout
    assert "created 1" in result.stdout
    _, users = cli_json(sqlite_url, "users")
    assert users == [
        {
            "email": "jandebruin@plek.co",
            "first_name": "Jan",
            "name_insert": "de",
            "last_name": "Bruin",
            "username": None,
            "status": "invited",
            "role": "manager",
            "language": "en",
            "kind": "employee",
            "groups": ["Iedereen", "Nieuw"],
            "levels": [],
            "is_protected": False,
            "profile": {"job_title": "HR manager"},
        }
    ]
    _, jobs = cli_json(sqlite_url, "jobs")
    assert [(j["status"], j["file_name"]) for j in jobs] == [("succeeded", "plek-voorbeeld.tsv")]
    assert jobs[0]["file_kept_until"] is None
    assert cli_json(sqlite_url, "import", plek, "--keep-file-days", "5")[0] == 0
    _, jobs = cli_json(sqlite_url, "jobs")
    assert jobs[0]["file_kept_until"] is not None


def test_max_deactivate_refuses_and_writes_nothing(sqlite_url: str, tmp_path: Path) -> None:
    first = tmp_path / "all.csv"
    first.write_text(
        "Email;Voornaam;Achternaam\n" + "".join(f"u{i}@example.org;U;{i}\n" for i in range(10))
    )
    assert cli_json(sqlite_url, "import", str(first))[0] == 0
    partial = tmp_path / "partial.csv"
    partial.write_text("Email;Voornaam;Achternaam\nu0@example.org;U;0\n")
    code, out = cli_json(
        sqlite_url, "import", str(partial), "--full-list", "--max-deactivate", "50%"
    )
    assert (code, out["status"], out["counts"]["deactivated"]) == (1, "failed", 0)
    assert out["issues"][0]["code"] == "too-many-deactivations"
    _, users = cli_json(sqlite_url, "users")
    assert {u["status"] for u in users} == {"invited"}


def test_export_is_inert_and_imports_back_unchanged(sqlite_url: str, tmp_path: Path) -> None:
    source = tmp_path / "u.csv"
    source.write_text(
        "Email;Voornaam;Achternaam;Functie\na@example.org;=cmd|' /C calc'!A0;X;@SUM(1)\n"
    )
    assert cli_json(sqlite_url, "import", str(source))[0] == 0
    for file_format in ("csv", "xlsx"):
        out = tmp_path / f"export.{file_format}"
        result = cli(sqlite_url, "export", "--format", file_format, "--out", str(out))
        assert result.returncode == 0 and "Exported 1 user to" in result.stdout
        if file_format == "csv":
            assert "'=cmd|' /C calc'!A0" in out.read_text(encoding="utf-8-sig")
        else:
            cells = [c.value for c in load_workbook(out).active[2]]
            assert "'=cmd|' /C calc'!A0" in cells and "'@SUM(1)" in cells
        code, again = cli_json(sqlite_url, "import", str(out))
        assert code == 0 and again["counts"]["unchanged"] == 1
    _, users = cli_json(sqlite_url, "users")
    assert users[0]["first_name"] == "=cmd|' /C calc'!A0"
