"""Benchmark the import pipeline: seconds per phase, rows per second, peak memory.

Usage:  python bench/import_bench.py [--sizes 1k,10k,100k] [--databases sqlite,postgresql]
                                     [--formats csv,xlsx] [--repeat N] [--json FILE]
PostgreSQL runs when TEST_DATABASE_URL (or --postgres-url) points at a database the
benchmark may create schemas in. Every scenario runs in a fresh process, so the peak
memory printed is that scenario's own.
"""

import argparse
import gc
import importlib.util
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST = [
    "Jan",
    "Anna",
    "Pieter",
    "Sanne",
    "Bram",
    "Lotte",
    "Daan",
    "Emma",
    "Noah",
    "Julia",
    "Sem",
    "Tess",
    "Liam",
    "Mila",
    "James",
    "Olivia",
    "Oliver",
    "Sophie",
]
INSERTS = ["", "", "", "de", "van", "van der", "van den", "ter", "in 't"]
LAST = [
    "Jansen",
    "Vries",
    "Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "Bos",
    "Mulder",
    "Dekker",
    "Brouwer",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
]
GROUPS = [f"Team {c}" for c in "ABCDEFGH"]
HEADERS = [
    "E-mailadres",
    "Voornaam",
    "Tussenvoegsel",
    "Achternaam",
    "Telefoon",
    "Afdeling",
    "Groep",
    "Personeelsnummer",
]
NAIVE_SAMPLE = 1000
# django-import-export takes minutes from 100,000 rows (its default mode over an hour at a
# million), so the peer runs up to this size.
PEER_MAX_ROWS = 100_000


def parse_size(text: str) -> int:
    text = text.strip().lower()
    return (
        int(float(text[:-1]) * {"k": 1_000, "m": 1_000_000}[text[-1]])
        if text[-1] in "km"
        else int(text)
    )


def make_rows(count: int, variant: int = 0) -> Iterator[list[str]]:
    """Realistic rows, one at a time; variant 1 changes the department of every second row."""
    rng = random.Random(42)
    for i in range(count):
        department = f"Afdeling {i % 25}" + (" (nieuw)" if variant and i % 2 == 0 else "")
        yield [
            f"user{i}@voorbeeld.nl",
            rng.choice(FIRST),
            rng.choice(INSERTS),
            rng.choice(LAST),
            f"06{rng.randrange(10**8):08d}",
            department,
            "~".join(rng.sample(GROUPS, rng.randint(1, 3))),
            f"{i:07d}",
        ]


def write_file(path: Path, rows: Iterable[list[str]]) -> None:
    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Medewerkers")
        sheet.append(HEADERS)
        for row in rows:
            sheet.append(row)
        workbook.save(path)
    else:
        with path.open("w", encoding="utf-8") as out:
            out.write(";".join(HEADERS) + "\n")
            out.writelines(";".join(row) + "\n" for row in rows)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def database_url(
    kind: str, workdir: Path, postgres: str | None
) -> tuple[str, Callable[[], None] | None]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.db'}", None
    from sqlalchemy import create_engine, text

    from tests.conftest import make_postgres_schema_url

    if postgres is None:
        raise SystemExit("PostgreSQL needs TEST_DATABASE_URL or --postgres-url.")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    return make_postgres_schema_url(postgres, schema), drop


def run_pipeline(url: str, files: list[Path]) -> list[dict[str, Any]]:
    """Import each file in turn through the product's own run_import, timing every phase."""
    from sqlmodel import Session

    from core.jobs import run_import
    from core.options import ImportOptions
    from core.pipeline import ImportRequest, Stopwatch, resolve_mapping
    from core.read import read_upload
    from core.validate import load_known_names
    from db.engine import get_engine

    engine = get_engine(url)
    options = ImportOptions(create_groups=True)
    results = []
    for path in files:
        stopwatch = Stopwatch()
        start = time.perf_counter()
        with stopwatch.phase("read"):
            data = path.read_bytes()
            table = read_upload(data, path.name)
        with stopwatch.phase("map"), Session(engine) as session:
            mapping = resolve_mapping(table, load_known_names(session=session))
        result = run_import(
            engine=engine,
            request=ImportRequest(table, mapping, options),
            file_name=path.name,
            file_bytes=data,
            created_by="bench",
            stopwatch=stopwatch,
        )
        total = time.perf_counter() - start
        timings: dict[str, float] = {
            phase: stopwatch.seconds[phase] for phase in ("read", "map", "validate", "plan")
        }
        # Apply is what the import spent beyond the phases before it: its writes, the
        # job record and the commit.
        timings["apply"] = total - sum(timings.values())
        timings["total"] = total
        results.append(timings | {"outcome": {k: v for k, v in result.counts.items() if v}})
        # Drop this import's file and rows before the next one, as separate imports would.
        del data, table, result
        gc.collect()
    return results


