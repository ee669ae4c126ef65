"""Creating shelter managers: one ``placement users add`` per user, against one
``placement users import FILE.csv`` for all of them (issue 14: 60 managers took 148 s).

Prints wall seconds per user for each way, on a fresh SQLite database seeded with the demo
network, and where the time of one ``users add`` goes (the process start and imports, the
database work). Run: ``.venv/bin/python benchmarks/bench_users.py --users 30``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLACEMENT = str(Path(sys.executable).parent / "placement")


def _run(env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([PLACEMENT, *args], env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def _seeded(directory: Path) -> dict[str, str]:
    env = {**os.environ, "PLACEMENT_DB_PATH": str(directory / "placement.db")}
    from api.config import Settings
    from api.db import make_engine, migrate
    from api.demo import seed_demo

    os.environ["PLACEMENT_DB_PATH"] = env["PLACEMENT_DB_PATH"]
    settings = Settings()
    migrate(settings.url())
    engine = make_engine(settings)
    seed_demo(engine)
    engine.dispose()
    return env


def _in_process(users: int) -> float:
    """Seconds per user of the database work alone (``add_user``, one transaction each)."""
    from api.auth import add_user
    from api.config import Settings
    from api.db import make_engine

    engine = make_engine(Settings())
    start = time.perf_counter()
    for i in range(users):
        add_user(engine, f"inproc-{i}", "shelter_manager", ["SH-221"])
    engine.dispose()
    return (time.perf_counter() - start) / users


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=30)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        env = _seeded(Path(tmp))
        one_by_one = [
            _run(
                env, "users", "add", f"mgr-{i}", "--role", "shelter_manager", "--shelter", "SH-221"
            )
            for i in range(args.users)
        ]
        csv = Path(tmp) / "users.csv"
        rows = "".join(f"bulk-{i},shelter_manager,SH-221\n" for i in range(args.users))
        csv.write_text("handle,role,shelters\n" + rows)
        bulk = _run(env, "users", "import", str(csv))
        big = Path(tmp) / "big.csv"
        many = 10 * args.users
        big.write_text(
            "handle,role,shelters\n"
            + "".join(f"big-{i},shelter_manager,SH-221\n" for i in range(many))
        )
        bulk_big = _run(env, "users", "import", str(big))
        help_only = _run(env, "--help")
        db_only = _in_process(args.users)
    per_add = sum(one_by_one) / len(one_by_one)
    print(
        f"users add, one process per user: {per_add:.2f} s per user "
        f"(min {min(one_by_one):.2f}, max {max(one_by_one):.2f}; {args.users} users)"
    )
    print(
        f"users import, {args.users} users: {bulk:.2f} s in all, "
        f"{bulk / args.users * 1000:.0f} ms per user"
    )
    print(
        f"users import, {many} users: {bulk_big:.2f} s in all, "
        f"{bulk_big / many * 1000:.0f} ms per user"
    )
    print(f"placement --help (process start and imports): {help_only:.2f} s")
    print(f"add_user in one process (database work only): {db_only * 1000:.1f} ms per user")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
