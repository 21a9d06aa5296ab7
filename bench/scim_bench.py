"""Benchmark the SCIM service over real HTTP (uvicorn on loopback), as a provider calls it.

Usage:  python bench/scim_bench.py [--creates 1000] [--members 10k] [--population 100k]
                                   [--databases sqlite,postgresql] [--json FILE]
Prints: users created one call at a time, a PATCH adding many members to one group, and a
`userName eq` lookup among the population, each beside a bare authenticated call's time;
and that bare call on the portal's port (`streamlit run app.py`), where a provider may call.
"""

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The script's own folder is on the path: the import benchmark's helpers are next to it.
from import_bench import database_url, make_rows, parse_size, run_pipeline, write_file  # noqa: E402

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
LOOKUPS = 50


def _serve(url: str) -> tuple[Any, str, str]:
    """uvicorn serving /scim on a free port in a thread; the server, its address, a token."""
    import uvicorn
    from starlette.applications import Starlette

    from core import scim
    from core.config import load_settings
    from core.scim_server import routes
    from db.engine import get_engine, session_scope
    from tests.conftest import free_port

    with session_scope(get_engine(url)) as session:
        _connection, token = scim.create_connection(
            session=session, name="Bench", created_by="bench", welcome_new=False
        )
    port = free_port()
    app = Starlette(routes=routes(load_settings(env={"DATABASE_URL": url})))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, f"http://127.0.0.1:{port}/scim/v2", token


def _portal_calls(url: str, token: str) -> list[float]:
    """Bare authenticated calls on the portal's port (`streamlit run app.py`), kept alive."""

    import httpx2

    from tests.conftest import free_port
    from tests.servers import instroom_env, portal_command, serving

    port = free_port()
    base = f"http://127.0.0.1:{port}/scim/v2"
    env = instroom_env(port, url)
    with serving(portal_command(port), env, f"{base}/ServiceProviderConfig", ROOT):
        headers = {"Authorization": f"Bearer {token}"}
        with httpx2.Client(base_url=base, headers=headers, timeout=120) as client:
            return [_timed(lambda: client.get("/ResourceTypes"))[0] for _ in range(LOOKUPS)]


def _user_ids(url: str, count: int) -> list[str]:
    """The ids of the first count users, as a provider knows them from its earlier calls."""
    from sqlalchemy import select
    from sqlmodel import Session, col

    from db.engine import get_engine
    from db.models import User

    with Session(get_engine(url)) as session:
        query = select(col(User.id)).order_by(col(User.id)).limit(count)
        return [str(i) for i in session.execute(query).scalars()]


def _timed(call: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    answer = call()
    return time.perf_counter() - start, answer


def scenario(kind: str, creates: int, members: int, population: int, postgres: str | None) -> dict:
    import httpx2

    from core.worker import stop_background_worker

    workdir = Path(tempfile.mkdtemp(prefix="scim-bench-"))
    url, drop = database_url(kind, workdir, postgres)
    try:
        path = workdir / "population.csv"
        write_file(path, make_rows(population))
        seeded = run_pipeline(url, [path])[0]["total"]
        server, base, token = _serve(url)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
        with httpx2.Client(base_url=base, headers=headers, timeout=120) as client:
            bare = [_timed(lambda: client.get("/ResourceTypes"))[0] for _ in range(LOOKUPS)]
            created = []
            for i in range(creates):
                body = {
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": f"scim{i}@voorbeeld.nl",
                    "name": {"givenName": "Sanne", "familyName": "de Jong"},
                    "emails": [{"value": f"scim{i}@voorbeeld.nl", "type": "work", "primary": True}],
                    "active": True,
                }
                seconds, answer = _timed(lambda b=body: client.post("/Users", json=b))
                assert answer.status_code == 201, answer.text
                created.append(seconds)
            group = client.post(
                "/Groups",
                json={
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "displayName": "Iedereen SCIM",
                },
            ).json()["id"]
            member_ids = _user_ids(url, members)
            operation = {
                "op": "add",
                "path": "members",
                "value": [{"value": i} for i in member_ids],
            }
            patch_seconds, answer = _timed(
                lambda: client.patch(
                    f"/Groups/{group}", json={"schemas": [PATCH], "Operations": [operation]}
                )
            )
            assert answer.status_code == 204, answer.text
            wanted = f"user{population // 2}@voorbeeld.nl"
            lookups = []
            for _ in range(LOOKUPS):
                seconds, answer = _timed(
                    lambda: client.get("/Users", params={"filter": f'userName eq "{wanted}"'})
                )
                assert answer.json()["totalResults"] == 1, answer.text
                lookups.append(seconds)
            listed = client.get(f"/Groups/{group}").json()
        server.should_exit = True
        stop_background_worker(url)
        portal = _portal_calls(url, token)
    finally:
        if drop is not None:
            drop()
    bare_ms = statistics.median(bare) * 1000
    return {
        "database": kind,
        "population": population,
        "seed_import_s": round(seeded, 2),
        "bare_call_ms": round(bare_ms, 2),
        "portal_call_ms": round(statistics.median(portal) * 1000, 2),
        "creates": creates,
        "create_total_s": round(sum(created), 2),
        "create_median_ms": round(statistics.median(created) * 1000, 2),
        "create_p95_ms": round(sorted(created)[int(len(created) * 0.95)] * 1000, 2),
        "members": members,
        "members_stored": len(listed.get("members", [])),
        "patch_members_s": round(patch_seconds, 2),
        "lookup_median_ms": round(statistics.median(lookups) * 1000, 2),
        "lookup_vs_bare_call": round(statistics.median(lookups) * 1000 / bare_ms, 2),
    }


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--creates", default="1000")
    parser.add_argument("--members", default="10k")
    parser.add_argument("--population", default="100k")
    parser.add_argument("--databases", default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--json")
    args = parser.parse_args()
    results = [
        scenario(
            kind,
            parse_size(args.creates),
            parse_size(args.members),
            parse_size(args.population),
            args.postgres_url,
        )
        for kind in args.databases.split(",")
    ]
    for r in results:
        print(
            f"{r['database']}: {r['creates']} users created one call at a time over HTTP in "
            f"{r['create_total_s']} s (median {r['create_median_ms']} ms, p95 "
            f"{r['create_p95_ms']} ms; a bare authenticated call {r['bare_call_ms']} ms)"
        )
        print(
            f"{r['database']}: the same bare call on the portal's port: "
            f"{r['portal_call_ms']} ms (median)"
        )
        print(
            f"{r['database']}: one PATCH adding {r['members']} members to a group: "
            f"{r['patch_members_s']} s ({r['members_stored']} stored)"
        )
        print(
            f"{r['database']}: userName eq among {r['population']} users: median "
            f"{r['lookup_median_ms']} ms, {r['lookup_vs_bare_call']}x a bare call"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
