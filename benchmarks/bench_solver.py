"""Benchmark the solvers on generated scenarios and print a Markdown table.

    .venv/bin/python benchmarks/bench_solver.py                      # 100x300, 300x1000
    .venv/bin/python benchmarks/bench_solver.py --sizes 1000x3000 --cli
    .venv/bin/python benchmarks/bench_solver.py --sizes 10000x20000 --solvers flow,packing,cpsat
    .venv/bin/python benchmarks/bench_solver.py --solvers flow --cli --against ../main  # A/B
    .venv/bin/python benchmarks/bench_solver.py --sizes 3000x6000 --solvers flow,heuristic,cpsat
    .venv/bin/python benchmarks/bench_solver.py --sizes 1000x3000 --supply 100 --build
    .venv/bin/python benchmarks/bench_solver.py --sizes 1000x3000 --first-plan-runs 10 \
        --against ../main  # when the first plan appears, 10 runs of each tree, alternated
    .venv/bin/python benchmarks/bench_solver.py --sizes 1000x3000 --family hard --cost-gap
    .venv/bin/python benchmarks/bench_solver.py --sizes 1000x3000 --cost-gap --time-limit 8.8 \
        --lp-backends glop,highs,highs-warm,highs-warm+cuts --neighbourhoods ''

Each solver run happens in a fresh child process (this script with ``--child``), so peak
memory is that run's own ``ru_maxrss`` (scenario generation included: it is measured too, as
``gen MB``, with the solver not started). Wall time covers everything from the scenario
object to the plan (context, admissibility, units, first plan, model building, LP and CP-SAT
stages; explanations off). "cli" times the whole ``placement solve FILE --json --no-explain``
process on a JSON file (loading, the solve subprocess, printing); "cli-text" the command as
a coordinator types it, ``placement solve FILE`` (the plan as text, explanations on). The
gap is on cumulative counts, (bound - placed at priority >= p) / bound, per level p = 5..1,
against
:mod:`solver.flow_bound`. The machine is shared: compare ratios measured in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PRIORITIES = (5, 4, 3, 2, 1)
DEFAULT_LIMITS = {100: 10.0, 300: 10.0, 1000: 10.0, 10000: 60.0}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def child(args: argparse.Namespace) -> dict[str, Any]:
    """One measured run, in this (fresh) process."""
    from placement.generate import generate_scenario, write_scenario

    arrivals, shelters = (int(x) for x in args.size.split("x"))
    scenario = generate_scenario(arrivals, shelters, **_shape(args))
    out: dict[str, Any] = {"gen_mb": _peak_mb()}
    solver = args.child
    if solver in ("cli", "cli-text"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "scenario.json"
            write_scenario(scenario, path)
            del scenario  # not held in this process while the command runs
            return _cli_child(path, solver, args, out)
    started = time.perf_counter()
    if solver in ("cpsat", "greedy", "heuristic"):
        _engine_child(scenario, args, out, started)
    elif solver == "packing":
        from placement.context import Context, persons_by_priority
        from solver.allocation import to_assignment
        from solver.packing import packing_allocation
        from solver.units import build_units

        ctx = Context(scenario)
        units = build_units(ctx)
        assignment = to_assignment(units, packing_allocation(ctx, units))
        out["status"] = "heuristic"
        placed = persons_by_priority(ctx, list(assignment))
        out["placed"] = {int(k): v for k, v in placed.items()}
        out["violations"] = _violations(scenario, assignment)
    elif solver == "naive":
        from solver.naive import solve_naive

        result = solve_naive(scenario, time_limit=args.time_limit, workers=args.workers)
        from placement.context import Context, persons_by_priority

        out["status"] = "optimal" if result.proven_optimal else "feasible"
        placed = persons_by_priority(Context(scenario), list(result.assignment))
        out["placed"] = {int(k): v for k, v in placed.items()}
        out["violations"] = _violations(scenario, result.assignment)
        out["variables"] = result.variables
    elif solver == "flow":
        from solver.flow_bound import flow_bound

        fb = flow_bound(scenario)
        out["status"] = "bound"
        out["bound"] = fb.cumulative
        out["requested"] = fb.requested
        out["detail"] = (
            f"{len(fb.checkpoints)} checkpoints, {fb.items} items, {fb.shelter_nodes} shelter "
            f"nodes, {fb.arcs} arcs; flows {fb.seconds:.2f} s, units {fb.units_seconds:.2f} s"
        )
    else:
        raise ValueError(solver)
    out["wall"] = time.perf_counter() - started
    out["peak_mb"] = _peak_mb()
    return out


def _env(args: argparse.Namespace) -> dict[str, str]:
    """The CLI's environment: the other tree's command (``--against``) runs its own code,
    not a PYTHONPATH set for this one."""
    env = dict(os.environ)
    env["PLACEMENT_LANG"] = "en"  # the cli-text rows are read in English
    if args.placement:
        env.pop("PYTHONPATH", None)
    return env


def _engine_child(
    scenario: Any, args: argparse.Namespace, out: dict[str, Any], started: float
) -> None:
    """The engine in this process (explanations off), with how each stage was decided."""
    from solver.engine import solve_scenario
    from solver.options import EngineOptions, SolveOptions

    # "heuristic": the engine's path without LP or CP-SAT on the whole (a model estimated
    # at 1 s per pair never fits), whatever the size
    per_pair = {"heuristic": 1.0}.get(args.child, SolveOptions.model_seconds_per_pair)
    options = EngineOptions(
        solver="greedy" if args.child == "greedy" else "cpsat",
        solve=SolveOptions(
            time_limit=args.time_limit, workers=args.workers, model_seconds_per_pair=per_pair
        ),
        explain=False,
    )
    notes: list[str] = []

    def on_progress(event: Any) -> None:
        if STAGE_NOTE.search(event.stage) and not event.is_plan:
            notes.append(f"{event.stage} @{time.perf_counter() - started:.1f}s")

    plan = solve_scenario(scenario, options, on_progress)
    out["stages"] = notes
    out["proof"] = _proof(plan.model_dump(mode="json"))
    out["status"] = plan.status if args.child == "cpsat" else "heuristic"
    out["placed"] = {int(k): v for k, v in plan.placed_persons_by_priority.items()}
    out["violations"] = _violations(scenario, plan.assignment())


def _shape(args: argparse.Namespace) -> dict[str, Any]:
    """The generator's options from the command line (supply: the generator's default)."""
    shape = {"nights": args.nights, "seed": args.seed, "family": args.family}
    return shape if args.supply is None else {**shape, "supply": args.supply}


#: the engine's note on how a stage was decided (solver.engine.stage_note)
STAGE_NOTE = re.compile(r"(priority_\d|secondary_cost): -?\d+ ")


def _cli_child(
    path: Path, solver: str, args: argparse.Namespace, out: dict[str, Any]
) -> dict[str, Any]:
    """The whole command on the scenario written to ``path``: wall, first plan, the plan."""
    started = time.perf_counter()
    placement = args.placement or str(ROOT / ".venv/bin/placement")
    # cli-text: the command as a coordinator types it (text, explanations on)
    output = [] if solver == "cli-text" else ["--json", "--no-explain"]
    proc = subprocess.Popen(
        [placement, "solve", str(path), *output,
         "--time-limit", str(args.time_limit), "--workers", str(args.workers)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(args),
    )  # fmt: skip
    assert proc.stderr is not None and proc.stdout is not None
    errors: list[str] = []

    def read_progress() -> None:  # progress lines on stderr, as they come
        assert proc.stderr is not None
        for line in proc.stderr:
            errors.append(line)
            if "first plan" in line and "first_plan" not in out:
                out["first_plan"] = time.perf_counter() - started

    reader = threading.Thread(target=read_progress)
    reader.start()
    stdout = proc.stdout.read()  # the plan (large: read while stderr is read too)
    proc.wait()
    reader.join()
    out["wall"] = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError("".join(errors)[-2000:])
    out["peak_mb"] = max(_children_peak_mb(), 0.0)
    if solver == "cli-text":
        return _text_summary(stdout, out)
    from placement.loading import load_scenario

    scenario = load_scenario(path)
    plan = json.loads(stdout)
    out["status"] = plan["status"]
    out["solve_seconds"] = plan["solve_seconds"]
    out["proof"] = _proof(plan)
    out["stages"] = [e.strip() for e in errors if STAGE_NOTE.search(e)]
    out["placed"] = {int(k): v for k, v in plan["placed_persons_by_priority"].items()}
    out["violations"] = _violations(
        scenario, {p["arrival"]: p["shelter"] for p in plan["placements"]}
    )
    return out


def _proof(plan: dict[str, Any]) -> str:
    """The levels a plan proves and its cost against the cost's proven lower bound."""
    levels = ",".join(str(p) for p in plan.get("proven_levels", [])) or "none"
    low = plan.get("secondary_cost_lower_bound")
    cost = plan["secondary_cost"]
    gap = "" if low is None or not cost else f", cost {cost} ≥ {low} ({(cost - low) / cost:.1%})"
    return f"levels {levels}{gap}"


