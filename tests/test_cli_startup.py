"""The CLI starts at once: help loads no data libraries, a migrated database no Alembic."""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

HEAVY = ("pandas", "sqlalchemy", "sqlmodel", "alembic", "openpyxl", "python_calamine")
PROBE = """
import json, sys
sys.argv = ["cli.py", *sys.argv[1:]]
import cli
try:
    status = cli.main(sys.argv[1:])
except SystemExit as exc:
    status = exc.code
heavy = HEAVY
print(json.dumps({"status": status, "loaded": sorted(
    m for m in heavy if m in sys.modules)}), file=sys.stderr)
""".replace("HEAVY", repr(HEAVY))


def run_probe(*args: str, env: dict[str, str] | None = None) -> dict:
    process = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return json.loads(process.stderr.strip().splitlines()[-1])


def test_help_and_a_wrong_argument_load_no_data_library() -> None:
    assert run_probe("--help") == {"status": 0, "loaded": []}
    assert run_probe("import", "--mode", "everything", "x.csv") == {"status": 2, "loaded": []}


def test_a_second_start_on_a_migrated_database_does_not_load_alembic(tmp_path: Path) -> None:
    import os

    env = os.environ | {"DATABASE_URL": f"sqlite:///{tmp_path / 'instroom.db'}"}
    first = run_probe("jobs", "--json", env=env)
    assert first["status"] == 0 and "alembic" in first["loaded"]
    second = run_probe("jobs", "--json", env=env)
    assert second["status"] == 0 and "sqlalchemy" in second["loaded"]
    assert "alembic" not in second["loaded"]
