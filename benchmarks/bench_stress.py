"""Stress sweep on Dask: 1,000 draws of a 40-person operation against the demo national
network (issue targets: <= 2 minutes on this 2-core machine, >= 1.7x from 1 to 2 workers).

Run: .venv/bin/python benchmarks/bench_stress.py [--draws 1000 --size 40 --workers 1,2 --repeat 2]

The operation is the bundled spec's (scenarios/stress/marseille_romanian_network.yaml), size
fixed, without marginal values or advice. For each worker count (alternating, ``--repeat``
times) it prints the whole wall time (local cluster start included), the draws phase alone,
the median solve per draw, and checks that every run gives the same numbers. The load
average is printed before and after: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

from placement.loading import read_document
from stress.report import StressReport
from stress.run import Networks, run_stress
from stress.spec import StressSpec, load_network, spec_from_data
from stress.sweep import ClusterOptions, SweepProgress

#: bottlenecks printed after the table (why P(everyone placed) is what it is)
TOP_BOTTLENECKS = 4
SPEC = Path(__file__).parents[1] / "scenarios" / "stress" / "marseille_romanian_network.yaml"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _spec(draws: int, size: int) -> StressSpec:
    """The bundled spec with ``draws`` draws of its first profile at a fixed ``size``, no
    marginal values and no advice: its document changed, then validated as any spec is
    (a bad ``--draws`` or ``--size`` is named like a bad field of a file)."""
    data = read_document(SPEC)
    data["profiles"] = [{**data["profiles"][0], "size": {"min": size, "max": size}}]
    data.update(draws=draws, marginal={"draws": 0})
    data.pop("advice", None)
    return spec_from_data(data, f"{SPEC} (--draws {draws} --size {size})")


def _bottlenecks(report: StressReport) -> str:
    """The first bottlenecks: what keeps people out, persons per draw and share of draws."""
    return "; ".join(
        f"{b.reason}: {b.persons_mean:.1f} persons/draw in {b.draws_share:.0%} of draws"
        for b in report.bottlenecks[:TOP_BOTTLENECKS]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    spec = _spec(args.draws, args.size)
    network = load_network(spec.network, SPEC)
    counts = [int(w) for w in args.workers.split(",")]
    print(f"load average before: {_load()}  ({os.cpu_count()} cores)")
    rows: dict[int, list[tuple[float, float, float]]] = {w: [] for w in counts}
    numbers = None
    report: StressReport | None = None
    for _ in range(args.repeat):
        for w in counts:
            last: list[float] = [0.0]

            def on_progress(event: SweepProgress, last: list[float] = last) -> None:
                if event.phase == "draws":
                    last[0] = event.seconds

            report = run_stress(spec, Networks(network), ClusterOptions(workers=w), on_progress)
            assert report.timing is not None
            rows[w].append(
                (report.timing.wall_seconds, last[0], report.timing.median_solve_seconds)
            )
            if numbers is None:
                numbers = report.numbers()
            assert report.numbers() == numbers, "different numbers with another worker count"
            print(
                f"workers {w}: wall {report.timing.wall_seconds:.1f} s, draws phase "
                f"{last[0]:.1f} s, median solve {report.timing.median_solve_seconds * 1000:.0f} ms"
                f", P(everyone placed) {report.all_placed.value:.3f}, load {_load()}"
            )
    print("| workers | wall s (median) | draws phase s (median) | median solve per draw ms |")
    print("|---:|---:|---:|---:|")
    for w in counts:
        wall = statistics.median(r[0] for r in rows[w])
        phase = statistics.median(r[1] for r in rows[w])
        solve = statistics.median(r[2] for r in rows[w])
        print(f"| {w} | {wall:.1f} | {phase:.1f} | {solve * 1000:.0f} |")
    assert report is not None  # at least one run
    print(f"requested per draw {report.persons_requested_mean:.1f} persons (children included)")
    print(
        f"P(everyone placed) {report.all_placed.value:.3f} "
        f"(95 % CI {report.all_placed.low:.3f}-{report.all_placed.high:.3f})"
    )
    print(f"bottlenecks: {_bottlenecks(report)}")
    if 1 in rows and 2 in rows:
        one = statistics.median(r[1] for r in rows[1])
        two = statistics.median(r[1] for r in rows[2])
        print(f"speed-up 1 -> 2 workers (draws phase): {one / two:.2f}x")
    print(f"load average after: {_load()}; every run gave the same numbers")


if __name__ == "__main__":
    main()
