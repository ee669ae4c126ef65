"""Compare CP-SAT and the greedy baseline on the bundled scenarios; print a Markdown table.

    .venv/bin/python benchmarks/compare_scenarios.py
    .venv/bin/python benchmarks/compare_scenarios.py --time-limit 5 scenarios/tiny_hand_checked.yaml

Persons are counted with children, per priority level from 5 (most urgent) down to 1, written
``total (P5/P4/P3/P2/P1)``. Seconds are the engine's solve time (units, greedy seed, CP-SAT
stages), without explanations. The secondary cost only compares plans that place the same
persons at every level; it is the weighted sum in ``placement.costs``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from placement.loading import load_scenario  # noqa: E402
from placement.validation import validate_plan  # noqa: E402
from solver.engine import solve_scenario  # noqa: E402
from solver.options import EngineOptions, SolveOptions  # noqa: E402

PRIORITIES = ("5", "4", "3", "2", "1")
HEADER = (
    "| scenario | arrivals | shelters | persons requested | placed cpsat | placed greedy "
    "| cpsat status | cpsat s | greedy s | cost cpsat | cost greedy |"
)


def per_priority(counts: dict[str, int]) -> str:
    """``{"5": 6, "4": 6, ...}`` -> ``32 (6/6/10/5/5)``."""
    return f"{sum(counts.values())} ({'/'.join(str(counts[p]) for p in PRIORITIES)})"


def row(path: Path, time_limit: float, workers: int) -> str:
    scenario = load_scenario(path)
    solve = SolveOptions(time_limit=time_limit, workers=workers)
    cpsat = solve_scenario(scenario, EngineOptions(solver="cpsat", solve=solve, explain=False))
    greedy = solve_scenario(scenario, EngineOptions(solver="greedy", solve=solve, explain=False))
    for plan in (cpsat, greedy):
        problems = validate_plan(scenario, plan)
        if problems:
            raise SystemExit(f"{path.name}: invalid {plan.solver} plan: {problems[:3]}")
    cells = [
        path.stem,
        str(len(scenario.arrivals)),
        str(len(scenario.shelters)),
        per_priority(cpsat.requested_persons_by_priority),
        per_priority(cpsat.placed_persons_by_priority),
        per_priority(greedy.placed_persons_by_priority),
        cpsat.status,
        f"{cpsat.solve_seconds:.2f}",
        f"{greedy.solve_seconds:.2f}",
        str(cpsat.secondary_cost),
        str(greedy.secondary_cost),
    ]
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="default: scenarios/*.yaml")
    parser.add_argument("--time-limit", type=float, default=20.0, help="CP-SAT seconds")
    parser.add_argument("--workers", type=int, default=1, help="CP-SAT worker threads")
    args = parser.parse_args(argv)
    files = args.files or sorted((ROOT / "scenarios").glob("*.yaml"))
    print(HEADER)
    print("|" + "---|" * HEADER.count(" | ") + "---|")
    for path in files:
        print(row(path, args.time_limit, args.workers), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