def _violations(scenario: Any, assignment: dict[str, str]) -> int:
    """Rule violations of a plan, by the plan validator (placement.rules)."""
    from placement.context import Context
    from placement.validation import plan_violations

    return len(plan_violations(Context(scenario), assignment))


def phases(size: str, args: argparse.Namespace, limit: float) -> None:
    """Time each phase of the CP-SAT path in this process (the profile the lead asked for)."""
    from placement.context import Context
    from placement.generate import generate_scenario
    from placement.report import Solved
    from solver.allocation import to_assignment
    from solver.cpsat import Heuristics, solve_lexicographic
    from solver.engine import finish_plan
    from solver.linear import LinearModel
    from solver.options import EngineOptions, SolveOptions
    from solver.packing import first_plan, packing_allocation
    from solver.units import build_units

    arrivals, shelters = (int(x) for x in size.split("x"))
    scenario = generate_scenario(arrivals, shelters, **_shape(args))
    rows: list[tuple[str, float, str]] = []
    t = time.perf_counter()

    def mark(name: str, note: str = "") -> None:
        nonlocal t
        now = time.perf_counter()
        rows.append((name, now - t, note))
        t = now

    ctx = Context(scenario)
    mark("Context")
    units = build_units(ctx)
    pairs = units.pair_count()
    mark("build_units (admissibility, costs)", f"{len(units.units)} units, {pairs} pairs")
    seed = first_plan(ctx, units)
    mark("first plan (packing)")
    model = LinearModel(ctx, units)
    mark("LinearModel build", f"{model.n_columns} columns, {len(model.row_lo)} rows")
    marks: list[str] = []
    started = time.perf_counter()

    def on_stage(name: str, _alloc: object, _proven: bool) -> None:
        marks.append(f"{name} ends @{time.perf_counter() - started:.1f}s")

    options = SolveOptions(time_limit=limit, workers=args.workers)
    result = solve_lexicographic(
        model,
        options,
        seed,
        on_stage,
        Heuristics(complete=lambda a: packing_allocation(ctx, units, fixed=a)),
    )
    stages = "; ".join(f"{r.stage.name} {r.value} {r.log}" for r in result.stages)
    mark("CP-SAT stages", f"{stages}; {'; '.join(marks)}; proven {result.proven_optimal}")
    solved = Solved(to_assignment(units, result.allocation), "feasible", 0.0)
    plan = finish_plan(ctx, solved, EngineOptions(), explain=False)
    mark("finish_plan (reasons, no re-solves)", f"{len(plan.unplaced)} unplaced")
    total = sum(r[1] for r in rows)
    print(f"\n{size}, seed {args.seed}, time limit {limit:g} s, peak {_peak_mb():.0f} MB\n")
    print("| phase | seconds | share | note |\n|---|---:|---:|---|")
    for name, seconds, note in rows:
        print(f"| {name} | {seconds:.2f} | {seconds / total:.0%} | {note} |")
    print(f"| total | {total:.2f} | | |")


