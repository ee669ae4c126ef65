"""The engine's explanations of the bundled scenarios, rendered in French, leak no English.

Every reason, relaxation and search note of the plans (CP-SAT with verified relaxations) is
rendered from its message in French; the identifiers of the scenario (shelters, arrivals,
households, networks, services) are taken out, and what is left may not contain a word of
:data:`ENGLISH_WORDS` (words of the English messages that are not French words). The same
check on the English rendering finds them: the check can fail.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from placement.explain import search_message
from placement.i18n import translator
from placement.loading import load_scenario
from placement.models import Scenario
from placement.plan import Plan
from placement.text import Text
from solver.engine import solve_scenario
from solver.options import EngineOptions, SolveOptions

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"

#: words of the engine's English messages that French never uses
ENGLISH_WORDS = frozenset(
    [
        "the",
        "and",
        "of",
        "on",
        "to",
        "by",
        "with",
        "shelter",
        "shelters",
        "passes",
        "pass",
        "every",
        "rule",
        "rules",
        "full",
        "needed",
        "taken",
        "priority",
        "placed",
        "household",
        "member",
        "members",
        "excluded",
        "nobody",
        "moves",
        "move",
        "would",
        "room",
        "free",
        "night",
        "nights",
        "empty",
        "small",
        "too",
        "speaks",
        "accepts",
        "takes",
        "offers",
        "children",
        "women",
        "men",
        "last",
        "instead",
        "without",
        "search",
        "stopped",
        "reached",
        "verified",
        "may",
        "work",
        "more",
        "none",
        "whole",
        "stay",
        "lower",
        "higher",
        "keeps",
        "people",
        "person",
        "persons",
        "already",
        "never",
        "request",
        "planned",
        "accepted",
        "become",
        "became",
        "took",
        "confirmed",
        "its",
        "from",
        "at",
        "least",
        "most",
        "should",
        "input",
        "field",
        "required",
        "unknown",
        "holds",
        "who",
        "must",
        "kept",
        "apart",
    ]
)


@cache
def _solved(name: str) -> tuple[Scenario, Plan]:
    sc = load_scenario(SCENARIO_DIR / f"{name}.yaml")
    options = EngineOptions(solve=SolveOptions(time_limit=20.0, workers=1), explain=True)
    return sc, solve_scenario(sc, options)


def _messages(plan: Plan) -> list[Text]:
    out: list[Text] = []
    for u in plan.unplaced:
        out += u.reason_messages
        out += [r.message for r in u.relaxations if r.message is not None]
        note = search_message(u)
        if note is not None:
            out.append(note)
    return out


def _identifiers(sc: Scenario) -> set[str]:
    ids = {s.id for s in sc.shelters} | {a.id for a in sc.arrivals}
    ids |= {x for a in sc.arrivals for x in (a.household, a.network) if x}
    ids |= {x for a in sc.arrivals for x in (*a.needs, *a.wishes)}
    return ids


def english_words(text: str, identifiers: set[str]) -> set[str]:
    """The words of ``text`` (identifiers taken out) that are English, not French."""
    for ident in sorted(identifiers, key=len, reverse=True):
        text = text.replace(ident, " ")
    words = set(re.findall(r"[a-zà-ÿ’']+", text.lower()))
    return words & ENGLISH_WORDS


@pytest.mark.parametrize(
    "name",
    ["seine_saint_denis_nigerian_network", "tiny_hand_checked", "marseille_labour_exploitation"],
)
def test_explanations_in_french_leak_no_english(name: str) -> None:
    sc, plan = _solved(name)
    messages = _messages(plan)
    assert messages, "the scenario has no one unplaced: nothing checked"
    fr = translator("fr")
    leaks = {}
    for m in messages:
        text = m.render(fr)
        found = english_words(text, _identifiers(sc))
        if found:
            leaks[text] = found
    assert not leaks, leaks


def test_the_check_finds_english_in_the_english_rendering() -> None:
    sc, plan = _solved("tiny_hand_checked")
    en = translator("en")
    found = [english_words(m.render(en), _identifiers(sc)) for m in _messages(plan)]
    assert all(found), "an English message without any listed English word"
