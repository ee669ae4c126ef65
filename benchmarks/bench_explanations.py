"""Time the reasons of a plan (no re-solves) and their rendering in French.

A greedy plan of a generated instance (default 300 shelters x 1,000 arrivals, the "hard"
family, seed 2); the reasons of everyone unplaced, best of ``--repeat``; then the whole
plan's texts rendered in French (``Plan.localized``), which a reader asking for French pays
on top. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_explanations.py [--shelters 300] [--arrivals 1000]
"""

from __future__ import annotations

import argparse
import os
import time

from placement.context import Context
from placement.explain import Explainer
from placement.generate import generate_scenario
from placement.i18n import translator
from placement.plan import localized
from solver.engine import plan_assignment
from solver.options import EngineOptions, SolveOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shelters", type=int, default=300)
    parser.add_argument("--arrivals", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sc = generate_scenario(args.shelters, args.arrivals, seed=2, family="hard")
    ctx = Context(sc)
    options = EngineOptions(solver="greedy", solve=SolveOptions(time_limit=10), explain=False)
    solved = plan_assignment(ctx, options)
    seconds, out = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        out = Explainer(ctx, solved.assignment).explain_all()
        seconds.append(time.perf_counter() - started)
    fr = translator("fr")
    started = time.perf_counter()
    for u in out:
        localized(u, fr)
    french = time.perf_counter() - started
    texts = sum(len(u.reason_messages) for u in out)
    print(
        f"{args.shelters} x {args.arrivals}: {len(out)} unplaced, {texts} reasons; "
        f"explain best {min(seconds):.3f} s (of {args.repeat}); French rendering {french:.3f} s; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