def raw_bulk_load(url: str, path: Path) -> float:
    """The floor: pandas reads the CSV and one executemany inserts it into a bare table."""
    import sqlite3

    import pandas as pd

    start = time.perf_counter()
    frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    connection = sqlite3.connect(url.removeprefix("sqlite:///") + ".raw")
    connection.execute(f"CREATE TABLE raw ({', '.join(f'c{i} TEXT' for i in range(8))})")
    connection.executemany(
        "INSERT INTO raw VALUES (?,?,?,?,?,?,?,?)", frame.itertuples(index=False, name=None)
    )
    connection.commit()
    connection.close()
    return time.perf_counter() - start


RAW_SCRIPT = """
import sqlite3, sys, pandas as pd
frame = pd.read_csv(sys.argv[1], sep=";", dtype=str, keep_default_na=False)
connection = sqlite3.connect(sys.argv[2])
connection.execute("CREATE TABLE raw (" + ", ".join(f"c{i} TEXT" for i in range(8)) + ")")
connection.executemany("INSERT INTO raw VALUES (?,?,?,?,?,?,?,?)", frame.itertuples(index=False))
connection.commit()
"""


def wall(command: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds a command takes from start to exit, interpreter start-up included."""
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, **(env or {})})
    return time.perf_counter() - start


def cli_import(workdir: Path, path: Path) -> dict[str, float]:
    """`python cli.py import` of the file into a new SQLite database, twice, against the floor."""
    database = workdir / f"cli-{uuid.uuid4().hex[:8]}.db"
    env = {"DATABASE_URL": f"sqlite:///{database}"}
    cli = [sys.executable, str(ROOT / "cli.py")]
    # Compiled once, as pip compiles an installed package (DIE's and pandas' own modules are):
    # with PYTHONDONTWRITEBYTECODE set, as on this machine, every run compiled ~50 modules.
    wall(
        [sys.executable, "-m", "compileall", "-q", *(str(ROOT / d) for d in ("cli", "core", "db"))]
    )
    wall([*cli, "jobs"], env)  # creates and migrates the database, outside the timing
    command = [*cli, "import", str(path), "--create-groups", "--json"]
    figures = {
        "new": wall(command, env),
        "reimport": wall(command, env),
        "raw_script": wall([sys.executable, "-c", RAW_SCRIPT, str(path), f"{database}.raw"]),
        "startup": wall([*cli, "--help"]),
    }
    rows = sum(1 for _ in path.open(encoding="utf-8")) - 1
    if importlib.util.find_spec("import_export") is not None and rows <= PEER_MAX_ROWS:
        # The optional peer: django-import-export on the same file, in both of its modes.
        for mode in ("default", "bulk"):
            django = [
                sys.executable,
                str(ROOT / "bench" / "django_import_export_run.py"),
                str(path),
            ]
            django += [str(workdir / f"django-{uuid.uuid4().hex[:8]}.sqlite3"), mode]
            figures[f"die_{mode}_new"] = wall(django)
            figures[f"die_{mode}_reimport"] = wall(django)
    return figures


def preview(url: str, path: Path) -> tuple[float, float]:
    """Seconds from the read file to the preview's first screen, and to the whole preview.

    The wizard reads the file when it is uploaded (the read phase above), so its preview
    step starts from the table, as here.
    """
    from sqlmodel import Session

    from core.options import ImportOptions
    from core.pipeline import ImportRequest, preview_import, resolve_mapping
    from core.plan import describe_changes
    from core.read import read_upload
    from core.validate import load_known_names
    from db.engine import get_engine

    engine = get_engine(url)
    table = read_upload(path.read_bytes(), path.name)
    start = time.perf_counter()
    first = None
    with Session(engine) as session:
        mapping = resolve_mapping(table, load_known_names(session=session))
        options = ImportOptions(create_groups=True)
        request = ImportRequest(table, mapping, options)
        for plan in preview_import(session=session, request=request):
            if first is None:
                [describe_changes(r) for r in plan.rows[:50]]
                first = time.perf_counter() - start
    return first or 0.0, time.perf_counter() - start


def naive_import(url: str, rows: list[list[str]]) -> float:
    """Seconds per row for the per-row ORM way: query the user, then add or update and flush."""
    from sqlmodel import Session, select

    from db.engine import get_engine
    from db.models import Group, User, UserGroup, id_of

    engine = get_engine(url)
    start = time.perf_counter()
    with Session(engine) as session:
        for email, first, insert, last, phone, department, groups, number in rows:
            user = session.exec(select(User).where(User.email == email)).first() or User(
                email=email
            )
            user.first_name, user.name_insert, user.last_name = first, insert, last
            user.profile = {"phone": phone, "department": department, "employee_id": number}
            session.add(user)
            session.flush()
            for name in groups.split("~"):
                group = session.exec(select(Group).where(Group.name == name)).first()
                if group is None:
                    group = Group(name=name)
                    session.add(group)
                    session.flush()
                session.add(UserGroup(user_id=id_of(user), group_id=id_of(group)))
            session.flush()
        session.commit()
    return (time.perf_counter() - start) / len(rows)


def scenario(args: argparse.Namespace) -> dict:
    """One size, database and format, in this process."""
    workdir = Path(args.workdir)
    size, fmt = args.size, args.format
    base = workdir / f"new-{size}.{fmt}"
    half = workdir / f"half-{size}.{fmt}"
    if not base.exists():
        write_file(base, make_rows(size))
        write_file(half, make_rows(size, variant=1))
    url, drop = database_url(args.database, workdir, args.postgres_url)
    try:
        new, again, updated = run_pipeline(url, [base, base, half])
        result = {
            "size": size,
            "database": args.database,
            "format": fmt,
            "new": new,
            "reimport": again,
            "half_update": updated,
            # The import's own peak, before the preview below holds every row's plan.
            "peak_mb": peak_mb(),
        }
        if args.database == "sqlite" and fmt == "csv":
            result["raw_bulk_load"] = raw_bulk_load(url, base)
            result["cli"] = cli_import(workdir, base)
        naive_url, naive_drop = database_url(args.database, workdir, args.postgres_url)
        try:
            per_row = naive_import(naive_url, list(islice(make_rows(size), NAIVE_SAMPLE)))
        finally:
            if naive_drop:
                naive_drop()
        preview_url, preview_drop = database_url(args.database, workdir, args.postgres_url)
        try:
            preview_first, preview_whole = preview(preview_url, base)
        finally:
            if preview_drop:
                preview_drop()
        result["naive_extrapolated"] = per_row * size
        result["speedup_vs_naive"] = result["naive_extrapolated"] / new["total"]
        result["preview_first_screen"], result["preview_whole"] = preview_first, preview_whole
        result["peak_mb_with_preview"] = peak_mb()
    finally:
        if drop:
            drop()
    return result


def table(results: list[dict]) -> str:
    lines = [
        "| rows | db | file | phase | new | re-import | half update |",
        "| ---: | --- | --- | --- | ---: | ---: | ---: |",
    ]
    for r in results:
        for phase in ("read", "validate", "plan", "apply", "total"):
            lines.append(
                f"| {r['size']:,} | {r['database']} | {r['format']} | {phase} | "
                f"{r['new'][phase]:.2f} s | {r['reimport'][phase]:.2f} s | "
                f"{r['half_update'][phase]:.2f} s |"
            )
        rate = r["size"] / r["new"]["total"]
        extra = (
            f"; raw bulk load {r['raw_bulk_load']:.2f} s, ratio "
            f"{r['new']['total'] / r['raw_bulk_load']:.1f}x new, "
            f"{r['reimport']['total'] / r['raw_bulk_load']:.1f}x re-import"
            if "raw_bulk_load" in r
            else ""
        )
        lines.append(
            f"| | | | **{rate:,.0f} rows/s, peak {r['peak_mb']:,.0f} MB, "
            f"{r['speedup_vs_naive']:.0f}x faster than per-row ORM"
            f" (~{r['naive_extrapolated']:.0f} s); preview: first screen "
            f"{r['preview_first_screen']:.2f} s, whole {r['preview_whole']:.2f} s{extra}**"
            " | | | |"
        )
        if "cli" in r:
            cli = r["cli"]
            lines.append(
                f"| | | | **`cli.py import` {cli['new']:.2f} s new, {cli['reimport']:.2f} s "
                f"re-import (start-up {cli['startup']:.2f} s); raw load as a script "
                f"{cli['raw_script']:.2f} s: {cli['new'] / cli['raw_script']:.1f}x new, "
                f"{cli['reimport'] / cli['raw_script']:.1f}x re-import** | | | |"
            )
            if "die_default_new" in cli:
                lines.append(peer_line(cli))
    return "\n".join(lines)


def peer_line(cli: dict[str, float]) -> str:
    """`cli.py import` as a ratio of DIE's default mode, its bulk mode and the raw floor."""
    ratios = [
        f"{what} {cli[key + '_new']:.2f} s / {cli[key + '_reimport']:.2f} s: "
        f"{cli['new'] / cli[key + '_new']:.2f}x / {cli['reimport'] / cli[key + '_reimport']:.2f}x"
        for what, key in (
            ("DIE default", "die_default"),
            ("DIE bulk (stores no group links)", "die_bulk"),
        )
    ]
    floor = f"floor {cli['raw_script']:.2f} s: {cli['new'] / cli['raw_script']:.1f}x"
    return f"| | | | **as processes, new / re-import: {'; '.join(ratios)}; {floor}** | | | |"


def formula_reads(counts: list[int], workdir: Path) -> list[dict[str, float]]:
    """Time reading user lists whose every row has a formula cell, with all hygiene checks."""
    from openpyxl import Workbook

    from core.read import read_upload

    figures = []
    for count in counts:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Users")
        sheet.append(["Email", "Voornaam", "Achternaam", "Weergavenaam"])
        for i in range(count):
            sheet.append([f"u{i}@example.org", f"Voor{i}", f"Achter{i}", f'=B{i + 2}&" "&C{i + 2}'])
        path = workdir / f"formulas-{count}.xlsx"
        workbook.save(path)
        started = time.perf_counter()
        table = read_upload(path.read_bytes(), path.name)
        seconds = time.perf_counter() - started
        found = sum(1 for f in table.findings if f.code == "formula")
        figures.append({"formula_cells": count, "found": found, "read_seconds": seconds})
    return figures


def long_cell_guard(megabytes: list[int]) -> list[dict[str, float]]:
    """Time the long-cell guard on sheet XML of 32,000-character runs (the quadratic case)."""
    from core.read.workbook import _longest_text_run

    run = b'<c t="inlineStr"><is><t>' + b"x" * 32_000 + b"</t></is></c>"
    figures = []
    for size in megabytes:
        xml = run * max(1, size * 1_048_576 // len(run))
        started = time.perf_counter()
        _longest_text_run(xml)
        figures.append(
            {"megabytes": len(xml) / 1_048_576, "seconds": time.perf_counter() - started}
        )
    return figures


def print_growth(figures: list[dict[str, float]], size: str, seconds: str, what: str) -> None:
    """How the time grew against the size, first figure to last (linear: the same ratio)."""
    first, last = figures[0], figures[-1]
    print(
        f"{last[size] / first[size]:.1f}x {what} took "
        f"{last[seconds] / first[seconds]:.1f}x the time (linear is the same)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1k,10k,100k")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--json", help="also write the JSON document to this file")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each scenario N times, keep the fastest"
    )
    parser.add_argument(
        "--formula-cells",
        help="only time reading XLSX files with this many formula cells (e.g. 10k,40k)",
    )
    parser.add_argument(
        "--long-cells",
        help="only time the long-cell guard on sheet XML of this many MB (e.g. 4,57)",
    )
    parser.add_argument("--scenario", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--format", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scenario:
        print(json.dumps(scenario(args)))
        return
    if args.long_cells:
        figures = long_cell_guard([int(m) for m in args.long_cells.split(",")])
        for figure in figures:
            print(
                f"{figure['megabytes']:>6.1f} MB of sheet XML with 32,000-character runs: "
                f"long-cell guard in {figure['seconds']:.3f} s"
            )
        print_growth(figures, "megabytes", "seconds", "the XML")
        return
    if args.formula_cells:
        with tempfile.TemporaryDirectory() as workdir:
            counts = [parse_size(c) for c in args.formula_cells.split(",")]
            figures = formula_reads(counts, Path(workdir))
        for figure in figures:
            print(
                f"{figure['formula_cells']:>9,} formula cells: read with hygiene in "
                f"{figure['read_seconds']:.2f} s, {figure['found']:,} reported"
            )
        print_growth(figures, "formula_cells", "read_seconds", "the cells")
        return
    databases = [d for d in args.databases.split(",") if d == "sqlite" or args.postgres_url]
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for size in map(parse_size, args.sizes.split(",")):
            for database in databases:
                for fmt in args.formats.split(","):
                    print(f"... {size:,} rows, {database}, {fmt}", file=sys.stderr, flush=True)
                    command = [
                        sys.executable,
                        __file__,
                        "--scenario",
                        "--size",
                        str(size),
                        "--database",
                        database,
                        "--format",
                        fmt,
                        "--workdir",
                        workdir,
                        *(["--postgres-url", args.postgres_url] if args.postgres_url else []),
                    ]
                    runs = [
                        json.loads(
                            subprocess.run(command, capture_output=True, text=True, check=True)
                            .stdout.strip()
                            .splitlines()[-1]
                        )
                        for _ in range(args.repeat)
                    ]
                    # Shared machines are noisy: keep the fastest run, and say how far apart.
                    best = min(runs, key=lambda r: r["new"]["total"])
                    best["new_totals_of_runs"] = [r["new"]["total"] for r in runs]
                    results.append(best)
    document = json.dumps(results, indent=2)
    print(document)
    print(table(results))
    if args.json:
        Path(args.json).write_text(document)


if __name__ == "__main__":
    main()
