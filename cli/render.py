"""A plan as text for a terminal: summary, bound, who goes where, who is unplaced and why.

Every text goes through the catalogue (domain ``engine``) in the reader's language ``t``;
the engine's reasons and relaxations are rendered from their messages
(:meth:`placement.plan.Plan.localized`).

The placements and the unplaced are written as plain lines (:class:`_Lines`), not through
rich's tables and markup: rich measures, parses and wraps every cell, which took 16 s for
the plan of 10,000 arrivals (8 s the table, 5 s the unplaced), past the time limit.
"""

from __future__ import annotations

import re
import textwrap

from rich.cells import cell_len
from rich.console import COLOR_SYSTEMS, Console
from rich.markup import escape
from rich.style import Style

from placement.explain import search_text
from placement.i18n import Translator
from placement.plan import LANGUAGE_MATCH_LABELS, STATUS_LABELS, Placement, Plan
from placement.text import ENGLISH

#: characters whose width on a terminal may not be one column (controls, combining marks,
#: zero-width and East Asian wide ones, emoji): text without any is as wide as it is long
_NOT_ONE_COLUMN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a"
    "\u064b-\u065f\u0900-\u0dff\u1100-\u115f\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\u2e80-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe00-\ufe0f\ufe20-\ufe2f"
    "\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\U0001f000-\U0001faff\U00020000-\U0003fffd]"
)


def _width(text: str) -> int:
    """Columns ``text`` takes on a terminal: its length, unless a character in it may
    take other than one, then as rich counts (``cell_len``, which looks up each character:
    0.4 s for the reasons of 3,000 unplaced)."""
    return cell_len(text) if _NOT_ONE_COLUMN.search(text) else len(text)


def render_plan(plan: Plan, console: Console, t: Translator = ENGLISH) -> None:
    """A readable plan: summary, who goes where, who is unplaced and why."""
    plan = plan.localized(t)
    console.print(_summary(plan, t))
    bound = _bound_line(plan, t)
    if bound:
        console.print(bound, highlight=False)
    lines = _Lines(console)
    _placements(plan, lines, t)
    _unplaced(plan, lines, t)
    lines.write()


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


