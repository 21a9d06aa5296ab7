"""The benchmark runs the real import and reports what it measured (figures are not asserted)."""

import importlib.util
import json
import subprocess
import sys

from tests.conftest import ROOT


def test_benchmark_imports_updates_and_reports_each_scenario(tmp_path) -> None:
    out = tmp_path / "results.json"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "import_bench.py"),
            "--sizes",
            "300",
            "--databases",
            "sqlite",
            "--formats",
            "csv,xlsx",
            "--repeat",
            "2",
            "--json",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    csv, xlsx = json.loads(out.read_text())
    for result in (csv, xlsx):
        assert result["new"]["outcome"] == {"rows": 300, "created": 300}
        assert result["reimport"]["outcome"] == {"rows": 300, "unchanged": 300}
        assert result["half_update"]["outcome"] == {"rows": 300, "updated": 150, "unchanged": 150}
        phases = sum(result["new"][p] for p in ("read", "map", "validate", "plan", "apply"))
        assert 0 < phases <= result["new"]["total"]
        assert result["peak_mb"] > 0 and result["speedup_vs_naive"] > 0
        assert min(result["new_totals_of_runs"]) == result["new"]["total"]
        assert len(result["new_totals_of_runs"]) == 2
    # Only the SQLite CSV scenario has the raw floor and the command-line run.
    assert "raw_bulk_load" in csv and "raw_bulk_load" not in xlsx
    # django-import-export is timed beside it only where it is installed (not a dependency).
    optional = {f"die_{mode}_{run}" for mode in ("default", "bulk") for run in ("new", "reimport")}
    compared = importlib.util.find_spec("import_export") is not None
    assert set(csv["cli"]) == {"new", "reimport", "raw_script", "startup"} | (
        optional if compared else set()
    )


def test_formula_read_figures_report_every_formula(tmp_path) -> None:
    from bench.import_bench import formula_reads

    figures = formula_reads([100, 400], tmp_path)
    assert [(f["formula_cells"], f["found"]) for f in figures] == [(100, 100), (400, 400)]
    assert all(f["read_seconds"] > 0 for f in figures)
