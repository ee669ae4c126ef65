"""How long a SQLite writer waits for its turn, with and without the write gate
(``api.write_gate``), in one run.

Two processes (as two API workers) of ``--threads`` threads each run short write
transactions through ``api.db.make_engine`` for ``--seconds``, each thread pausing a few
milliseconds between its writes, as the night's requests do. Prints the transactions done
and the wait for the write turn (p50, p99, max) with the gate and with SQLite's own busy
handler alone; the order of the two alternates over ``--repeat`` rounds, so that a machine
shared with other work weighs on both alike.

    .venv/bin/python benchmarks/load/bench_write_turns.py
    .venv/bin/python benchmarks/load/bench_write_turns.py --threads 20 --seconds 10
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import api.db  # noqa: E402
from api.config import Settings  # noqa: E402


class NoGate:
    """Stands in for ``WriteGate``: every writer asks SQLite directly."""

    def __init__(self, *_args: object) -> None:
        pass

    def acquire(self) -> None:
        pass

    def release(self) -> None:
        pass


def worker(db: str, gated: bool, threads: int, seconds: float, out: multiprocessing.Queue) -> None:
    """One process: ``threads`` writers; puts their waits (s) and failures on ``out``."""
    if not gated:
        api.db.WriteGate = NoGate  # type: ignore[assignment,misc]
    engine = api.db.make_engine(Settings(db_path=Path(db), db_wait_seconds=5))
    waits: list[float] = []
    failures = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def writer(n: int) -> None:
        rng = random.Random(n)
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                with engine.connect() as conn:
                    conn.begin()  # waits for the turn (BEGIN IMMEDIATE)
                    waited = time.perf_counter() - started
                    conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": n})
                    conn.commit()
                with lock:
                    waits.append(waited)
            except Exception:  # noqa: BLE001 - counted: the benchmark reports failures
                with lock:
                    failures[0] += 1
            time.sleep(rng.uniform(0.002, 0.02))

    pool = [threading.Thread(target=writer, args=(os.getpid() * 100 + i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put((waits, failures[0]))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def run(gated: bool, args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "turns.db")
        engine = api.db.make_engine(Settings(db_path=Path(db)))
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"))
        engine.dispose()
        ctx = multiprocessing.get_context("spawn")
        out: multiprocessing.Queue = ctx.Queue()
        procs = [
            ctx.Process(target=worker, args=(db, gated, args.threads, args.seconds, out))
            for _ in range(2)
        ]
        for p in procs:
            p.start()
        results = [out.get() for _ in procs]
        for p in procs:
            p.join()
    waits = [w for ws, _ in results for w in ws]
    failures = sum(f for _, f in results)
    return (
        f"| {'gate' if gated else 'busy handler only'} | {len(waits)} | {failures}"
        f" | {_pct(waits, 0.5):.1f} ms | {_pct(waits, 0.99):.1f} ms | {_pct(waits, 1.0):.1f} ms"
        f" | {os.getloadavg()[0]:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=12, help="writers per process")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(f"2 processes x {args.threads} writers, {args.seconds:g} s per run")
    print("| writers wait for | transactions | failed | wait p50 | wait p99 | max | load avg |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in range(args.repeat):
        for gated in (True, False) if r % 2 == 0 else (False, True):
            print(run(gated, args), flush=True)


if __name__ == "__main__":
    main()