def cost_gap(size: str, args: argparse.Namespace, limit: float) -> None:
    """Where the secondary cost's gap comes from, in this process: the lexicographic solve
    with ``limit``, then the cost LP (the levels' rows kept) run to convergence with a long
    limit, the LP solution's fractional columns by persons per copy, and CP-SAT on the
    columns the LP's duals price best (the incumbent's and the LP solution's first), for
    each size in ``--neighbourhoods`` (``--neighbourhood-seconds`` each). Tells a weak
    bound (the converged LP below the solve's) from a poor plan (a neighbourhood finds a
    cheaper one)."""
    from collections import Counter

    import numpy as np

    from placement.context import Context
    from placement.generate import generate_scenario
    from solver.cpsat import Heuristics, _Lexicographic, solve_lexicographic
    from solver.flow_bound import flow_bound
    from solver.linear import LinearModel
    from solver.lp import Pricing, lp_proof
    from solver.options import SolveOptions
    from solver.packing import first_plan, packing_allocation
    from solver.units import build_units

    arrivals, shelters = (int(x) for x in size.split("x"))
    ctx = Context(generate_scenario(arrivals, shelters, **_shape(args)))
    units = build_units(ctx)
    lin = LinearModel(ctx, units)
    started = time.perf_counter()
    result = solve_lexicographic(
        lin,
        SolveOptions(time_limit=limit, workers=args.workers),
        first_plan(ctx, units),
        heuristics=Heuristics(lambda alloc: packing_allocation(ctx, units, alloc)),
        bound=flow_bound(ctx, units).cumulative,
    )
    x = lin.to_columns(result.allocation)
    plan_cost = int(lin.col_cost @ x)
    last = result.stages[-1]
    solve_bound = -last.bound if last.stage.priority is None and last.bound is not None else None
    print(f"{size} {args.family}, T = {limit:g} s ({time.perf_counter() - started:.1f} s), "
          f"load {os.getloadavg()[0]:.1f}: levels proven {result.proven_levels()}, "
          f"plan cost {plan_cost}, the solve's cost bound {solve_bound}", flush=True)  # fmt: skip
    if last.stage.priority is None:
        lin.truncate_rows(len(lin.row_kind) - 1)  # the cost stage's own row
    c = -lin.col_cost
    proof = None
    rows = len(lin.row_kind)
    for backend in args.lp_backends.split(","):  # each from the same start, the same rows
        name, _, cuts = backend.partition("+")
        lin.truncate_rows(rows)
        started = time.perf_counter()
        proof = lp_proof(
            lin, c, np.ones(lin.n_columns, dtype=bool), -plan_cost, args.lp_seconds,
            Pricing(lin.cheapest(args.lp_start) | (x > 0), 1000, name, 200 if cuts else 0,
                    10 if cuts else 0),
        )  # fmt: skip
        assert proof is not None
        print(f"cost LP by {backend}, from {args.lp_start} cheapest columns per unit: bound "
              f"{-proof.bound:.1f} in {time.perf_counter() - started:.2f} s, "
              f"{int(proof.columns.sum())} columns, {len(lin.row_kind) - rows} cuts",
              flush=True)  # fmt: skip
    assert proof is not None  # the last one is looked at below
    values = proof.values
    fractional = np.flatnonzero((values > 1e-6) & (np.abs(values - np.round(values)) > 1e-6))
    persons = np.array([sum(u.persons_by_priority.values()) for u in lin.unit_list])
    by_persons = Counter(int(persons[lin.col_unit[j]]) for j in fractional)
    print(f"cost LP to convergence: bound {-proof.bound:.0f} "
          f"({time.perf_counter() - started:.1f} s, {int(proof.columns.sum())} columns), "
          f"{len(fractional)} fractional columns, by persons per copy {dict(by_persons)}, "
          f"gap plan-bound {(plan_cost + proof.bound) / plan_cost:.1%}", flush=True)  # fmt: skip
    search = _Lexicographic(lin, SolveOptions(time_limit=10_000, workers=args.workers), None)
    ranked = np.argsort(-proof.reduced, kind="stable")
    first = (values > 1e-6) | (x > 0)
    best = x
    for wanted in (int(n) for n in args.neighbourhoods.split(",") if n):  # '': none
        chosen = first.copy()
        chosen[ranked[~chosen[ranked]][: max(0, wanted - int(chosen.sum()))]] = True
        started = time.perf_counter()
        found = search._cpsat(chosen, c, best, args.neighbourhood_seconds)
        if found is None:
            print(f"neighbourhood of {int(chosen.sum())} columns: nothing found", flush=True)
            continue
        if int(c @ found.x) > int(c @ best):
            best = found.x
        print(f"neighbourhood of {int(chosen.sum())} columns: {found.text}, cost "
              f"{-int(c @ found.x)}, no plan on these columns below {-found.bound} "
              f"({time.perf_counter() - started:.1f} s, load {os.getloadavg()[0]:.1f})",
              flush=True)  # fmt: skip