class _Lines:
    """Lines written straight to a console's file in one go, styled for its colours (none
    when it is not a terminal, as rich does; no colours under ``NO_COLOR``)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.width = console.width
        name = console.color_system
        self.colours = None if name is None else COLOR_SYSTEMS[name]
        self.lines: list[str] = []

    def style(self, text: str, style: str) -> str:
        """``text`` in ``style`` (rich's style names: "bold red")."""
        if self.colours is None:
            return text
        parsed = Style.parse(style)
        if self.console.no_color:
            parsed = parsed.without_color
        return parsed.render(text, color_system=self.colours)

    def add(self, line: str = "") -> None:
        self.lines.append(line)

    def wrapped(
        self, text: str, first: str, then: str, style: str | None = None, lead: str | None = None
    ) -> None:
        """``text`` after ``first``, wrapped at the console's width with ``then`` before
        each further line (``first`` and ``then`` are as wide); all in ``style``, and
        ``first`` shown as ``lead`` (the same text, styled) when given."""
        line = first + text
        if _width(line) <= self.width:
            found = [line]
        else:
            found = textwrap.wrap(
                text,
                width=max(self.width, len(first) + 20),
                initial_indent=first,
                subsequent_indent=then,
                break_long_words=False,
                break_on_hyphens=False,
            ) or [first.rstrip()]
        if lead is not None:
            found[0] = lead + found[0][len(first) :]
        for part in found:
            self.add(part if style is None else self.style(part, style))

    def write(self) -> None:
        if self.lines:
            self.console.file.write("\n".join(self.lines) + "\n")
            self.console.file.flush()


#: the table's frame, as rich's default (``box.HEAVY_HEAD``): heavy around the heading
_TOP, _HEAD, _UNDER, _ROW, _BOTTOM = "┏━┳┓", "┃┃┃", "┡━╇┩", "│││", "└─┴┘"


def _table(
    lines: _Lines,
    title: str,
    columns: list[tuple[str, bool]],
    rows: list[list[tuple[str, str | None]]],
) -> None:
    """A table of ``rows`` (each cell: text, style or None) under ``columns`` (title, right
    aligned), framed as rich frames its tables. Wider than the console, its widest columns
    are narrowed (never under their longest word, :func:`_narrowed`) and their cells go on
    over more lines."""
    heading: list[tuple[str, str | None]] = [(title, None) for title, _ in columns]
    sizes = [[_width(text) for text, _ in row] for row in [heading, *rows]]  # measured once
    widths = [max(size[i] for size in sizes) for i in range(len(columns))]
    room = lines.width - (3 * len(widths) + 1)
    if sum(widths) > room:
        widths = _narrowed(widths, room, [heading, *rows])

    def rule(frame: str) -> str:
        left, fill, cross, right = tuple(frame)
        return left + cross.join(fill * (w + 2) for w in widths) + right

    def cells(row: list[tuple[str, str | None]], size: list[int], frame: str, bold: bool) -> None:
        left, inner, right = tuple(frame)
        parts = [
            _cell_lines(text, used, width)
            for (text, _), used, width in zip(row, size, widths, strict=True)
        ]
        for k in range(max(len(p) for p in parts)):
            out = []
            for part, (_, style), width, (_, right_aligned) in zip(
                parts, row, widths, columns, strict=True
            ):
                text, used = part[k] if k < len(part) else ("", 0)
                pad = " " * (width - used)
                if used and (bold or style):
                    text = lines.style(text, "bold" if bold else style or "")
                out.append(" " + (pad + text if right_aligned else text + pad) + " ")
            lines.add(left + inner.join(out) + right)

    total = sum(widths) + 3 * len(widths) + 1
    lines.add(lines.style(title.center(total).rstrip(), "italic"))
    lines.add(rule(_TOP))
    cells(heading, sizes[0], _HEAD, bold=True)
    lines.add(rule(_UNDER))
    for row, size in zip(rows, sizes[1:], strict=True):
        cells(row, size, _ROW, bold=False)
    lines.add(rule(_BOTTOM))


def _narrowed(widths: list[int], room: int, rows: list[list[tuple[str, str | None]]]) -> list[int]:
    """``widths`` narrowed, the widest first, one character at a time, until they fit in
    ``room``, none under the longest word of its cells in ``rows`` (the heading's included:
    an id, a date's parts stay whole); if that is not enough, the table stays wider than
    the console."""
    longest = [1] * len(widths)
    for row in rows:
        for i, (text, _) in enumerate(row):
            longest[i] = max(longest[i], max((len(w) for w in text.split()), default=0))
    widths = list(widths)
    while sum(widths) > room:
        narrower = [i for i in range(len(widths)) if widths[i] > longest[i]]
        if not narrower:
            break
        widths[max(narrower, key=lambda i: widths[i])] -= 1
    return widths


def _cell_lines(text: str, used: int, width: int) -> list[tuple[str, int]]:
    """A cell's text (``used`` columns wide) over as many lines as ``width`` needs (words
    kept whole when they fit), each with its width on the terminal."""
    if used <= width:
        return [(text, used)]
    wrapped = textwrap.wrap(text, width=width, break_on_hyphens=False) or [""]
    return [(line, _width(line)) for line in wrapped]


def _placements(plan: Plan, lines: _Lines, t: Translator) -> None:
    columns = [
        (t.gettext("arrival"), False),
        (t.gettext("shelter"), False),
        (t.gettext("nights"), False),
        (t.gettext("persons"), True),
        (t.gettext("km"), True),
        (t.gettext("language"), False),
        (t.gettext("cost"), True),
    ]
    rows = [
        [
            (p.arrival, None),
            (p.shelter, None),
            (
                t.gettext(
                    "{first} → {last}", first=t.date(p.first_night), last=t.date(p.last_night)
                ),
                None,
            ),
            (t.number(p.persons), None),
            (t.number(round(p.distance_km)), None),
            _language(p, t),
            (t.number(p.cost), None),
        ]
        for p in sorted(plan.placements, key=lambda p: (p.shelter, p.arrival))
    ]
    _table(lines, t.gettext("Placements"), columns, rows)


def _language(p: Placement, t: Translator) -> tuple[str, str | None]:
    """The language cell: the language shared, else how the stay does without (in yellow)."""
    if p.shared_language:
        name = t.language_name(p.shared_language)
        return t.gettext("{language} ({tag})", language=name, tag=p.shared_language), None
    return t.gettext(LANGUAGE_MATCH_LABELS[p.language_match]), "yellow"


def _unplaced(plan: Plan, lines: _Lines, t: Translator) -> None:
    if not plan.unplaced:
        lines.add(lines.style(t.gettext("Everyone is placed."), "green"))
        return
    count = t.gettext("Unplaced ({count})", count=t.number(len(plan.unplaced)))
    lines.add(lines.style(count, "bold red"))
    placed = t.gettext("→ would be placed with:")
    green = lines.style(placed, "green")
    for u in plan.unplaced:
        heading = t.ngettext(
            "{arrival} (priority {priority}, {n} person)",
            "{arrival} (priority {priority}, {n} persons)",
            u.persons,
            arrival=lines.style(u.arrival, "bold"),
            priority=t.number(u.priority),
        )
        lines.add(heading)
        for r in u.reasons:
            lines.wrapped(r, "   • ", "     ")
        for x in u.relaxations:
            lines.wrapped(x.text, f"   {placed} ", "     ", lead=f"   {green} ")
        note = search_text(u, t)
        if note:
            lines.wrapped(note, "   ! ", "     ", style="yellow")
