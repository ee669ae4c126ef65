"""Compare CP-SAT parameter settings: time to the proven lexicographic optimum.

    .venv/bin/python benchmarks/bench_params.py [--sizes 100x300,300x1000] [--seeds 1]
        [--workers 1,2,8] [--linearization 0,1,2] [--time-limit 30]

For each generated instance the units and the greedy seed are built once; each setting then
gets a fresh :class:`solver.linear.LinearModel` (the stages add rows to it) and runs
:func:`solver.cpsat.solve_lexicographic` (building the linear model excluded from the time,
which is the same for every setting). The table gives the seconds to the end of each stage (P5..P1,
then the secondary cost) and whether the whole lexicographic optimum was proven. The machine
is shared and has few cores: compare settings within one run, not across runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from placement.context import Context  # noqa: E402
from placement.generate import generate_scenario  # noqa: E402
from solver.allocation import Allocation  # noqa: E402
from solver.cpsat import solve_lexicographic  # noqa: E402
from solver.greedy import greedy_allocation  # noqa: E402
from solver.linear import LinearModel  # noqa: E402
from solver.options import SolveOptions  # noqa: E402
from solver.units import Units, build_units  # noqa: E402


def _row(
    label: str,
    ctx: Context,
    units: Units,
    seed_alloc: Allocation,
    options: SolveOptions,
) -> str:
    model = LinearModel(ctx, units)
    marks: dict[str, float] = {}
    started = time.perf_counter()

    def on_stage(name: str, _alloc: Allocation, _proven: bool) -> None:
        marks[name] = time.perf_counter() - started

    result = solve_lexicographic(model, options, seed_alloc, on_stage)
    total = time.perf_counter() - started
    stages = "; ".join(
        f"{r.stage.name} {r.value} {r.log} @{marks[r.stage.name]:.2f}"
        if r.stage.name in marks
        else f"{r.stage.name} {r.log}"
        for r in result.stages
    )
    return (
        f"| {label} | {options.workers} | {options.linearization_level} | "
        f"{'yes' if result.proven_optimal else 'no'} | {total:.2f} | {stages} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100x300,300x1000")
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--workers", default="1,2,8")
    parser.add_argument("--linearization", default="0,1,2")
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--nights", type=int, default=30)
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",")]
    levels = [int(x) for x in args.linearization.split(",")]

    print(f"time limit {args.time_limit:g} s per setting (all stages); seconds are cumulative "
          "at the end of each stage; model building excluded\n")  # fmt: skip
    print("| instance | workers | linearization | proven | total s "
          "| stages: value, status (stage seconds), end time |")  # fmt: skip
    print("|---|---:|---:|---|---:|---|")
    for size in args.sizes.split(","):
        arrivals, shelters = (int(x) for x in size.split("x"))
        for seed in (int(s) for s in args.seeds.split(",")):
            scenario = generate_scenario(arrivals, shelters, nights=args.nights, seed=seed)
            ctx = Context(scenario)
            units = build_units(ctx)
            seed_alloc = greedy_allocation(ctx, units)
            for w in workers:
                for lin in levels:
                    options = replace(
                        SolveOptions(time_limit=args.time_limit),
                        workers=w,
                        linearization_level=lin,
                    )
                    print(_row(f"{size} s{seed}", ctx, units, seed_alloc, options))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
