"""Re-plan after one decline at national size: time per re-plan (issue target: <= 200 ms).

Run: .venv/bin/python benchmarks/bench_replan.py [--arrivals 1000 --shelters 3000 --declines 50]
Prints the time to build the plan being declined (greedy, not timed against the target),
a cold re-plan (fresh Context: rule masks and distances computed from scratch) and warm
re-plans (the Context of a running service), as median / max over the declines.
"""

from __future__ import annotations

import argparse
import statistics
import time

from placement.context import Context
from placement.generate import generate_scenario
from placement.validation import plan_violations
from solver.allocation import to_assignment
from solver.greedy import greedy_allocation
from solver.replan import replan_unit
from solver.units import build_units


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--arrivals", type=int, default=1000)
    parser.add_argument("--shelters", type=int, default=3000)
    parser.add_argument("--declines", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sc = generate_scenario(args.arrivals, args.shelters, seed=args.seed)
    started = time.perf_counter()
    ctx = Context(sc)
    units = build_units(ctx)
    assignment = to_assignment(units, greedy_allocation(ctx, units))
    planned = time.perf_counter() - started
    declined = sorted(assignment)[: args.declines]

    def one(c: Context, aid: str) -> tuple[float, str | None]:
        fixed = {k: v for k, v in assignment.items() if k != aid}
        t = time.perf_counter()
        r = replan_unit(c, fixed, aid, exclude={assignment[aid]})
        took = time.perf_counter() - t
        if r.shelter is not None:
            new = {k: v for k, v in fixed.items() if k not in r.arrival_ids}
            new.update({m: r.shelter for m in r.arrival_ids})
            assert plan_violations(c, new) == [], aid
        return took, r.shelter

    t = time.perf_counter()
    one(Context(sc), declined[0])
    cold = time.perf_counter() - t  # Context built from scratch, then one re-plan
    warm = [one(ctx, aid) for aid in declined]
    times = [w for w, _ in warm]
    replaced = sum(1 for _, s in warm if s is not None)
    print("| size | plan (greedy) | cold re-plan | warm re-plan median | warm max | re-placed |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {args.arrivals}x{args.shelters} | {planned:.2f} s | {cold * 1000:.0f} ms "
        f"| {statistics.median(times) * 1000:.1f} ms | {max(times) * 1000:.1f} ms "
        f"| {replaced}/{len(declined)} |"
    )


if __name__ == "__main__":
    main()
