"""A solve's notes (the flow bound, how each stage was decided) read in the reader's language:
each is kept as its English text and read back as a catalogue message by ``stage_text``."""

from __future__ import annotations

import pytest

from placement.context import Context
from placement.generate import generate_scenario
from placement.text import render
from solver.cpsat import Decided, Stage, StageResult
from solver.engine import plan_assignment, stage_note
from solver.options import EngineOptions, SolveOptions
from solver.progress import FLOW_NOTE, NO_MODEL_NOTE, REQUESTED_NOTE, Start, note, stage_text

# every English word the notes are made of (French has none of them)
ENGLISH_WORDS = (
    "upper", "bound", "persons", "priority", "incumbent", "reaches", "proves",
    "proved", "best", "time", "proven", "columns", "found", "nothing", "pairs",
    "admissible", "secondary_cost", "limit",
)  # fmt: skip


def _english_left(text: str) -> list[str]:
    words = text.replace(",", " ").replace(":", " ").replace("(", " ").split()
    return [w for w in words if w in ENGLISH_WORDS]


@pytest.mark.parametrize("decided", list(Decided))
@pytest.mark.parametrize("bound", [None, 1234])
@pytest.mark.parametrize("priority", [5, None])
def test_a_stage_note_reads_in_french_and_unchanged_in_english(
    decided: Decided, bound: int | None, priority: int | None
) -> None:
    note_text = stage_note(StageResult(Stage(priority), 1234, decided, "", bound, 1234.5))
    assert render(stage_text(note_text), "en") == note_text  # English as the engine wrote it
    french = render(stage_text(note_text), "fr")
    assert french != note_text
    assert not _english_left(french), french
    assert "1234,50 s" in french  # seconds written the French way, no grouping either way
    assert ("(borne " in french) == (bound is not None)


def test_the_flow_note_reads_in_french() -> None:
    flow = note(FLOW_NOTE, bounds="6/12/22/27/32")
    assert (
        flow == "upper bound (flow relaxation), persons at priority ≥5/≥4/≥3/≥2/≥1: 6/12/22/27/32"
    )
    french = render(stage_text(flow), "fr")
    assert french == (
        "borne supérieure (relaxation de flot), personnes de priorité ≥5/≥4/≥3/≥2/≥1 : "
        "6/12/22/27/32"
    )


def test_the_note_of_a_flow_bound_without_time_says_what_it_is_in_french() -> None:
    # no time for the flow relaxation: the bound is the persons requested, and says so
    text = note(REQUESTED_NOTE, bounds="6/12/22/27/33")
    assert render(stage_text(text), "en") == text
    french = render(stage_text(text), "fr")
    assert french == (
        "borne supérieure (les personnes demandées : pas le temps de la relaxation de flot), "
        "personnes de priorité ≥5/≥4/≥3/≥2/≥1 : 6/12/22/27/33"
    )


def test_a_solve_without_time_for_the_flow_relaxation_says_so() -> None:
    ctx = Context(generate_scenario(40, 80, seed=2))
    start = Start.build(ctx)
    notes: list[str] = []
    options = EngineOptions(solve=SolveOptions(time_limit=0.0), explain=False)
    plan_assignment(ctx, options, lambda e: notes.append(e.stage), start)
    assert any(n.startswith("upper bound (the persons requested") for n in notes), notes
    quick = EngineOptions(solve=SolveOptions(time_limit=5), explain=False)
    notes.clear()
    plan_assignment(ctx, quick, lambda e: notes.append(e.stage), start)
    assert any(n.startswith("upper bound (flow relaxation)") for n in notes), notes


def test_the_no_model_note_reads_in_french() -> None:
    text = note(NO_MODEL_NOTE, pairs=250000)
    assert render(stage_text(text), "en") == text
    french = render(stage_text(text), "fr")
    assert french.startswith("250000 couples admissibles") and not _english_left(french)


def test_a_text_that_is_no_note_stays_as_it_is() -> None:
    assert stage_text("something else: 3, 4, 5.00 s") == "something else: 3, 4, 5.00 s"
