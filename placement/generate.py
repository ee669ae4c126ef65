"""Synthetic scenarios for tests and benchmarks: deterministic for a seed, realistic in shape.

Nothing here is real data. The distributions are plausible orders of magnitude for the
French national mechanism and for mass arrivals, chosen so that the hard cases appear:

* **Arrivals** come from *networks* (one per dismantled operation, 3 to 40 people, plus a
  few people on their own). A network has an origin (which decides the languages), a kind
  of exploitation (sexual: mostly women; labour: mostly men; forced crime/begging: mixed,
  with more minors), 1-3 danger locations (a département, sometimes with coordinates, or
  coordinates only) and a day on which its people arrive. Genders are mostly women, some
  men, a few nonbinary people; some people are trans; some are minors; some women bring
  0-3 children; needs and wishes are drawn from the shelter services; priorities 1-5 are
  skewed low; stays are 7, 14 or 21 nights or the whole horizon. Households (two sisters,
  a mother and her adult daughter) and keep-apart links (a few "madams" per network kept
  away from the network's victims) are included.
* **Shelters** are spread over the départements (cantons) at a jittered chef-lieu, with
  women-only majority, some for men and some mixed; about 30% trans-inclusive, 35% take
  children, 5% are for minors; languages are ``fr`` plus 0-2 others; capacity 1-6 or an
  availability calendar whose places change by date.
* **Supply** is tuned by ``supply``: the expected free place-nights over all shelters are
  about ``supply`` times the person-nights requested. The shelters that do not get free
  places are full (capacity 0) or free a place only late in the horizon, as most partner
  shelters are on a given day. With the default 1.3 and the rules' filtering, not everyone
  fits, which is the interesting case. ``supply=None`` keeps every shelter's 1-6 places.

Generate and write a file::

    python -m placement.generate --arrivals 100 --shelters 300 --seed 1 -o /tmp/x.yaml

The extension decides the format (``.json`` or ``.yaml``/``.yml``); both load with
:func:`placement.loading.load_scenario`. Use JSON for large instances: it reads ~20x faster.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypedDict, Unpack

from placement.geography import GeographyCode, load_geography
from placement.models import Scenario

SERVICES = ("psychological_support", "medical", "trafficking_specialised", "disability_access")

#: origin -> (weight, languages as (tag, probability the person speaks it) with the first
#: always spoken, exploitation kinds with weights)
ORIGINS: dict[str, tuple[float, list[tuple[str, float]], dict[str, float]]] = {
    "nigeria": (0.28, [("en", 1.0), ("pcm", 0.7), ("bin", 0.4)], {"sexual": 0.9, "crime": 0.1}),
    "romania": (0.13, [("ro", 1.0)], {"sexual": 0.5, "labour": 0.3, "crime": 0.2}),
    "bulgaria": (0.07, [("bg", 1.0)], {"sexual": 0.6, "labour": 0.4}),
    "china": (0.10, [("zh", 1.0)], {"sexual": 0.6, "labour": 0.4}),
    "latin_america_es": (0.08, [("es", 1.0)], {"sexual": 0.8, "labour": 0.2}),
    "brazil": (0.04, [("pt", 1.0), ("es", 0.2)], {"sexual": 0.9, "labour": 0.1}),
    "albania": (0.06, [("sq", 1.0), ("it", 0.3)], {"sexual": 0.7, "crime": 0.3}),
    "ukraine": (0.07, [("uk", 1.0), ("ru", 0.8)], {"sexual": 0.5, "labour": 0.5}),
    "russia": (0.03, [("ru", 1.0)], {"sexual": 1.0}),
    "arabic": (0.09, [("ar", 1.0), ("fr", 0.4)], {"labour": 0.5, "crime": 0.3, "sexual": 0.2}),
    "france": (0.05, [("fr", 1.0)], {"sexual": 0.7, "crime": 0.3}),
}

#: kind -> (P(woman), P(man), P(nonbinary), P(minor))
KINDS: dict[str, tuple[float, float, float, float]] = {
    "sexual": (0.92, 0.04, 0.04, 0.07),
    "labour": (0.25, 0.74, 0.01, 0.05),
    "crime": (0.50, 0.47, 0.03, 0.30),
}

#: Where networks operate in France: large cities weigh more (other départements weigh 1).
FR_HOTSPOTS = {"75": 12, "93": 8, "13": 8, "69": 6, "06": 5, "33": 4, "31": 4, "59": 5,
               "67": 3, "44": 3, "34": 3, "92": 4, "94": 3, "95": 2, "77": 2, "91": 2,
               "38": 2, "76": 2, "57": 2, "35": 2}  # fmt: skip
CH_HOTSPOTS = {"ZH": 8, "GE": 7, "BS": 4, "BE": 4, "VD": 4, "TI": 3, "LU": 2, "SG": 2}

#: Shelter kinds: accepts, weight, P(trans_inclusive)
SHELTER_KINDS: list[tuple[list[str], float, float]] = [
    (["woman"], 0.50, 0.20),
    (["woman", "nonbinary"], 0.08, 0.60),
    (["man"], 0.14, 0.15),
    (["woman", "man", "nonbinary"], 0.28, 0.45),
]
SHELTER_SERVICE_P = {
    "psychological_support": 0.55,
    "medical": 0.30,
    "trafficking_specialised": 0.35,
    "disability_access": 0.15,
}
NEED_P = {
    "psychological_support": 0.12,
    "medical": 0.07,
    "trafficking_specialised": 0.06,
    "disability_access": 0.02,
}
WISH_P = {
    "psychological_support": 0.25,
    "medical": 0.08,
    "trafficking_specialised": 0.20,
    "disability_access": 0.0,
}
PRIORITY_WEIGHTS = (0.40, 0.25, 0.17, 0.11, 0.07)  # priorities 1..5
CAPACITY_WEIGHTS = (0.30, 0.25, 0.17, 0.12, 0.09, 0.07)  # capacity 1..6


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class _Gen:
    """One generation run: the random stream and the id counters."""

    def __init__(self, seed: int, geography: GeographyCode, horizon: int, start: date) -> None:
        self.rng = random.Random(seed)
        self.geo = load_geography(geography)
        self.horizon = horizon
        self.start = start
        codes = sorted(self.geo.areas)
        if geography == "fr":
            codes = [c for c in codes if not c.startswith("97")]  # mainland and Corsica
        self.codes = codes
        hot = FR_HOTSPOTS if geography == "fr" else CH_HOTSPOTS
        self.danger_weights = {c: float(hot.get(c, 1)) for c in codes}
        self.jitter = 0.15 if geography == "fr" else 0.05  # degrees around the chef-lieu

    # --- places -----------------------------------------------------------------------
    def point_near(self, code: str) -> dict[str, float]:
        p = self.geo.area(code).reference_point
        j = self.jitter
        return {
            "lat": round(p.lat + self.rng.uniform(-j, j), 4),
            "lon": round(p.lon + self.rng.uniform(-j, j), 4),
        }

    def day(self, index: int) -> str:
        return (self.start + timedelta(days=index)).isoformat()

    # --- arrivals -----------------------------------------------------------------------
    def network(self, index: int, size: int) -> dict[str, Any]:
        rng = self.rng
        origin = _pick(rng, {k: v[0] for k, v in ORIGINS.items()})
        kind = _pick(rng, ORIGINS[origin][2])
        dangers: list[dict[str, Any]] = []
        for _ in range(rng.choices((1, 2, 3), weights=(0.5, 0.35, 0.15))[0]):
            code = _pick(rng, self.danger_weights)
            r = rng.random()
            if r < 0.7:
                dangers.append({"department": code})
            elif r < 0.9:
                dangers.append({"department": code, **self.point_near(code)})
            else:
                dangers.append(self.point_near(code))
        # Operations happen in the first days; a network's people arrive together.
        first = min(self.horizon - 1, int(rng.expovariate(1 / 3)))
        return {
            "id": f"net{index:04d}",
            "origin": origin,
            "kind": kind,
            "danger": dangers,
            "arrives": first,
            "size": size,
            "priority_shift": rng.choices((0, 1, 2), weights=(0.7, 0.2, 0.1))[0],
        }

    def person(self, net: dict[str, Any], pid: str) -> dict[str, Any]:
        rng = self.rng
        p_woman, p_man, _, p_minor = KINDS[net["kind"]]
        r = rng.random()
        gender = "woman" if r < p_woman else "man" if r < p_woman + p_man else "nonbinary"
        trans = gender == "nonbinary" and rng.random() < 0.5 or rng.random() < 0.04
        minor = rng.random() < p_minor
        langs = [tag for tag, p in ORIGINS[net["origin"]][1] if rng.random() < p]
        if net["origin"] != "france" and rng.random() < 0.15:
            langs.append("fr")
        a: dict[str, Any] = {
            "id": pid,
            "gender": gender,
            "languages": langs,
            "danger": net["danger"],
            "network": net["id"] if net["kind"] != "alone" else None,
            "priority": min(
                5, rng.choices((1, 2, 3, 4, 5), weights=PRIORITY_WEIGHTS)[0] + net["priority_shift"]
            ),  # fmt: skip
        }
        if trans:
            a["trans"] = True
        self._age_and_children(a, minor)
        self._needs_and_stay(a, net, langs)
        return a

    def _age_and_children(self, a: dict[str, Any], minor: bool) -> None:
        rng = self.rng
        # Ages are known for minors; for adults often only "adult" is known.
        if minor:
            a["age"] = rng.randint(14, 17)
        elif rng.random() < 0.35:
            a["age"] = rng.randint(18, 45)
        if a["gender"] == "woman" and not minor and rng.random() < 0.22:
            a["children"] = rng.choices((1, 2, 3), weights=(0.55, 0.3, 0.15))[0]

    def _needs_and_stay(self, a: dict[str, Any], net: dict[str, Any], langs: list[str]) -> None:
        rng = self.rng
        needs = [s for s in SERVICES if rng.random() < NEED_P[s]]
        wishes = [s for s in SERVICES if s not in needs and rng.random() < WISH_P[s]]
        if needs:
            a["needs"] = needs
        if wishes:
            a["wishes"] = wishes
        arrives = min(self.horizon - 1, net["arrives"] + (rng.random() < 0.15))
        if arrives:
            a["arrives"] = self.day(arrives)
        nights = rng.choices((7, 14, 21, None), weights=(0.2, 0.3, 0.2, 0.3))[0]
        if nights is not None:
            a["nights"] = nights
        if rng.random() < 0.04:
            a["safety_distance_km"] = 200
        if len(langs) == 1 and rng.random() < 0.15:
            a["language_required"] = True

    def arrivals(self, n: int) -> list[dict[str, Any]]:
        rng = self.rng
        out: list[dict[str, Any]] = []
        index = 0
        while len(out) < n:
            left = n - len(out)
            if rng.random() < 0.1:  # someone on their own
                size = 1
                net = self.network(index, 1)
                net["kind"] = _pick(rng, ORIGINS[net["origin"]][2])
                net["danger"] = net["danger"][:1]
                single = True
            else:
                size = min(left, max(3, int(rng.lognormvariate(math.log(10), 0.6))))
                net = self.network(index, size)
                single = False
            people = [self.person(net, f"a{len(out) + i:05d}") for i in range(size)]
            if single:
                people[0].pop("network", None)
            else:
                self._households(net, people)
                self._madams(people)
            for p in people:
                if p.get("network") is None:
                    p.pop("network", None)
            out += people
            index += 1
        return out[:n]

    def _households(self, net: dict[str, Any], people: list[dict[str, Any]]) -> None:
        """Pair some women of a network: sisters, or a mother and her adult daughter."""
        rng = self.rng
        women = [p for p in people if p["gender"] == "woman" and "age" not in p]
        rng.shuffle(women)
        pairs = int(len(women) * 0.12 + rng.random())
        for k in range(min(pairs, len(women) // 2)):
            x, y = women[2 * k], women[2 * k + 1]
            hid = f"h_{x['id']}"
            x["household"] = y["household"] = hid
            if rng.random() < 0.5:  # mother and adult daughter
                x["age"], y["age"] = rng.randint(38, 55), rng.randint(18, 22)
                y.pop("children", None)
            # A household arrives together and stays as long.
            for key in ("arrives", "nights"):
                if key in x:
                    y[key] = x[key]
                else:
                    y.pop(key, None)

    def _madams(self, people: list[dict[str, Any]]) -> None:
        """A few suspected recruiters per network, kept apart from the victims they knew."""
        rng = self.rng
        if len(people) < 5:
            return
        candidates = [p for p in people if "household" not in p and "age" not in p]
        count = min(len(candidates), rng.choices((0, 1, 2), weights=(0.35, 0.45, 0.2))[0])
        for madam in rng.sample(candidates, count):
            madam["age"] = rng.randint(30, 50)
            madam.pop("children", None)
            victims = [p for p in people if p is not madam]
            chosen = rng.sample(victims, min(len(victims), rng.randint(2, 8)))
            madam["keep_apart"] = sorted(v["id"] for v in chosen)
            madam["priority"] = 1

    # --- shelters -----------------------------------------------------------------------
    def shelter(self, index: int, languages: dict[str, float]) -> dict[str, Any]:
        rng = self.rng
        code = rng.choice(self.codes)
        accepts, _, p_trans = rng.choices(SHELTER_KINDS, weights=[k[1] for k in SHELTER_KINDS])[0]
        s: dict[str, Any] = {"id": f"s{index:05d}", "department": code, "accepts": accepts}
        if rng.random() < 0.85:
            s["location"] = self.point_near(code)
        s["trans_inclusive"] = rng.random() < p_trans
        if rng.random() < 0.05:
            s["age_min"], s["age_max"] = 13, 17
            if "man" in accepts and "woman" not in accepts and rng.random() < 0.5:
                s["accepts"] = ["woman", "man", "nonbinary"]
        elif rng.random() < 0.04:
            s["age_min"] = 16  # a few young-adult places that also take older minors
        if accepts != ["man"] and rng.random() < 0.35 / 0.86:
            s["children"] = True
        others = rng.choices((0, 1, 2), weights=(0.4, 0.4, 0.2))[0]
        langs = ["fr"]
        while len(langs) < 1 + others:
            tag = _pick(rng, languages)
            if tag not in langs:
                langs.append(tag)
        s["languages"] = langs
        s["services"] = [x for x in SERVICES if rng.random() < SHELTER_SERVICE_P[x]]
        if rng.random() < 0.6:
            s["capacity"] = rng.choices(range(1, 7), weights=CAPACITY_WEIGHTS)[0]
        else:
            s["availability"] = self.calendar()
        return s

    def calendar(self) -> list[dict[str, Any]]:
        """1-3 consecutive ranges whose places change by date (0-6 places each)."""
        rng = self.rng
        cuts = sorted(rng.sample(range(1, self.horizon), min(self.horizon - 1, rng.randint(0, 2))))
        bounds = [0, *cuts, self.horizon]
        out = []
        for a, b in zip(bounds, bounds[1:], strict=False):
            r: dict[str, Any] = {
                "from": self.day(a),
                "places": rng.choices(range(0, 7), weights=(0.15, *CAPACITY_WEIGHTS))[0],
            }
            if b < self.horizon:
                r["to"] = self.day(b)
            out.append(r)
        return out

    def place_nights(self, s: dict[str, Any]) -> int:
        if "capacity" in s:
            return int(s["capacity"]) * self.horizon
        total = 0
        for r in s["availability"]:
            a = (date.fromisoformat(r["from"]) - self.start).days
            b = (date.fromisoformat(r["to"]) - self.start).days if "to" in r else self.horizon
            total += r["places"] * (b - a)
        return total

    def full(self, s: dict[str, Any]) -> None:
        """Make a shelter full: no place, or one place freed late in the horizon."""
        s.pop("capacity", None)
        s.pop("availability", None)
        if self.rng.random() < 0.75 or self.horizon < 4:
            s["capacity"] = 0
        else:
            opens = self.rng.randint(self.horizon // 2, self.horizon - 1)
            s["availability"] = [{"from": self.day(opens), "places": 1}]


def _demand(arrivals: Sequence[dict[str, Any]], start: date, horizon: int) -> int:
    """Person-nights requested inside the horizon."""
    total = 0
    for a in arrivals:
        first = (date.fromisoformat(a["arrives"]) - start).days if "arrives" in a else 0
        last = min(horizon, first + a["nights"]) if "nights" in a else horizon
        total += (1 + int(a.get("children", 0))) * max(0, last - first)
    return total


class Shape(TypedDict, total=False):
    """How a generated scenario looks besides its size (every key optional)."""

    nights: int  # default 30
    seed: int  # default 0
    geography: GeographyCode  # default "fr"
    #: target ratio of free place-nights to requested person-nights before the rules filter
    #: anything (None: no shelter is made full); default 1.3
    supply: float | None
    network_cap: int | None  # policy.max_per_network_per_shelter; default none
    start: date  # default 2026-03-02
    name: str | None
    #: "standard" (default), or a harder family for the exact solver (see :data:`FAMILIES`)
    family: str


#: Harder instance families, made from a standard instance of the same seed by
#: :func:`_harden` (so the standard family's instances do not change): where the packing
#: heuristic stays under the flow bound and the LP and CP-SAT must do the work.
#: name -> (largest places per shelter and range, share of women paired in households,
#: keep-apart links per 10 persons, share of persons who require their language,
#: network cap or None)
FAMILIES: dict[str, tuple[int, float, float, float, int | None]] = {
    "tight": (2, 0.0, 0.0, 0.0, None),
    "households": (6, 0.5, 3.0, 0.0, None),
    "language": (6, 0.0, 0.0, 0.6, None),
    "hard": (2, 0.5, 3.0, 0.6, 2),
}


def generate_data(arrivals: int, shelters: int, **shape: Unpack[Shape]) -> dict[str, Any]:
    """The scenario as plain data (what a file holds). See :func:`generate_scenario`."""
    nights = shape.get("nights", 30)
    seed = shape.get("seed", 0)
    geography = shape.get("geography", "fr")
    supply = shape.get("supply", 1.3)
    network_cap = shape.get("network_cap")
    start = shape.get("start", date(2026, 3, 2))
    name = shape.get("name")
    g = _Gen(seed, geography, nights, start)
    people = g.arrivals(arrivals) if arrivals else []
    # Shelters speak the languages arrivals speak, weighted by how many do.
    spoken: dict[str, float] = {}
    for origin, (w, langs, _) in ORIGINS.items():
        for tag, p in langs:
            if origin != "france" and tag != "fr":
                spoken[tag] = spoken.get(tag, 0.0) + w * p
    places = [g.shelter(i, spoken) for i in range(shelters)]
    if supply is not None and places:
        target = supply * _demand(people, start, nights)
        raw = sum(g.place_nights(s) for s in places)
        keep = min(1.0, target / raw) if raw else 1.0
        for s in places:
            if g.rng.random() >= keep:
                g.full(s)
    policy: dict[str, Any] = {}
    family = shape.get("family", "standard")
    if family != "standard":
        if family not in FAMILIES:
            raise ValueError(f"family: unknown {family!r}, expected standard or {list(FAMILIES)}")
        network_cap = _harden(people, places, FAMILIES[family], seed) or network_cap
    if network_cap is not None:
        policy["max_per_network_per_shelter"] = network_cap
    suffix = "" if family == "standard" else f" {family}"
    return {
        "name": name or f"generated {arrivals}x{shelters} seed {seed}{suffix}",
        "start": start.isoformat(),
        "horizon_days": nights,
        "geography": geography,
        "policy": policy,
        "shelters": places,
        "arrivals": people,
    }


def _harden(
    people: list[dict[str, Any]],
    places: list[dict[str, Any]],
    family: tuple[int, float, float, float, int | None],
    seed: int,
) -> int | None:
    """Make a standard instance harder, in place, with its own random stream; return the
    family's network cap."""
    most, paired, links, language, cap = family
    rng = random.Random(f"harden-{seed}")
    for s in places:
        if "capacity" in s:
            s["capacity"] = min(s["capacity"], most)
        for r in s.get("availability", ()):
            r["places"] = min(r["places"], most)
    by_network: dict[str, list[dict[str, Any]]] = {}
    for p in people:
        by_network.setdefault(p.get("network", p["id"]), []).append(p)
        if len(p.get("languages", ())) and rng.random() < language:
            p["language_required"] = True
    for group in by_network.values():
        _pair_households(rng, group, paired)
        _link_apart(rng, group, links)
    return cap


