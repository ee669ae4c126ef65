"""The ``placement`` console script: the only place that prints."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from placement.loading import ScenarioError, load_scenario
from placement.plan import Plan
from solver.names import SolverName

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
EXIT_BAD_INPUT = 2


def render_plan(plan: Plan, console: Console) -> None:
    """A readable plan: summary, who goes where, who is unplaced and why."""
    placed = sum(plan.placed_persons_by_priority.values())
    wanted = sum(plan.requested_persons_by_priority.values())
    by_level = "  ".join(
        f"P{p}: {plan.placed_persons_by_priority[p]}/{plan.requested_persons_by_priority[p]}"
        for p in plan.placed_persons_by_priority
        if plan.requested_persons_by_priority[p]
    )
    console.print(
        f"[bold]{plan.scenario}[/bold] — {placed} of {wanted} persons placed "
        f"({len(plan.placements)} placements, {len(plan.unplaced)} unplaced) — "
        f"{plan.status} ({plan.solver}, {plan.solve_seconds:.2f} s) — {by_level} — "
        f"secondary cost {plan.secondary_cost}"
    )
    bound = plan.upper_bound_persons_at_or_above
    if bound:
        cumulative = {
            p: sum(v for q, v in plan.placed_persons_by_priority.items() if q >= p) for p in bound
        }
        reached = [p for p in bound if cumulative[p] >= bound[p]]
        console.print(
            "upper bound on persons placeable at priority ≥5/≥4/≥3/≥2/≥1: "
            + "/".join(str(bound[p]) for p in bound)
            + " — placed "
            + "/".join(str(cumulative[p]) for p in bound)
            + (
                f" (reached at ≥{', ≥'.join(reached)}: those levels are optimal)" if reached else ""
            ),
            highlight=False,
        )
    table = Table(title="Placements", show_lines=False)
    for col in ("arrival", "shelter", "nights", "persons", "km", "language", "cost"):
        table.add_column(col, justify="right" if col in ("persons", "km", "cost") else "left")
    for p in sorted(plan.placements, key=lambda p: (p.shelter, p.arrival)):
        table.add_row(
            p.arrival,
            p.shelter,
            f"{p.first_night} → {p.last_night}",
            str(p.persons),
            f"{p.distance_km:.0f}",
            p.shared_language
            or ("[yellow]close language[/yellow]" if p.language_match == "close" else "")
            or "[yellow]interpreter[/yellow]",
            str(p.cost),
        )
    console.print(table)
    if not plan.unplaced:
        console.print("[green]Everyone is placed.[/green]")
        return
    console.print(f"[bold red]Unplaced ({len(plan.unplaced)})[/bold red]")
    for u in plan.unplaced:
        persons = "1 person" if u.persons == 1 else f"{u.persons} persons"
        console.print(f"[bold]{u.arrival}[/bold] (priority {u.priority}, {persons})")
        for r in u.reasons:
            console.print(f"   • {r}", highlight=False)
        for x in u.relaxations:
            console.print(f"   [green]→ would be placed with:[/green] {x.text}", highlight=False)


@app.command()
def solve(
    file: Annotated[Path, typer.Argument(help="scenario file (YAML or JSON)")],
    json_output: Annotated[bool, typer.Option("--json", help="print the plan as JSON")] = False,
    time_limit: Annotated[
        float, typer.Option(help="seconds for the solve, model building included", min=0.1)
    ] = 30.0,
    solver: Annotated[
        SolverName, typer.Option(help="cpsat (optimal) or greedy (baseline)")
    ] = "cpsat",
    workers: Annotated[int, typer.Option(help="CP-SAT worker threads", min=1, max=64)] = 1,
    explain: Annotated[
        bool, typer.Option(help="search verified relaxations for the unplaced")
    ] = True,
    quiet: Annotated[bool, typer.Option(help="no progress lines on stderr")] = False,
) -> None:
    """Plan a scenario: who goes where, who could not be placed, why, and what would help."""
    err = Console(stderr=True, soft_wrap=True)
    try:
        scenario = load_scenario(file)
    except ScenarioError as e:
        for line in str(e).splitlines():
            err.print(f"[red]error:[/red] {line}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    started = time.perf_counter()

    def progress(
        stage: str, assignment: dict[str, str], proven: bool, bound: dict[int, int] | None = None
    ) -> None:
        if quiet:
            return
        line = f"{time.perf_counter() - started:6.2f}s {stage}"
        if assignment:
            by_level = {p: 0 for p in (5, 4, 3, 2, 1)}
            for a in assignment:
                by_level[priority_of[a]] += persons_of[a]
            cumulative = [sum(by_level[q] for q in by_level if q >= p) for p in by_level]
            line += ": placed at ≥5/≥4/≥3/≥2/≥1 " + "/".join(map(str, cumulative))
            if bound is not None:
                line += " of at most " + "/".join(str(bound[p]) for p in by_level)
            line += " (proven)" if proven else ""
        err.print(f"[dim]{line}[/dim]", highlight=False)

    persons_of = {a.id: a.persons for a in scenario.arrivals}
    priority_of = {a.id: a.priority for a in scenario.arrivals}
    prepared = None
    if solver == "cpsat":
        # The first plan, before OR-Tools is loaded; the solve (forked) starts from it.
        from placement.context import Context
        from solver.allocation import to_assignment
        from solver.packing import first_plan
        from solver.units import build_units

        ctx = Context(scenario)
        units = build_units(ctx)
        seed = first_plan(ctx, units)
        progress("first plan (packing heuristic)", to_assignment(units, seed), False)
        prepared = (ctx, units, seed)
    from solver.cpsat import SolveOptions
    from solver.engine import EngineOptions
    from solver.process import solve_in_subprocess

    spent = time.perf_counter() - started  # the time limit covers the first plan too
    options = EngineOptions(
        solver=solver,
        solve=SolveOptions(time_limit=max(0.1, time_limit - spent), workers=workers),
        explain=explain,
    )
    plan = solve_in_subprocess(scenario, options, progress=progress, prepared=prepared)
    if json_output:
        sys.stdout.write(plan.model_dump_json(indent=2) + "\n")
    else:
        render_plan(plan, Console(width=None if sys.stdout.isatty() else 140))


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """Shelter bed and placement scheduling engine."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main() -> None:
    app()


import api.service_cli  # noqa: E402, F401  (registers the service's commands on app)
