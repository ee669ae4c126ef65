"""A plan as text for a terminal: summary, bound, who goes where, who is unplaced and why."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from placement.explain import search_text
from placement.plan import Placement, Plan


def render_plan(plan: Plan, console: Console) -> None:
    """A readable plan: summary, who goes where, who is unplaced and why."""
    console.print(_summary(plan))
    bound = _bound_line(plan)
    if bound:
        console.print(bound, highlight=False)
    console.print(_placements(plan))
    _print_unplaced(plan, console)


def _summary(plan: Plan) -> str:
    placed = sum(plan.placed_persons_by_priority.values())
    wanted = sum(plan.requested_persons_by_priority.values())
    by_level = "  ".join(
        f"P{p}: {plan.placed_persons_by_priority[p]}/{plan.requested_persons_by_priority[p]}"
        for p in plan.placed_persons_by_priority
        if plan.requested_persons_by_priority[p]
    )
    return (
        f"[bold]{plan.scenario}[/bold] — {placed} of {wanted} persons placed "
        f"({len(plan.placements)} placements, {len(plan.unplaced)} unplaced) — "
        f"{plan.status} ({plan.solver}, {plan.solve_seconds:.2f} s) — {by_level} — "
        f"secondary cost {plan.secondary_cost}"
    )


def _bound_line(plan: Plan) -> str | None:
    """The best proven bound per level against what the plan placed, the levels proven and
    the cost's lower bound; None without a bound."""
    bound = plan.upper_bound_persons_at_or_above
    if not bound:
        return None
    cumulative = {
        p: sum(v for q, v in plan.placed_persons_by_priority.items() if q >= p) for p in bound
    }
    proven = plan.proven_levels
    line = (
        "upper bound on persons placeable at priority ≥5/≥4/≥3/≥2/≥1: "
        + "/".join(str(bound[p]) for p in bound)
        + " — placed "
        + "/".join(str(cumulative[p]) for p in bound)
        + " — proven optimal: "
        + (", ".join(f"P{p}" for p in proven) if proven else "no level")
    )
    if plan.secondary_cost_lower_bound is not None:
        low = plan.secondary_cost_lower_bound
        gap = (plan.secondary_cost - low) / plan.secondary_cost if plan.secondary_cost else 0.0
        line += f" — secondary cost {plan.secondary_cost} ≥ {low} proven (gap {gap:.1%})"
    return line


def _placements(plan: Plan) -> Table:
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
            _language(p),
            str(p.cost),
        )
    return table


def _language(p: Placement) -> str:
    return (
        p.shared_language
        or ("[yellow]close language[/yellow]" if p.language_match == "close" else "")
        or "[yellow]interpreter[/yellow]"
    )


def _print_unplaced(plan: Plan, console: Console) -> None:
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
        note = search_text(u)
        if note:
            console.print(f"   [yellow]! {note}[/yellow]", highlight=False)
