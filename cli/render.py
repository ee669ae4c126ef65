"""A plan as text for a terminal: summary, bound, who goes where, who is unplaced and why.

Every text goes through the catalogue (domain ``engine``) in the reader's language ``t``;
the engine's reasons and relaxations are rendered from their messages
(:meth:`placement.plan.Plan.localized`).
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from placement.explain import search_text
from placement.i18n import Translator
from placement.plan import LANGUAGE_MATCH_LABELS, STATUS_LABELS, Placement, Plan
from placement.text import ENGLISH


def render_plan(plan: Plan, console: Console, t: Translator = ENGLISH) -> None:
    """A readable plan: summary, who goes where, who is unplaced and why."""
    plan = plan.localized(t)
    console.print(_summary(plan, t))
    bound = _bound_line(plan, t)
    if bound:
        console.print(bound, highlight=False)
    console.print(_placements(plan, t))
    _print_unplaced(plan, console, t)


def _summary(plan: Plan, t: Translator) -> str:
    placed = sum(plan.placed_persons_by_priority.values())
    wanted = sum(plan.requested_persons_by_priority.values())
    by_level = "  ".join(
        f"P{p}: {t.number(plan.placed_persons_by_priority[p])}"
        f"/{t.number(plan.requested_persons_by_priority[p])}"
        for p in plan.placed_persons_by_priority
        if plan.requested_persons_by_priority[p]
    )
    status = t.gettext(STATUS_LABELS[plan.status])
    scenario = f"[bold]{escape(plan.scenario)}[/bold]"
    text = t.ngettext(
        "{scenario} — {placed} of {n} person placed ({placements} placements, {unplaced} "
        "unplaced) — {status} ({solver}, {seconds} s) — {levels} — secondary cost {cost}",
        "{scenario} — {placed} of {n} persons placed ({placements} placements, {unplaced} "
        "unplaced) — {status} ({solver}, {seconds} s) — {levels} — secondary cost {cost}",
        wanted,
        scenario=scenario,
        placed=t.number(placed),
        placements=t.number(len(plan.placements)),
        unplaced=t.number(len(plan.unplaced)),
        status=status,
        solver=plan.solver,
        seconds=t.number(plan.solve_seconds, "0.00"),
        levels=by_level,
        cost=t.number(plan.secondary_cost),
    )
    return text


def _bound_line(plan: Plan, t: Translator) -> str | None:
    """The best proven bound per level against what the plan placed, the levels proven and
    the cost's lower bound; None without a bound."""
    bound = plan.upper_bound_persons_at_or_above
    if not bound:
        return None
    cumulative = {
        p: sum(v for q, v in plan.placed_persons_by_priority.items() if q >= p) for p in bound
    }
    proven = plan.proven_levels
    params = {
        "bound": "/".join(t.number(bound[p]) for p in bound),
        "placed": "/".join(t.number(cumulative[p]) for p in bound),
        "levels": ", ".join(f"P{p}" for p in proven) if proven else t.gettext("no level"),
    }
    low = plan.secondary_cost_lower_bound
    if low is None:
        return t.gettext(
            "upper bound on persons placeable at priority ≥5/≥4/≥3/≥2/≥1: {bound} — placed "
            "{placed} — proven optimal: {levels}",
            **params,
        )
    gap = (plan.secondary_cost - low) / plan.secondary_cost if plan.secondary_cost else 0.0
    return t.gettext(
        "upper bound on persons placeable at priority ≥5/≥4/≥3/≥2/≥1: {bound} — placed "
        "{placed} — proven optimal: {levels} — secondary cost {cost} ≥ {low} proven (gap {gap})",
        cost=t.number(plan.secondary_cost),
        low=t.number(low),
        gap=t.percent(gap, "0.0%"),
        **params,
    )


def _placements(plan: Plan, t: Translator) -> Table:
    table = Table(title=t.gettext("Placements"), show_lines=False)
    columns = (
        (t.gettext("arrival"), "left"),
        (t.gettext("shelter"), "left"),
        (t.gettext("nights"), "left"),
        (t.gettext("persons"), "right"),
        (t.gettext("km"), "right"),
        (t.gettext("language"), "left"),
        (t.gettext("cost"), "right"),
    )
    for title, justify in columns:
        table.add_column(title, justify="right" if justify == "right" else "left")
    for p in sorted(plan.placements, key=lambda p: (p.shelter, p.arrival)):
        table.add_row(
            p.arrival,
            p.shelter,
            t.gettext("{first} → {last}", first=t.date(p.first_night), last=t.date(p.last_night)),
            t.number(p.persons),
            t.number(round(p.distance_km)),
            _language(p, t),
            t.number(p.cost),
        )
    return table


def _language(p: Placement, t: Translator) -> str:
    if p.shared_language:
        return t.gettext(
            "{language} ({tag})", language=t.language_name(p.shared_language), tag=p.shared_language
        )
    label = t.gettext(LANGUAGE_MATCH_LABELS[p.language_match])
    return f"[yellow]{label}[/yellow]"


def _print_unplaced(plan: Plan, console: Console, t: Translator) -> None:
    if not plan.unplaced:
        everyone = t.gettext("Everyone is placed.")
        console.print(f"[green]{everyone}[/green]")
        return
    unplaced = t.gettext("Unplaced ({count})", count=t.number(len(plan.unplaced)))
    console.print(f"[bold red]{unplaced}[/bold red]")
    for u in plan.unplaced:
        arrival = f"[bold]{escape(u.arrival)}[/bold]"
        heading = t.ngettext(
            "{arrival} (priority {priority}, {n} person)",
            "{arrival} (priority {priority}, {n} persons)",
            u.persons,
            arrival=arrival,
            priority=t.number(u.priority),
        )
        console.print(heading)
        for r in u.reasons:
            console.print(f"   • {escape(r)}", highlight=False)
        for x in u.relaxations:
            placed = t.gettext("→ would be placed with:")
            console.print(f"   [green]{placed}[/green] {escape(x.text)}", highlight=False)
        note = search_text(u, t)
        if note:
            console.print(f"   [yellow]! {escape(note)}[/yellow]", highlight=False)
