"""Bad stress specifications get one clear line per problem, naming the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from placement.problems import join_path
from placement.text import render
from stress.spec import StressSpecError, load_network, load_spec, network_problems
from tests.stress.conftest import TINY_ADVICE, tiny_spec


def _profile(**changes: Any) -> list[dict[str, Any]]:
    return [{"name": "op", "where": [{"department": "13"}], "size": 3, **changes}]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # no draws at all
        (tiny_spec(draws=0), "draws: Input should be greater than or equal to 1"),
        # a size range upside down
        (
            tiny_spec(profiles=_profile(size={"min": 3, "max": 1})),
            "profiles[0].size: max (1) is below min (3)",
        ),
        # a typo in a field name
        (tiny_spec(profiles=_profile(colour="red")), "profiles[0].colour: unknown field"),
        # both a file and the live network
        (
            tiny_spec(network={"scenario": "network.yaml", "live": True}),
            "network: give exactly one of 'scenario' (a file) or 'live: true'",
        ),
        # a language that is not a language tag
        (
            tiny_spec(profiles=_profile(composition={"origins": [{"languages": ["english!"]}]})),
            "profiles[0].composition.origins[0].languages[0]: 'english!' is not a known language",
        ),
        # a place with neither département nor point
        (
            tiny_spec(profiles=_profile(where=[{"weight": 2}])),
            "profiles[0].where[0]: give exactly one of 'department' or 'location'",
        ),
        # a share above 1
        (
            tiny_spec(profiles=_profile(composition={"minors": 1.5})),
            "profiles[0].composition.minors: Input should be less than or equal to 1",
        ),
        # two targets at once
        (
            tiny_spec(
                advice={**TINY_ADVICE, "target": {"all_placed_share": 1, "mean_unplaced": 1}}
            ),
            "advice.target: give exactly one of 'all_placed_share' or 'mean_unplaced'",
        ),
        # the same profile twice
        (
            tiny_spec(profiles=_profile() * 2),
            "profiles[1].name: duplicate name 'op'",
        ),
        # far too many draws
        (tiny_spec(draws=10**9), "draws: Input should be less than or equal to 100000"),
    ],
)
def test_bad_spec_names_the_field(write_spec, spec: dict[str, Any], expected: str):
    path = write_spec(spec)
    with pytest.raises(StressSpecError) as e:
        load_spec(path)
    assert any(line.startswith(f"{path}: {expected}") for line in str(e.value).splitlines()), str(
        e.value
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # a département that does not exist
        (
            tiny_spec(profiles=_profile(where=[{"department": "99"}])),
            "profiles[0].where[0].department: unknown code '99' for fr",
        ),
        # start dates after the network's horizon
        (
            tiny_spec(profiles=_profile(when={"from": "2026-12-05", "to": "2027-01-10"})),
            "profiles[0].when: 2026-12-05 to 2027-01-10 is outside the network's horizon "
            "(2026-12-01 to 2026-12-07)",
        ),
        # a candidate for a shelter the network does not have
        (
            tiny_spec(
                advice={
                    **TINY_ADVICE,
                    "candidates": [{"id": "x", "cost": 1, "add_places": {"shelter": "paris"}}],
                }
            ),
            "advice.candidates[0].add_places.shelter: unknown shelter 'paris'",
        ),
        # a target group no operation of the spec has (nobody speaks Romanian here)
        (
            tiny_spec(advice={**TINY_ADVICE, "target": {"mean_unplaced": 1, "group": "speaks ro"}}),
            "advice.target.group: 'speaks ro' is not a group of this spec's operations (one of: "
            "everyone, men, minors, nonbinary people, operation op, priority 1, priority 2, "
            "priority 3, priority 4, priority 5, speaks en, trans women, women, "
            "women with children)",
        ),
    ],
)
def test_spec_that_does_not_fit_the_network(write_spec, spec: dict[str, Any], expected: str):
    path = write_spec(spec)
    loaded = load_spec(path)
    problems = network_problems(loaded, load_network(loaded.network, path))
    assert expected in [join_path(field, render(text)) for field, text in problems]


def test_missing_network_file_names_the_field(write_spec):
    path = write_spec(tiny_spec(network={"scenario": "nowhere.yaml"}))
    with pytest.raises(StressSpecError, match=r"network\.scenario: .*cannot read file"):
        load_network(load_spec(path).network, path)


def test_live_network_is_for_the_service_only(write_spec):
    path = write_spec(tiny_spec(network={"live": True}))
    with pytest.raises(StressSpecError, match=r"network\.live: the live network is only"):
        load_network(load_spec(path).network, path)


@pytest.mark.slow
def test_cli_bad_spec_exits_2_with_the_field_and_no_traceback(write_spec):
    path = write_spec(tiny_spec(profiles=_profile(size={"min": 3, "max": 1})))
    run = subprocess.run(
        [sys.executable, "-m", "cli", "stress", str(path)], capture_output=True, text=True
    )
    assert run.returncode == 2
    assert "profiles[0].size: max (1) is below min (3)" in run.stderr
    assert "Traceback" not in run.stderr


def test_bundled_spec_is_valid():
    path = Path(__file__).parents[2] / "scenarios" / "stress" / "marseille_romanian_network.yaml"
    spec = load_spec(path)
    assert network_problems(spec, load_network(spec.network, path)) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # a size range upside down: the field named, the problem in French
        (
            tiny_spec(profiles=_profile(size={"min": 3, "max": 1})),
            "profiles[0].size: max (1) est inférieur à min (3)",
        ),
        # both a file and the live network
        (
            tiny_spec(network={"scenario": "network.yaml", "live": True}),
            "network: indiquer exactement l'un de 'scenario' (un fichier) ou 'live: true'",
        ),
        # no gender with a weight
        (
            tiny_spec(profiles=_profile(composition={"genders": {"woman": 0}})),
            "profiles[0].composition.genders: au moins un poids doit être positif",
        ),
        # two profiles with one name
        (tiny_spec(profiles=_profile() * 2), "profiles[1].name: nom en double 'op'"),
        # a département the network's country does not have (checked once the network is read)
        (
            tiny_spec(profiles=_profile(where=[{"department": "99"}])),
            "profiles[0].where[0].department: code « 99 » inconnu pour fr",
        ),
        # the live network, from the command line
        (
            tiny_spec(network={"live": True}),
            "network.live: le réseau en direct n'est disponible que dans le service",
        ),
    ],
)
def test_a_french_reader_gets_the_spec_problems_in_french(
    write_spec, spec: dict[str, Any], expected: str
):
    from typer.testing import CliRunner

    from cli.main import app

    path = write_spec(spec)
    run = CliRunner().invoke(app, ["--lang", "fr", "stress", str(path)])
    assert run.exit_code == 2, run.output
    assert expected in run.output.replace("\n", ""), run.output
    for english in ("give exactly", "is below", "weight must", "duplicate", "unknown code"):
        assert english not in run.output