def model_build(size: str, args: argparse.Namespace) -> None:
    """Time building the linear model (every plan rule's rows), twice, in this process."""
    from placement.context import Context
    from placement.generate import generate_scenario
    from placement.rules import PLAN_RULES
    from solver.linear import LinearModel
    from solver.units import build_units

    arrivals, shelters = (int(x) for x in size.split("x"))
    ctx = Context(generate_scenario(arrivals, shelters, **_shape(args)))
    units = build_units(ctx)
    pairs = units.pair_count()
    for run in (1, 2):
        started = time.perf_counter()
        model = LinearModel(ctx, units)
        matrix = model.matrix()[0]
        seconds = time.perf_counter() - started
        kinds = {r.name: model.row_kind.count(r.name) for r in PLAN_RULES}
        print(f"{size} {args.family} run {run}: {pairs} pairs, {matrix.shape[0]} rows "
              f"({kinds}), {matrix.nnz} non-zeros, built in {seconds:.2f} s, "
              f"peak {_peak_mb():.0f} MB, load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip


def run_child(
    solver: str, size: str, args: argparse.Namespace, limit: float, placement: str | None = None
) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", solver, "--size", size, "--seed", str(args.seed),
           "--nights", str(args.nights), "--time-limit", str(limit),
           "--workers", str(args.workers), "--family", args.family,
           *(["--supply", str(args.supply)] if args.supply is not None else []),
           *(["--placement", placement] if placement else [])]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:80]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ("placed", "bound", "requested"):
        if key in result:
            result[key] = {int(k): v for k, v in result[key].items()}
    return result


