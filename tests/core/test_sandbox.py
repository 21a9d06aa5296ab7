"""The read sandbox says how its child ended: a result, a refusal, memory, time, or a crash."""

import io
import os
import platform
import re
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.issues import ISSUE_TYPES, UnusableFileError
from core.read import read_upload
from core.sandbox import LimitExceeded, run_limited
from tests.conftest import ROOT
from tests.test_hostile_files import far_cell, patched_workbook

MB = 1 << 20


class Panic(BaseException):
    """What python-calamine raises on some corrupt files: not an Exception."""


def panics() -> None:
    raise Panic("index out of bounds")


def segfaults() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def grows() -> bytes:
    return b"x" * (2048 * MB)


def refuses() -> None:
    raise UnusableFileError.of("empty-file", "file")


@pytest.mark.parametrize(("func", "limit"), [(panics, "crashed"), (segfaults, "crashed")])
def test_a_child_that_dies_is_not_called_out_of_memory(func, limit: str) -> None:
    with pytest.raises(LimitExceeded) as caught:
        run_limited(func, memory_bytes=512 * MB, seconds=30)
    assert caught.value.limit == limit


def big_result() -> dict[str, bytes]:
    return {"rows": bytes(range(256)) * (200 * MB // 256)}


def unpicklable() -> object:
    return lambda: None


def test_a_large_result_comes_back_whole_and_one_that_cannot_travel_is_a_crash() -> None:
    assert run_limited(big_result, memory_bytes=1024 * MB, seconds=60) == big_result()
    with pytest.raises(LimitExceeded) as caught:
        run_limited(unpicklable, memory_bytes=256 * MB, seconds=30)
    assert caught.value.limit == "crashed" and "pickle" in caught.value.detail


def test_memory_and_refusals_are_told_apart() -> None:
    with pytest.raises(LimitExceeded) as caught:
        run_limited(grows, memory_bytes=256 * MB, seconds=30)
    assert (caught.value.limit, caught.value.memory_bytes) == ("memory", 256 * MB)
    with pytest.raises(UnusableFileError, match="The file is empty"):
        run_limited(refuses, memory_bytes=256 * MB, seconds=30)


def test_a_host_with_its_own_memory_limit_still_imports_and_names_the_real_limit(
    tmp_path: Path,
) -> None:
    small = tmp_path / "klein.csv"
    small.write_text("email;voornaam;achternaam\na@example.org;A;B\n")
    huge = tmp_path / "groot.xlsx"
    patched_workbook(huge, far_cell("ZZ"))  # 702 x 1,048,576 cells: more than any limit

    def lower_the_hard_limit() -> None:  # as `ulimit -v 3000000` or a container does
        resource.setrlimit(resource.RLIMIT_AS, (3_000_000 * 1024, 3_000_000 * 1024))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/data/instroom.db"}
        return subprocess.run(
            [sys.executable, str(ROOT / "cli.py"), *args],
            env=env,
            preexec_fn=lower_the_hard_limit,
            capture_output=True,
            text=True,
            timeout=120,
        )

    ran = cli("import", str(small))
    assert ran.returncode == 0, ran.stderr
    assert "Traceback" not in ran.stderr and "memory" not in ran.stdout + ran.stderr
    refused = cli("import", str(huge))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    limit = re.search(r"needed more than the limit of ([\d,]+) MB", refused.stderr)
    assert limit is not None, refused.stderr
    assert int(limit.group(1).replace(",", "")) < 2930  # what the host left, not 4,096


def xls_bytes() -> bytes:
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Blad1")
    for r, row in enumerate([["email", "voornaam"], ["a@example.org", "Ann"], ["b@x.nl", "Bob"]]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_legacy_xls_the_error_scan_chokes_on_is_still_read() -> None:
    """Single-byte damage that xlrd (the error-value scan) fails on with CompDocError,
    AssertionError, UnicodeDecodeError, IndexError or struct.error, found by mutation."""
    data = xls_bytes()
    read = 0
    for position, value in [(28, 0), (762, 255), (965, 255), (1444, 0), (1535, 0)]:
        damaged = bytearray(data)
        damaged[position] = value
        try:
            table = read_upload(bytes(damaged), "medewerkers.xls")
        except UnusableFileError:
            continue
        assert table.data.iloc[0, 0] == "a@example.org"
        read += 1
    assert read >= 3


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    kind=st.sampled_from(["xls", "xlsx", "csv"]),
    damage=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4),
)
def test_damaged_files_give_rows_or_a_registered_refusal(
    kind: str, damage: list[tuple[int, int]]
) -> None:
    data = bytearray(
        xls_bytes()
        if kind == "xls"
        else xlsx_bytes()
        if kind == "xlsx"
        else b"email;voornaam\na@example.org;Ann\n"
    )
    for position, value in damage:
        data[position % len(data)] = value
    try:
        read_upload(bytes(data), f"medewerkers.{kind}")
    except UnusableFileError as refusal:
        assert refusal.code in ISSUE_TYPES


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["email", "voornaam"])
    sheet.append(["a@example.org", "Ann"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


FREED_BLOCKS_SCRIPT = """
import sys
from core.read import read_upload

if sys.argv[1] == "read":
    read_upload(b"email\\nann@example.nl\\n", "users.csv")

def resident_mb():
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmRSS"))
    return int(line.split()[1]) // 1024

start = resident_mb()
# A large block freed, then a smaller one: the pattern of a column's buffers after the table.
block = bytearray(24 * 1024 * 1024)
del block
block = bytearray(16 * 1024 * 1024)
del block
print(resident_mb() - start)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the GNU C library only")
def test_after_a_read_large_blocks_go_back_to_the_system_when_freed() -> None:
    def kept_mb(first: str) -> int:
        command = [sys.executable, "-c", FREED_BLOCKS_SCRIPT, first]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        return int(done.stdout.split()[-1])

    # Without the setting the C library keeps the second block's 16 MB after it is freed.
    assert kept_mb("nothing") >= 12
    assert kept_mb("read") <= 4
