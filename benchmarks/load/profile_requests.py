"""What one request of each kind of the night's mix costs, in the service's own process:
milliseconds of wall time and of CPU (this process, every thread: the client's share is
small), medians of N calls one at a time, SQL statements and answer bytes. On a machine
shared with other work the CPU time is the figure to compare: it does not count the time
spent waiting for a core. The load benchmark's throughput on a machine is about its cores divided by
these costs, so this is where the time per request is cut; ``--profile NAME`` prints where
one kind spends it (``py-spy`` sampling this process for ``--seconds``, every thread: the
functions seen in most samples, inclusive; needs ``pip install py-spy``).

    .venv/bin/python benchmarks/load/profile_requests.py                 # SQLite
    .venv/bin/python benchmarks/load/profile_requests.py --database postgresql
    .venv/bin/python benchmarks/load/profile_requests.py --profile "GET /shelters"
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from bench_load import postgresql, seed  # noqa: E402

from api.config import Settings  # noqa: E402
from api.main import create_app  # noqa: E402


def requests(tokens: dict[str, Any]) -> dict[str, Callable[[TestClient], Any]]:
    """The mix's requests (``locustfile.py``), by the name Locust gives them."""
    manager, shelter = tokens["managers"][0]
    m = {"Authorization": f"Bearer {manager}"}
    c = {"Authorization": f"Bearer {tokens['coordinators'][0]}"}
    a = {"Authorization": f"Bearer {tokens['analysts'][0]}"}
    plan = tokens["plan"]
    return {
        "GET /shelters/{id}": lambda cl: cl.get(f"/shelters/{shelter}", headers=m),
        "PUT availability": lambda cl: cl.put(
            f"/shelters/{shelter}/availability", json={"capacity": 5}, headers=m
        ),
        "GET /shelters": lambda cl: cl.get("/shelters?limit=1000", headers=c),
        "GET /plans": lambda cl: cl.get("/plans?limit=20", headers=c),
        "GET /plans/{id}": lambda cl: cl.get(f"/plans/{plan}", headers=c),
        "GET /arrivals": lambda cl: cl.get("/arrivals?status=waiting&limit=100", headers=c),
        "GET /stats": lambda cl: cl.get("/stats", headers=a),
        # the night's pattern: places change between two reads, so cached answers miss
        "PUT, then GET /shelters": lambda cl: _after_a_change(cl, shelter, m).get(
            "/shelters?limit=1000", headers=c
        ),
        "PUT, then GET /stats": lambda cl: _after_a_change(cl, shelter, m).get("/stats", headers=a),
    }


def _after_a_change(client: Any, shelter: str, manager: dict[str, str]) -> Any:
    """``client``, after a capacity update of ``shelter`` (alternately 5 and 6 places)."""
    _after_a_change.places = 11 - getattr(_after_a_change, "places", 5)  # type: ignore[attr-defined]
    body = {"capacity": _after_a_change.places}  # type: ignore[attr-defined]
    response = client.put(f"/shelters/{shelter}/availability", json=body, headers=manager)
    assert response.status_code == 200, response.text
    return client


class Statements:
    """Counts the SQL statements an engine runs."""

    def __init__(self, engine: Any) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._one)

    def _one(self, *_args: Any) -> None:
        self.count += 1


def measure(client: TestClient, call: Callable[[TestClient], Any], n: int, sql: Statements):
    """Median ms, statements and bytes of one call, over ``n`` calls after a warm-up."""
    call(client)
    times, cpu, counts, size = [], [], [], 0
    for _ in range(n):
        before = sql.count
        t, c = time.perf_counter(), time.process_time()
        response = call(client)
        cpu.append((time.process_time() - c) * 1000)
        times.append((time.perf_counter() - t) * 1000)
        counts.append(sql.count - before)
        assert response.status_code < 400, (response.status_code, response.text[:300])
        size = len(response.content)
    return statistics.median(times), statistics.median(cpu), max(counts), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("-n", type=int, default=30, help="calls per kind")
    parser.add_argument("--profile", help="a request name: where its time goes (py-spy)")
    parser.add_argument("--seconds", type=float, default=10, help="sampled this long")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="placement-profile-") as tmp:
        os.chmod(tmp, 0o755)
        workdir = Path(tmp)
        pg = postgresql(workdir) if args.database == "postgresql" else nullcontext(None)
        with pg as url:
            settings = Settings(database_url=url) if url else Settings(db_path=workdir / "load.db")
            tokens = seed(settings)
            app = create_app(settings)
            with TestClient(app) as client:
                tokens["plan"] = first_plan_in(client, tokens)
                stored_bytes(app.state.engine, tokens["plan"])
                sql = Statements(app.state.engine)
                print(f"{args.database}, load average {os.getloadavg()[0]:.2f}")
                print("| request | wall ms | CPU ms | SQL statements | bytes |")
                print("|---|---:|---:|---:|---:|")
                for name, call in requests(tokens).items():
                    ms, cpu, count, size = measure(client, call, args.n, sql)
                    print(f"| {name} | {ms:.1f} | {cpu:.1f} | {count} | {size} |", flush=True)
                if args.profile:
                    sample(client, requests(tokens)[args.profile], args.seconds, workdir)


def sample(client: TestClient, call: Callable[[TestClient], Any], seconds: float, where: Path):
    """Sample this process with py-spy while ``call`` repeats; print the hottest frames."""
    out = where / "stacks.txt"
    spy = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(os.getpid()),
            "--format",
            "raw",
            "--rate",
            "200",
            "--duration",
            str(int(seconds)),
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        call(client)
    spy.wait()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if "handle_request" in stack and "lock" in stack.rsplit(";", 1)[-1]:
            continue  # the client's thread waiting for the answer
        total += int(count)
        for frame in set(stack.split(";")):
            inclusive[frame] += int(count)
    keep = ("api/", "placement/", "sqlalchemy/", "pydantic", "fastapi/", "json", "sqlite")
    print(f"{total} samples; frames in most of them (inclusive %):")
    hot = [(f, n) for f, n in inclusive.most_common() if any(k in f for k in keep)]
    for frame, n in hot[:40]:
        print(f"{100 * n / total:5.1f}%  {frame[:150]}")


def stored_bytes(engine: Any, job_id: str) -> None:
    """Print the bytes the plan job's row stores, column by column (JSON as stored)."""
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM plan_jobs WHERE id = :id"), {"id": job_id})
        values = row.mappings().one()
    sizes = {
        k: len(v if isinstance(v, str) else json.dumps(v, separators=(",", ":"), default=str))
        for k, v in values.items()
        if v is not None and not isinstance(v, int | float)
    }
    big = ", ".join(f"{k} {n}" for k, n in sorted(sizes.items(), key=lambda kv: -kv[1])[:6])
    print(f"plan job row: {sum(sizes.values())} bytes ({big})")


def first_plan_in(client: TestClient, tokens: dict[str, Any]) -> str:
    """A finished plan job (as ``bench_load.first_plan``, through the test client)."""
    coord = {"Authorization": f"Bearer {tokens['coordinators'][0]}"}
    body = {"operation_id": tokens["operation"], "time_limit": 2, "explain": False}
    job = client.post("/plans", json=body, headers=coord).json()
    for _ in range(300):
        if client.get(f"/plans/{job['id']}", headers=coord).json()["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    return str(job["id"])


if __name__ == "__main__":
    main()
