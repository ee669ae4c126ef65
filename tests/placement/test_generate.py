"""The scenario generator: deterministic, the requested sizes, valid and loadable files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from placement.context import Context
from placement.generate import generate_scenario, main, write_scenario
from placement.loading import load_scenario
from placement.rules import HouseholdRule, KeepApartRule


def test_same_seed_same_scenario_and_other_seed_differs() -> None:
    a = generate_scenario(60, 150, seed=7)
    b = generate_scenario(60, 150, seed=7)
    c = generate_scenario(60, 150, seed=8)
    assert a == b
    assert a != c


@pytest.mark.parametrize(("arrivals", "shelters", "nights"), [(0, 5, 30), (1, 1, 7), (250, 40, 30)])
def test_sizes(arrivals: int, shelters: int, nights: int) -> None:
    s = generate_scenario(arrivals, shelters, nights=nights, seed=3)
    assert len(s.arrivals) == arrivals
    assert len(s.shelters) == shelters
    assert s.horizon_days == nights


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_trip_through_a_file(tmp_path: Path, suffix: str, seed: int) -> None:
    scenario = generate_scenario(120, 200, seed=seed, network_cap=3 if seed == 2 else None)
    path = tmp_path / f"x{suffix}"
    write_scenario(scenario, path)
    assert load_scenario(path) == scenario


def test_switzerland() -> None:
    s = generate_scenario(40, 60, seed=1, geography="ch")
    assert {sh.department for sh in s.shelters} <= set(s.geo.areas)


def test_distributions_have_the_hard_cases() -> None:
    s = generate_scenario(1500, 1000, seed=4)
    genders = Counter(a.gender for a in s.arrivals)
    assert genders["woman"] > genders["man"] > genders["nonbinary"] > 0
    assert any(a.trans for a in s.arrivals)
    assert any(a.effective_age < 18 for a in s.arrivals)
    assert any(a.children for a in s.arrivals)
    assert any(a.needs for a in s.arrivals) and any(a.wishes for a in s.arrivals)
    ctx = Context(s)
    assert HouseholdRule.groups(ctx) and KeepApartRule.pairs(ctx)
    priorities = Counter(a.priority for a in s.arrivals)
    assert priorities[1] > priorities[5] > 0
    assert len({a.network for a in s.arrivals if a.network}) > 10
    assert len({a.arrives for a in s.arrivals}) > 1 and len({a.nights for a in s.arrivals}) > 2
    languages = {t for a in s.arrivals for t in a.languages}
    assert {"en", "pcm", "ro", "zh", "es", "sq", "uk", "ar"} <= languages
    assert any(sh.availability for sh in s.shelters) and any(sh.capacity for sh in s.shelters)
    assert any(sh.trans_inclusive for sh in s.shelters)
    assert any(sh.age_max is not None and sh.age_max < 18 for sh in s.shelters)
    assert all(sh.languages[0] == "fr" and len(sh.languages) <= 3 for sh in s.shelters)
    assert len({sh.department for sh in s.shelters}) > 80


def test_cli_writes_a_loadable_file(tmp_path: Path) -> None:
    out = tmp_path / "x.yaml"
    assert main(["--arrivals", "30", "--shelters", "50", "--seed", "1", "-o", str(out)]) == 0
    s = load_scenario(out)
    assert len(s.arrivals) == 30 and len(s.shelters) == 50


def test_standard_family_is_the_default_and_unchanged() -> None:
    # the harder families are made after the standard instance: old seeds give old instances
    assert generate_scenario(80, 200, seed=4, family="standard") == generate_scenario(
        80, 200, seed=4
    )


@pytest.mark.parametrize("family", ["tight", "households", "language", "hard"])
def test_harder_families_are_harder_and_deterministic(family: str) -> None:
    plain = generate_scenario(200, 400, seed=5)
    hard = generate_scenario(200, 400, seed=5, family=family)
    assert hard == generate_scenario(200, 400, seed=5, family=family)
    Context(hard)  # valid: households and keep-apart links agree
    if family in ("tight", "hard"):
        nightly = [s.places_by_night(hard.start, 30, hard.end) for s in hard.shelters]
        assert max(max(n) for n in nightly) <= 2
    if family in ("households", "hard"):
        assert sum(a.household is not None for a in hard.arrivals) > sum(
            a.household is not None for a in plain.arrivals
        )
        assert sum(len(a.keep_apart) for a in hard.arrivals) > sum(
            len(a.keep_apart) for a in plain.arrivals
        )
    if family in ("language", "hard"):
        assert sum(bool(a.language_required) for a in hard.arrivals) > 60
    if family == "hard":
        assert hard.policy.max_per_network_per_shelter == 2


def test_unknown_family_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="family: unknown 'easy'"):
        generate_scenario(5, 5, family="easy")