def _text_summary(stdout: str, out: dict[str, Any]) -> dict[str, Any]:
    """What the text plan's first lines say: status, placed per level, levels proven (the
    rules are not checked here: the cli row checks the same command's JSON)."""
    summary = " ".join(stdout.split("┏", 1)[0].split())  # above the table, unwrapped
    out["status"] = "optimal" if " optimal (" in summary else "feasible"
    out["placed"] = {
        int(p): int(n.replace(",", "")) for p, n in re.findall(r"P(\d): ([\d,]+)/", summary)
    }
    levels = re.search(r"proven optimal: ((?:P\d(?:, )?)+)", summary)
    out["proof"] = "levels " + (
        levels.group(1).replace("P", "").replace(" ", "") if levels else "none"
    )
    return out


def cumulative(placed: dict[int, int]) -> list[int]:
    return [sum(v for q, v in placed.items() if q >= p) for p in PRIORITIES]


def table_rows(size: str, solvers: list[str], args: argparse.Namespace, notes: list[str]) -> None:
    """The table's rows for one size: the flow bound first, then each solver against it."""
    arrivals = int(size.split("x")[0])
    limit = args.time_limit or DEFAULT_LIMITS.get(arrivals, 60.0)
    bound: dict[int, int] | None = None
    order = sorted(solvers, key=lambda s: s != "flow")  # the bound first
    for cli in ("cli", "cli-text"):  # the other tree's command, right after this one's
        if cli in order and args.against:
            order.insert(order.index(cli) + 1, f"{cli}-against")
    for solver in order:
        if solver == "naive" and arrivals > args.naive_max:
            continue
        against = None
        if solver.endswith("-against"):
            against = f"{args.against}/.venv/bin/placement"
        r = run_child(solver.removesuffix("-against"), size, args, limit, against)
        if "error" in r:
            print(f"| {size} | {solver} | – | | error: {r['error']} | | | | | |")
            continue
        if solver == "flow":
            bound = r["bound"]
            req = cumulative({p: r["requested"][p] - r["requested"].get(p + 1, 0)
                              for p in PRIORITIES})  # fmt: skip
            print(f"| {size} | flow bound | {r['wall']:.2f} | | (upper bound) | "
                  f"{r['peak_mb']:.0f} | | – | {'/'.join(str(bound[p]) for p in PRIORITIES)} "
                  f"| requested {'/'.join(map(str, req))} |")  # fmt: skip
            notes.append(f"{size} flow: {r['detail']}")
            continue
        print(solver_row(size, solver, r, bound, limit), flush=True)
        if r.get("stages"):
            notes.append(f"{size} {args.family} {solver}: " + "; ".join(r["stages"]))
        if solver == "naive":
            notes.append(f"{size} naive: {r['variables']} booleans")