def _pair_households(rng: random.Random, group: list[dict[str, Any]], share: float) -> None:
    """Pair a ``share`` of the adult women of a network not yet in a household."""
    women = [p for p in group if p["gender"] == "woman" and "household" not in p]
    women = [p for p in women if "keep_apart" not in p and p.get("age", 30) >= 18]
    rng.shuffle(women)
    for k in range(int(len(women) * share / 2)):
        x, y = women[2 * k], women[2 * k + 1]
        x["household"] = y["household"] = f"hh_{x['id']}"
        for key in ("arrives", "nights"):
            if key in x:
                y[key] = x[key]
            else:
                y.pop(key, None)


def _link_apart(rng: random.Random, group: list[dict[str, Any]], per_10: float) -> None:
    """About ``per_10`` keep-apart links per 10 persons of a network, between persons of
    different households."""
    if len(group) < 3:
        return
    for _ in range(round(len(group) * per_10 / 10)):
        x, y = rng.sample(group, 2)
        if x.get("household") is not None and x.get("household") == y.get("household"):
            continue
        apart = set(x.get("keep_apart", ()))
        if y["id"] not in apart and x["id"] not in y.get("keep_apart", ()):
            x["keep_apart"] = sorted(apart | {y["id"]})


def generate_scenario(arrivals: int, shelters: int, **shape: Unpack[Shape]) -> Scenario:
    """A valid synthetic scenario with ``arrivals`` arrivals and ``shelters`` shelters.

    Deterministic for given arguments; ``shape`` (:class:`Shape`) sets the nights, seed,
    geography, supply and network cap.
    """
    return Scenario.model_validate(generate_data(arrivals, shelters, **shape))


