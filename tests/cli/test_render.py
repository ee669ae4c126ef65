"""The plan as text (``placement solve`` without ``--json``): framed table, wrapped reasons,
styles only on a terminal. Written line by line, not through rich's tables (16 s for a
plan of 10,000 arrivals; see ``cli/render.py``)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from cli.language import cli_translator
from cli.render import render_plan
from placement.loading import load_scenario
from placement.plan import Plan
from solver.engine import solve_scenario
from solver.options import EngineOptions, SolveOptions

MARSEILLE = Path(__file__).resolve().parents[2] / "scenarios/marseille_labour_exploitation.yaml"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def plan() -> Plan:
    options = EngineOptions(solve=SolveOptions(time_limit=10))
    plan = solve_scenario(load_scenario(MARSEILLE), options)
    assert plan.unplaced and any(u.relaxations for u in plan.unplaced)
    return plan


def _text(plan: Plan, width: int = 140, lang: str = "en", **console: object) -> str:
    out = io.StringIO()
    render_plan(plan, Console(file=out, width=width, **console), cli_translator(lang))  # type: ignore[arg-type]
    return out.getvalue()


def _table(text: str) -> list[str]:
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("┏"))
    bottom = next(i for i, line in enumerate(lines) if line.startswith("└"))
    return lines[top : bottom + 1]


def test_the_table_is_framed_with_one_row_per_placement_and_its_columns_aligned(plan: Plan):
    table = _table(_text(plan))
    assert len(table) == 4 + len(plan.placements)  # top, heading, rule, rows, bottom
    # every line as wide, every column boundary at the same place
    assert len({cell_len(line) for line in table}) == 1
    bars = {tuple(m.start() for m in re.finditer("[┏┳┓┃┡╇┩│└┴┘]", line)) for line in table}
    assert len(bars) == 1, bars
    heading = [c.strip() for c in table[1].strip("┃").split("┃")]
    assert heading == ["arrival", "shelter", "nights", "persons", "km", "language", "cost"]
    rows = {line.split("│")[1].strip(): line.split("│") for line in table[3:-1]}
    assert set(rows) == {p.arrival for p in plan.placements}
    for p in plan.placements:
        cells = rows[p.arrival]
        assert cells[2].strip() == p.shelter
        assert cells[4].endswith(f"{p.persons} ") and cells[4].startswith(" ")  # to the right
        assert cells[5].strip() == f"{round(p.distance_km):,}"
    # sorted by shelter, then arrival, so that a shelter's people are together
    order = [(line.split("│")[2].strip(), line.split("│")[1].strip()) for line in table[3:-1]]
    assert order == sorted(order)


def test_reasons_wrap_at_the_width_under_their_bullet_and_nothing_is_lost(plan: Plan):
    text = _text(plan, width=80)
    after = text.split(_table(text)[-1], 1)[1]
    for line in after.splitlines():
        assert cell_len(line) <= 80, line
    # a reason longer than the line goes on under its text, indented, word for word
    english = plan.localized(cli_translator("en"))
    long = next(r for u in english.unplaced for r in u.reasons if len(r) > 80)
    start = after.index("   • " + long.split()[0])
    lines = after[start:].splitlines()
    joined = [lines[0][5:]]
    for line in lines[1:]:
        if not line.startswith("     ") or line.startswith("   • "):
            break
        joined.append(line[5:])
    assert " ".join(joined) == long
    assert "→ would be placed with:" in after


def test_no_styles_off_a_terminal_and_styles_on_one(plan: Plan):
    plain = _text(plan)
    assert not ANSI.search(plain)
    coloured = _text(plan, force_terminal=True, color_system="standard")
    assert ANSI.sub("", coloured) == plain  # the same text, styled
    unplaced = plan.unplaced[0]
    assert f"\x1b[1m{unplaced.arrival}\x1b[0m (priority" in coloured  # bold
    assert "\x1b[1;31mUnplaced (" in coloured  # bold red
    assert "\x1b[32m→ would be placed with:\x1b[0m" in coloured  # green
    assert "┃ \x1b[1marrival\x1b[0m" in coloured


def test_no_colour_keeps_bold_but_drops_colours(plan: Plan):
    text = _text(plan, force_terminal=True, color_system="standard", no_color=True)
    assert "\x1b[1mUnplaced (" in text and "\x1b[32m" not in text and "\x1b[31m" not in text


def test_the_table_and_reasons_in_french(plan: Plan):
    text = _text(plan, lang="fr")
    heading = [c.strip() for c in _table(text)[1].strip("┃").split("┃")]
    assert heading[0] == "arrivée" and "Placements" not in heading
    assert "Sans place (" in text and "Unplaced" not in text


def test_everyone_placed_is_said_in_place_of_the_unplaced(plan: Plan):
    everyone = plan.model_copy(update={"unplaced": []})
    assert _text(everyone).rstrip().endswith("Everyone is placed.")


def test_a_table_wider_than_the_console_wraps_its_cells_and_keeps_ids_whole(plan: Plan):
    # Piped, the console is 140 wide and the table fits; on a 90-column terminal its
    # widest columns are narrowed and their cells go on over more lines, never breaking a
    # word (a shelter's id, a date's parts): each row reads the same once rejoined.
    wide = _table(_text(plan))
    assert cell_len(wide[0]) > 90
    table = _table(_text(plan, width=90))
    assert all(cell_len(line) <= 90 for line in table)
    assert len(table) > len(wide)
    rows: list[list[str]] = []
    for line in table[3:-1]:
        cells = [c.strip() for c in line.strip("│").split("│")]
        if cells[0]:
            rows.append(cells)
        else:  # a row's next line
            rows[-1] = [
                " ".join(filter(None, (a, b))) for a, b in zip(rows[-1], cells, strict=True)
            ]
    assert rows == [[c.strip() for c in line.strip("│").split("│")] for line in wide[3:-1]]


def test_a_console_too_narrow_for_the_longest_words_keeps_them_whole(plan: Plan):
    table = _table(_text(plan, width=40))
    shelters = {p.shelter for p in plan.placements}
    seen = {line.split("│")[2].strip() for line in table[3:-1]} - {""}
    assert seen == shelters  # whole ids, wider than the console rather than broken


@pytest.mark.parametrize(
    "text",
    ["lab13-ro05", "15 Mar 2027 → 11 Apr 2027", "≥ 2", "accueil à Orléans", "中文 (zh)",
     "e\u0301", "🙂 x", "Ελληνικά", "русский", "العربية", "हिन्दी", "tab\there", "한국어"],
)  # fmt: skip
def test_text_widths_are_rich_s_own(text: str):
    # the table and the wrapping count a text's columns by its length unless a character
    # in it may not take one column; then as rich does
    from cli.render import _width

    assert _width(text) == cell_len(text)