def first_plan_rows(size: str, args: argparse.Namespace) -> None:
    """When ``placement solve FILE --json --no-explain`` shows its first plan, from process
    start, in ``args.first_plan_runs`` runs of this tree's command (and of ``--against``'s,
    alternated with it), on one scenario file written here."""
    from placement.generate import generate_scenario, write_scenario

    arrivals, shelters = (int(x) for x in size.split("x"))
    trees = {"this tree": str(ROOT / ".venv/bin/placement")}
    if args.against:
        trees["against"] = f"{args.against}/.venv/bin/placement"
    seconds: dict[str, list[float]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scenario.json"
        write_scenario(generate_scenario(arrivals, shelters, **_shape(args)), path)
        for _ in range(args.first_plan_runs):
            for name, placement in trees.items():
                # the row "cli": --json --no-explain, here --time-limit 2; its plan checked
                run = argparse.Namespace(**vars(args))
                run.time_limit, run.placement = 2.0, placement
                r = _cli_child(path, "cli", run, {})
                if r["violations"]:
                    raise RuntimeError(f"{placement}: {r['violations']} rule violations")
                seconds[name].append(r["first_plan"])
    for name, runs in seconds.items():
        within = sum(s <= 1.0 for s in runs)
        print(f"| {size} | {args.family} | {name} | {sorted(runs)[len(runs) // 2]:.2f} | "
              f"{min(runs):.2f}–{max(runs):.2f} | {within} of {len(runs)} | "
              f"{' '.join(f'{s:.2f}' for s in runs)} |", flush=True)  # fmt: skip


def solver_row(
    size: str, solver: str, r: dict[str, Any], bound: dict[int, int] | None, limit: float
) -> str:
    """One solver's row: times, proof, memory, validity, persons placed, gap to the bound."""
    seconds = r.get("solve_seconds", r["wall"])
    if r["status"] == "optimal":
        proven = f"{seconds:.2f} s"
    elif r["status"] == "heuristic":
        proven = "–"
    else:
        proven = f"not proven in {limit:g} s"
    if "proof" in r:
        proven += f"; {r['proof']}"
    placed = r["placed"]
    cum = cumulative(placed)
    gap = "–"
    if bound is not None:
        gap = " / ".join(
            f"{(bound[p] - c) / bound[p]:.1%}" if bound[p] else "0%"
            for p, c in zip(PRIORITIES, cum, strict=True)
        )
    first = f"{r['first_plan']:.2f}" if "first_plan" in r else ""
    valid = "–" if "violations" not in r else "yes" if r["violations"] == 0 else (
        f"{r['violations']} violations")  # fmt: skip
    return (f"| {size} | {solver} | {r['wall']:.2f} | {first} | {proven} | "
            f"{r['peak_mb']:.0f} | {valid} | "
            f"{'/'.join(str(placed.get(p, 0)) for p in PRIORITIES)} | "
            f"{'/'.join(map(str, cum))} | {gap} |")  # fmt: skip


def in_process(size: str, args: argparse.Namespace) -> None:
    """One of the modes measured in this process (``--build``, ``--cost-gap``, ``--phases``)."""
    if args.build:
        model_build(size, args)
    elif args.cost_gap:
        cost_gap(size, args, args.time_limit or 30.0)
    else:
        phases(size, args, args.time_limit or DEFAULT_LIMITS.get(int(size.split("x")[0]), 60.0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100x300,300x1000", help="ARRIVALSxSHELTERS,...")
    parser.add_argument("--solvers", default="flow,greedy,packing,cpsat,naive")
    parser.add_argument("--cli", action="store_true", help="also time the placement CLI")
    parser.add_argument(
        "--cli-text",
        action="store_true",
        help="also time the CLI as typed: text output, explanations on (row cli-text)",
    )
    parser.add_argument(
        "--first-plan-runs",
        type=int,
        default=0,
        help="instead of the table: when the first plan appears, in this many runs",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--time-limit", type=float, default=None, help="default: by size")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--family", default="standard", help="placement.generate FAMILIES")
    parser.add_argument("--supply", type=float, default=None, help="default: the generator's")
    parser.add_argument("--naive-max", type=int, default=300, help="largest arrivals for naive")
    parser.add_argument("--phases", action="store_true", help="time each CP-SAT phase instead")
    parser.add_argument("--build", action="store_true", help="time the linear model's build")
    parser.add_argument(
        "--cost-gap", action="store_true", help="where the secondary cost's gap comes from"
    )
    parser.add_argument("--lp-seconds", type=float, default=120.0, help="--cost-gap: cost LP")
    parser.add_argument(
        "--lp-backends", default="glop", help="--cost-gap: LP solvers, each NAME or NAME+cuts"
    )
    parser.add_argument("--lp-start", type=int, default=5, help="--cost-gap: cheapest columns")
    parser.add_argument("--neighbourhoods", default="4000,15000", help="--cost-gap: columns")
    parser.add_argument("--neighbourhood-seconds", type=float, default=25.0)
    parser.add_argument(
        "--against",
        help="another worktree (with its .venv): its CLI in the same run, row cli-against",
    )
    parser.add_argument("--placement", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0

    if args.first_plan_runs:
        print(
            f"load {os.getloadavg()[0]:.2f}; `placement solve FILE --json --no-explain "
            "--time-limit 2`, seconds from process start to the first plan's line\n"
        )
        print("| size | family | command | median s | range s | within 1 s | runs |")
        print("|---|---|---|---:|---|---|---|")
        for size in args.sizes.split(","):
            first_plan_rows(size, args)
        return 0
    if args.build or args.cost_gap or args.phases:
        for size in args.sizes.split(","):
            in_process(size, args)
        return 0
    solvers = args.solvers.split(",") + (["cli"] if args.cli else [])
    solvers += ["cli-text"] if args.cli_text else []
    load = os.getloadavg()[0]
    print(f"seed {args.seed}, family {args.family}, supply {args.supply or 'default'}, "
          f"{args.nights} nights, workers {args.workers}, {os.cpu_count()} CPUs, load {load:.2f}; "
          "wall includes model building; explanations off\n")  # fmt: skip
    print("| size | solver | wall s | first plan s | proven optimum | peak MB | valid "
          "| placed P5/P4/P3/P2/P1 | cumulative ≥5/≥4/≥3/≥2/≥1 "
          "| gap to bound ≥5..≥1 |")  # fmt: skip
    print("|---|---|---:|---:|---|---:|---|---|---|---|")
    notes: list[str] = []
    for size in args.sizes.split(","):
        table_rows(size, solvers, args, notes)
    if notes:
        print()
        for n in notes:
            print(f"- {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