def scenario_to_data(scenario: Scenario) -> dict[str, Any]:
    """The file form of a scenario (aliases such as ``from``, no defaults, no nulls)."""
    data: dict[str, Any] = scenario.model_dump(
        mode="json", by_alias=True, exclude_none=True, exclude_defaults=True
    )
    # Required-looking fields that equal their defaults are still useful to a reader.
    data["name"] = scenario.name
    data["start"] = scenario.start.isoformat()
    data["horizon_days"] = scenario.horizon_days
    return data


def write_scenario(scenario: Scenario | dict[str, Any], path: str | Path) -> None:
    """Write a scenario as JSON (``.json``) or YAML (anything else)."""
    data = scenario_to_data(scenario) if isinstance(scenario, Scenario) else scenario
    path = Path(path)
    if path.suffix == ".json":
        path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), "utf-8")
        return
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(text, "utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m placement.generate", description="Write a synthetic scenario."
    )
    parser.add_argument("--arrivals", type=int, default=100)
    parser.add_argument("--shelters", type=int, default=300)
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--geography", choices=("fr", "ch"), default="fr")
    parser.add_argument(
        "--supply", type=float, default=1.3, help="free place-nights / requested person-nights"
    )
    parser.add_argument("--no-supply-cap", action="store_true", help="keep every shelter open")
    parser.add_argument("--network-cap", type=int, default=None)
    parser.add_argument("--family", choices=("standard", *FAMILIES), default="standard")
    parser.add_argument("-o", "--output", required=True, help="FILE.json or FILE.yaml")
    args = parser.parse_args(argv)
    scenario = generate_scenario(
        args.arrivals,
        args.shelters,
        nights=args.nights,
        seed=args.seed,
        geography=args.geography,
        supply=None if args.no_supply_cap else args.supply,
        network_cap=args.network_cap,
        family=args.family,
    )
    write_scenario(scenario, args.output)
    persons = sum(a.persons for a in scenario.arrivals)
    print(
        f"{args.output}: {len(scenario.arrivals)} arrivals ({persons} persons), "
        f"{len(scenario.shelters)} shelters, {scenario.horizon_days} nights",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
