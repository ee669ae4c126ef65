"""Load benchmark: Locust against ``placement serve`` with 500 shelters, the night's mix
(``locustfile.py``) and people on the waiting list, on SQLite and on PostgreSQL, at 50, 100
and 200 concurrent users. Prints requests/s, p50/p95/p99 latency, failures (any 5xx, other
4xx or timeout) and load shed (503/429 with Retry-After) per run, with the load average.

Locust starts the users at ``--spawn-rate`` per second (default: a quarter of them, so
200 users arrive in 4 s), all of a second's users at the same instant; each waits a random
part of a think time before its first request (``--in-step``: not, so that a second's users
send their first requests together, a burst the service serves at once). The figures are
given twice: over the whole run, and over the steady state (``steady``: requests started
once every user has run for the longest think time, 2 s).

Locust runs on the same machine. So that its share is visible, each run also prints the
service's own p50/p99 (from its ``Server-Timing`` header, ``api.timing``), the CPU the
service's processes and Locust used, in cores (CPU seconds per second of the run), and the
service's CPU per request (its cores over the requests per second).

    .venv/bin/python benchmarks/load/bench_load.py                     # the README's figures
    .venv/bin/python benchmarks/load/bench_load.py --users 50 --seconds 20 --databases sqlite

PostgreSQL is started as the tests start it (pytest-postgresql's executor and the Debian
``pg_ctl`` through ``tests/api/pg_ctl_as_postgres.sh``).
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from api.auth import add_user  # noqa: E402
from api.config import Settings  # noqa: E402
from api.db import make_engine, migrate  # noqa: E402
from api.tables import ArrivalRow, Operation, ShelterRow, ShelterUpdate  # noqa: E402
from placement.geography import load_geography  # noqa: E402

SHELTERS = 500
MANAGERS = 60
WAITING = 40
#: the longest think time of a user (``locustfile.THINK_SECONDS``): past it after the last
#: user was spawned, the users' first requests are over and the run is in its steady state
SETTLE_SECONDS = 2.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(settings: Settings) -> dict[str, object]:
    """500 shelters across France, 60 managers, coordinators, analysts, and an operation
    whose arrivals wait: half need a service that no shelter offers, half are a woman with
    eight children whom many shelters may take but none has room for (the managers set 4 to
    8 places), so a change at one of those shelters retries the waiting list, in vain."""
    migrate(settings.url())
    engine = make_engine(settings)
    rng = random.Random(12)
    codes = [c for c in load_geography("fr").areas if c not in ("93", "92", "94", "95", "75")]
    now = datetime.now(UTC)
    with Session(engine) as session:
        for i in range(SHELTERS):
            dep = rng.choice(codes)
            doc = {
                "id": f"SH-{i:04d}",
                "department": dep,
                "accepts": rng.choice([["woman"], ["woman", "man", "nonbinary"], ["man"]]),
                "languages": ["fr", rng.choice(["en", "ro", "es", "bg", "ar"])],
                "services": rng.sample(["psychological", "medical", "trafficking"], 2),
                "children": rng.random() < 0.4,
                "capacity": 3,
            }
            session.add(ShelterRow(id=doc["id"], data=doc, capacity_updated_at=now))
            session.add(ShelterUpdate(shelter_id=doc["id"], kind="created", fields=["*"]))
        op = Operation(reference="OP-LOAD", date=now.date(), danger=[{"department": "93"}])
        session.add(op)
        session.flush()
        for n in range(WAITING):
            doc = {
                "id": f"W-{n:03d}",
                "gender": "woman",
                "languages": ["fr"],
                "danger": [{"department": "93"}],
                "priority": 5,
                "nights": 14,
            }
            if n % 2:  # a secure unit is offered nowhere: a change places none of them
                doc["needs"] = ["secure_unit"]
            else:  # 9 persons: many shelters may take them, none has the room (at most 8)
                doc["children"] = 8
            session.add(
                ArrivalRow(id=doc["id"], operation_id=op.id or 0, data=doc, waitlisted_at=now)
            )
        session.commit()
        operation = op.id
    tokens = {
        "managers": [
            [add_user(engine, f"mgr-{i}", "shelter_manager", [f"SH-{i:04d}"])[1], f"SH-{i:04d}"]
            for i in range(MANAGERS)
        ],
        "coordinators": [add_user(engine, f"coord-{i}", "coordinator")[1] for i in range(10)],
        "analysts": [add_user(engine, f"analyst-{i}", "analyst")[1] for i in range(5)],
        "operation": operation,
    }
    engine.dispose()
    return tokens


@contextmanager
def postgresql(workdir: Path) -> Iterator[str]:
    """A PostgreSQL server started as the tests start theirs; yields a database URL."""
    import psycopg
    from pytest_postgresql.executors.proc import PostgreSQLExecutor

    pg_ctl = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1]
    os.environ.setdefault("PLACEMENT_TEST_PG_CTL", pg_ctl)
    port = _free_port()
    workdir = workdir / "pg"  # the server runs as the postgres user: its socket and log here
    workdir.mkdir()
    os.chmod(workdir, 0o777)
    executor = PostgreSQLExecutor(
        executable=str(ROOT / "tests/api/pg_ctl_as_postgres.sh"),
        host="127.0.0.1",
        port=port,
        datadir=str(workdir / "pgdata"),
        unixsocketdir=str(workdir),
        logfile=str(workdir / "pg.log"),
        startparams="-w",
        dbname="postgres",
        postgres_options="-c max_connections=300",
    )
    executor.start()
    executor.wait_for_postgres()
    try:
        with psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE placement_load")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/placement_load"
    finally:
        executor.stop()


def _ticks(pid: int) -> int:
    """CPU clock ticks (user + system) of ``pid`` and its descendants, alive now."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12]) + sum(_ticks(int(c)) for c in children)


def cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` and its live descendants."""
    return _ticks(pid) / os.sysconf("SC_CLK_TCK")


@dataclass
class Service:
    """The service under load: its URL and its process."""

    url: str
    pid: int


@contextmanager
def service(env: dict[str, str], workers: int) -> Iterator[Service]:
    """``placement serve --workers N`` on the benchmark database; yields it."""
    port = _free_port()
    cmd = [str(Path(sys.executable).with_name("placement")), "serve", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--workers", str(workers)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the service did not start")
            time.sleep(0.2)
        yield Service(url, proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def first_plan(url: str, tokens: dict[str, object]) -> str:
    """A finished plan job for the coordinators to read."""
    coord = {"Authorization": f"Bearer {tokens['coordinators'][0]}"}  # type: ignore[index]
    body = {"operation_id": tokens["operation"], "time_limit": 2, "explain": False}
    job = httpx.post(f"{url}/plans", json=body, headers=coord, timeout=60).json()
    for _ in range(300):
        if httpx.get(f"{url}/plans/{job['id']}", headers=coord, timeout=60).json()["status"] in (
            "done",
            "failed",
        ):
            break
        time.sleep(0.2)
    return str(job["id"])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _database_cpu(workdir: Path) -> float:
    """CPU seconds used so far by the PostgreSQL server of the run (its postmaster and the
    backends it started); 0 on SQLite, whose work is the service's own."""
    locks = glob.glob(str(workdir / "pg" / ".s.PGSQL.*.lock"))  # the socket's: its pid first
    return cpu_seconds(int(Path(locks[0]).read_text().split()[0])) if locks else 0.0


def steady(measured: dict[str, object]) -> list[tuple[float, bool]]:
    """(Locust's milliseconds, failed) of the requests of the steady state: started
    ``SETTLE_SECONDS`` or more after every user had been spawned."""
    spawned = measured.get("at")
    requests: list[list[object]] = measured.get("requests", [])  # type: ignore[assignment]
    if not isinstance(spawned, float):
        return []
    return [
        (float(ms), bool(failed))  # type: ignore[arg-type]
        for started, _name, ms, failed in requests
        if float(started) >= spawned + SETTLE_SECONDS  # type: ignore[arg-type]
    ]


def run_locust(
    server: Service, users: int, args: argparse.Namespace, workdir: Path
) -> dict[str, float]:
    """One headless Locust run; the aggregated figures."""
    url, seconds = server.url, args.seconds
    prefix = workdir / f"locust-{users}"
    shed = workdir / f"shed-{users}.json"
    env = {**os.environ, "PLACEMENT_LOAD_SHED": str(shed)}
    if args.in_step:
        env["PLACEMENT_LOAD_IN_STEP"] = "1"
    before = os.times()
    server_before = cpu_seconds(server.pid)
    database_before = _database_cpu(workdir)
    wall = time.monotonic()
    subprocess.run(
        [
            str(Path(sys.executable).with_name("locust")),
            "-f",
            str(Path(__file__).with_name("locustfile.py")),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(args.spawn_rate or max(10, users // 4)),
            "--run-time",
            f"{seconds}s",
            "--host",
            url,
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.monotonic() - wall
    server_cpu = (cpu_seconds(server.pid) - server_before) / wall
    database_cpu = (_database_cpu(workdir) - database_before) / wall
    after = os.times()
    locust_cpu = (
        after.children_user + after.children_system - before.children_user - before.children_system
    ) / wall
    measured = json.loads(shed.read_text()) if shed.exists() else {}
    server_ms: dict[str, list[float]] = measured.get("server_ms", {})
    every = [ms for values in server_ms.values() for ms in values]
    settled = steady(measured)
    settled_ms = [ms for ms, _failed in settled]
    with open(f"{prefix}_stats.csv") as f:
        rows = list(csv.DictReader(f))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    by_name = ", ".join(
        f"{r['Name']} p50 {r['50%']} p99 {r['99%']}"
        f" [service p50 {_percentile(server_ms.get(r['Name'], []), 0.5):.0f}"
        f" p99 {_percentile(server_ms.get(r['Name'], []), 0.99):.0f}] ({r['Request Count']})"
        for r in rows
        if r["Name"] != "Aggregated"
    )
    print(f"  {users} users, by request (ms): {by_name}", file=sys.stderr, flush=True)
    with open(f"{prefix}_failures.csv") as f:
        for failure in csv.DictReader(f):
            print(
                f"  failed {failure['Occurrences']}x: {failure['Method']} {failure['Name']}: "
                f"{failure['Error'][:300]}",
                file=sys.stderr,
                flush=True,
            )
    return {
        "requests": float(total["Request Count"]),
        "rps": float(total["Requests/s"]),
        "p50": float(total["50%"]),
        "p95": float(total["95%"]),
        "p99": float(total["99%"]),
        "max": float(total["Max Response Time"]),
        "failures": float(total["Failure Count"]),
        "shed": float(measured.get("count", 0)),
        "steady_requests": float(len(settled)),
        "steady_p50": _percentile(settled_ms, 0.5),
        "steady_p99": _percentile(settled_ms, 0.99),
        "steady_failures": float(sum(failed for _ms, failed in settled)),
        "service_p50": _percentile(every, 0.5),
        "service_p99": _percentile(every, 0.99),
        "service_cpu": server_cpu,
        "locust_cpu": locust_cpu,
        "database_cpu": database_cpu,
    }


def bench(database: str, args: argparse.Namespace, workdir: Path) -> None:
    env = {"PLACEMENT_LOAD_TOKENS": str(workdir / "tokens.json")}
    with postgresql(workdir) if database == "postgresql" else _nothing() as pg_url:
        if pg_url:
            env["PLACEMENT_DATABASE_URL"] = pg_url
            settings = Settings(database_url=pg_url)
        else:
            env["PLACEMENT_DB_PATH"] = str(workdir / "load.db")
            settings = Settings(db_path=workdir / "load.db")
        tokens = seed(settings)
        os.environ.update(env)
        with service(env, args.workers) as server:
            tokens["plan"] = first_plan(server.url, tokens)
            Path(env["PLACEMENT_LOAD_TOKENS"]).write_text(json.dumps(tokens))
            for users in args.users:
                r = run_locust(server, users, args, workdir)
                load = os.getloadavg()[0]
                print(
                    f"| {database}, {args.workers} | {users} | {r['rps']:.1f} | {r['p50']:.0f} ms"
                    f" | {r['p95']:.0f} ms | {r['p99']:.0f} ms | {r['max']:.0f} ms"
                    f" | {r['failures']:.0f} of {r['requests']:.0f} | {r['shed']:.0f}"
                    f" | {r['steady_p50']:.0f} ms | {r['steady_p99']:.0f} ms"
                    f" | {r['steady_failures']:.0f} of {r['steady_requests']:.0f}"
                    f" | {r['service_p50']:.0f} ms | {r['service_p99']:.0f} ms"
                    f" | {r['service_cpu']:.2f} | {1000 * r['service_cpu'] / r['rps']:.1f} ms"
                    f" | {r['locust_cpu']:.2f} | {r['database_cpu']:.2f} | {load:.2f} |",
                    flush=True,
                )


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--users", type=lambda s: [int(x) for x in s.split(",")], default=[50, 100, 200]
    )
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--spawn-rate", type=int, default=0, help="users started per second (0: a quarter)"
    )
    parser.add_argument(
        "--in-step", action="store_true", help="a second's users send their first request together"
    )
    args = parser.parse_args()
    print(
        f"{SHELTERS} shelters, {WAITING} people waiting, {args.seconds} s per run, "
        f"{os.cpu_count()} cores"
    )
    print(
        "| database, workers | users | requests/s | p50 | p95 | p99 | max | failures "
        "| shed (503/429) | steady p50 | steady p99 | steady failures "
        "| service p50 | service p99 | service cores | service CPU per request "
        "| Locust cores | PostgreSQL cores | load avg (1 min) |"
    )
    print("|---|" + "---:|" * 18)
    for database in args.databases.split(","):
        with tempfile.TemporaryDirectory(prefix="placement-load-") as tmp:
            os.chmod(tmp, 0o755)
            bench(database, args, Path(tmp))


if __name__ == "__main__":
    main()
