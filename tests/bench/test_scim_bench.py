"""The SCIM benchmark calls the real service over HTTP and reports what it measured."""

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_scim_benchmark_creates_adds_members_looks_up_and_reports(tmp_path) -> None:
    out = tmp_path / "scim.json"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "scim_bench.py"),
            "--creates",
            "15",
            "--members",
            "120",
            "--population",
            "300",
            "--json",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (result,) = json.loads(out.read_text())
    assert (result["creates"], result["members"], result["members_stored"]) == (15, 120, 120)
    assert result["population"] == 300
    assert 0 < result["create_median_ms"] <= result["create_p95_ms"]
    assert result["create_total_s"] > 0 and result["patch_members_s"] > 0
    assert result["lookup_median_ms"] > 0 and result["lookup_vs_bare_call"] > 0
    assert result["portal_call_ms"] > 0
