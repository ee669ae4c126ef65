"""What one request of each kind of the night's mix costs the real service: CPU seconds of
``placement serve`` (one worker, uvicorn, SQLite) per request, from ``/proc``, over N calls
made one at a time on a keep-alive connection. Unlike ``profile_requests.py`` (the
application alone, in the benchmark's own process), this counts the HTTP server, the event
loop and the worker threads; being CPU time, it holds on a machine shared with other work
better than any latency.

    .venv/bin/python benchmarks/load/server_cpu.py
    .venv/bin/python benchmarks/load/server_cpu.py -n 500 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from bench_load import cpu_seconds, first_plan, seed, service  # noqa: E402
from profile_requests import requests  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from api.config import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="calls per kind and round")
    parser.add_argument("--repeat", type=int, default=2, help="rounds (the lowest is shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "load.db"
        env = {"PLACEMENT_DB_PATH": str(db), "PLACEMENT_LOAD_TOKENS": str(Path(tmp) / "t.json")}
        tokens = seed(Settings(db_path=db))
        os.environ.update(env)
        with service(env, 1) as server, httpx.Client(base_url=server.url, timeout=60) as client:
            tokens["plan"] = first_plan(server.url, tokens)
            print(f"one worker, SQLite, {args.n} calls per kind, load {os.getloadavg()[0]:.2f}")
            print("| request | server CPU per request (lowest of rounds) | every round |")
            print("|---|---:|---|")
            for name, call in requests(tokens).items():
                rounds = []
                for _ in range(args.repeat):
                    call(client)  # warm
                    before = cpu_seconds(server.pid)
                    for _ in range(args.n):
                        response = call(client)
                        assert response.status_code < 400, (name, response.status_code)
                    rounds.append(1000 * (cpu_seconds(server.pid) - before) / args.n)
                every = ", ".join(f"{ms:.2f}" for ms in rounds)
                print(f"| {name} | {min(rounds):.2f} ms | {every} |", flush=True)


if __name__ == "__main__":
    main()
