"""Every text of stress reports is in the ``stress`` catalogue, in French: the messages marked
in stress/ and cli/stress.py (``N_``, ``gettext``, ``ngettext``), and the engine's rule names
a bottleneck shows; and the French summary is French, numbers included."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from rich.console import Console

from placement.i18n import catalogue_path
from placement.rules import PAIR_RULES
from stress.report import StressReport
from stress.texts import RULE_NAMES, STRESS, Texts

ROOT = Path(__file__).parents[2]
SOURCES = [*sorted((ROOT / "stress").glob("*.py")), ROOT / "cli" / "stress.py"]
KEYWORDS = {
    "N_": None,
    "gettext": None,
    "_": None,
    "ngettext": (1, 2),
    "message": None,
    "plural_message": (1, 2),
}


def marked() -> set[str]:
    """The msgids (singular forms) marked in the stress sources."""
    out: set[str] = set()
    for path in SOURCES:
        for _, message, _, _ in extract_from_file("python", str(path), keywords=KEYWORDS):
            out.add(message[0] if isinstance(message, tuple) else message)
    return out


def french() -> dict[str, object]:
    with catalogue_path(STRESS, "fr").open("rb") as f:
        catalog = read_po(f, locale="fr", domain=STRESS)
    return {m.id[0] if isinstance(m.id, tuple) else m.id: m.string for m in catalog if m.id}


def test_the_extraction_finds_the_messages():
    # Guards the test below against an extraction that silently finds nothing.
    found = marked()
    assert len(found) > 60
    assert {"draws", "women with children", "Capacity advice", "time left"} <= found


def test_every_stress_message_has_a_french_translation():
    fr = french()
    missing = sorted(m for m in marked() if not fr.get(m))
    assert not missing, f"no French in stress/locale/fr/LC_MESSAGES/stress.po for: {missing}"


def test_plural_messages_have_every_french_form():
    fr = french()
    plural = [m for m, s in fr.items() if isinstance(s, tuple | list)]
    assert plural and all(all(form for form in fr[m]) for m in plural)  # type: ignore[union-attr]


def test_every_rule_a_bottleneck_names_has_words():
    names = {rule.name for rule in PAIR_RULES} | {"household"}
    assert names <= set(RULE_NAMES)


def test_parameters_survive_translation():
    # A translation that drops or renames a {parameter} would fail at format time.
    fr = french()
    for msgid, string in fr.items():
        forms = string if isinstance(string, tuple | list) else [string]
        for form in forms:
            assert _params(form) <= _params(msgid) | {"n"}, (msgid, form)


def _params(text: str) -> set[str]:
    import string

    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.fixture
def report(tmp_path: Path) -> StressReport:
    from stress.stats import mean, proportion

    estimate = proportion(2, 3)
    return StressReport.model_validate(
        {
            "name": "essai",
            "network": "réseau",
            "seed": 1,
            "draws": 1200,
            "proven_optimal_draws": 1200,
            "persons_requested_mean": 1234.5,
            "all_placed": estimate,
            "all_placed_at_or_above": {"1": estimate},
            "expected_unplaced": [
                {"group": "women with children", "requested_mean": 2.5, "unplaced": mean([0, 1])},
                {"group": "speaks ro", "requested_mean": 2.5, "unplaced": mean([0, 1])},
            ],
            "bottlenecks": [
                {"reason": "no shelter: safety_distance", "draws_share": 0.5, "persons_mean": 1.5},
                {"reason": "full: S-1", "draws_share": 0.5, "persons_mean": 1.5},
            ],
            "shelters_saturated": [
                {
                    "shelter": "S-1",
                    "department": "13",
                    "full_share": estimate,
                    "usual_full_nights": [{"first": "2026-12-01", "last": "2026-12-03"}],
                }
            ],
            "departments_saturated": [],
            "marginal_value": [],
            "marginal_draws": 0,
        }
    )


def test_the_french_summary_is_french_with_french_numbers_and_dates(report: StressReport):
    from cli.stress import render_summary

    console = Console(record=True, width=200)
    render_summary(report, console, Texts("fr"))
    text = console.export_text().replace("\u202f", " ").replace("\xa0", " ")
    assert "1 200 tirages" in text
    assert "66,7 %" in text and "1 234,5" in text
    assert "femmes avec enfants" in text and "parle roumain" in text
    assert "aucune structure ne les accueille : distance de sécurité" in text
    assert "1 déc." in text
    for english in ("draws", "women", "speaks", "full:", "Dec"):
        assert english not in text, english
