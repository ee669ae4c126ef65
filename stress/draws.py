"""Operations drawn from profiles: one random stream per draw, so that draw ``i`` is the same
whichever worker solves it, whatever the number of workers, and whichever network it is
solved against (common random numbers)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from placement.models import Arrival, Policy, Scenario, Shelter
from stress.groups import (
    EVERYONE,
    MEN,
    MINORS,
    MOTHERS,
    NONBINARY,
    OPERATION,
    PRIORITY,
    SPEAKS,
    TRANS_WOMEN,
    WOMEN,
)
from stress.spec import Composition, Profile, StressSpec


def draw_stream(seed: int, index: int, profile: int) -> random.Random:
    """The random stream of one profile's operation in one draw (seeded by a string, which
    ``random`` hashes with SHA-512: the same in every process)."""
    return random.Random(f"stress:{seed}:{index}:{profile}")


def draw_arrivals(spec: StressSpec, start: date, index: int) -> list[Arrival]:
    """The arrivals of draw ``index``: one operation per profile, ids ``p{profile}-{n}``."""
    out: list[Arrival] = []
    for i, profile in enumerate(spec.profiles):
        rng = draw_stream(spec.seed, index, i)
        out += _Operation(rng, profile, f"p{i}", start).arrivals()
    return out


def profile_of(arrival_id: str) -> int:
    """The profile index an arrival id was drawn from (``p3-0012`` -> 3)."""
    return int(arrival_id.split("-", 1)[0][1:])


def draw_scenario(
    network: Scenario, spec: StressSpec, index: int, shelters: tuple[Shelter, ...] | None = None
) -> Scenario:
    """The network (or ``shelters`` instead of its own) with the arrivals of draw ``index``."""
    policy: Policy = spec.policy or network.policy
    return Scenario(
        name=f"{spec.name} - draw {index}",
        start=network.start,
        horizon_days=network.horizon_days,
        geography=network.geography,
        policy=policy,
        shelters=network.shelters if shelters is None else shelters,
        arrivals=tuple(draw_arrivals(spec, network.start, index)),
    )


class _Operation:
    """One operation drawn from a profile: each person drawn independently, then pairs of
    sisters and suspected recruiters."""

    def __init__(self, rng: random.Random, profile: Profile, prefix: str, start: date) -> None:
        self.rng = rng
        self.profile = profile
        self.mix: Composition = profile.composition
        self.prefix = prefix
        self.start = start

    def arrivals(self) -> list[Arrival]:
        rng, p = self.rng, self.profile
        place = rng.choices(p.where, weights=[w.weight for w in p.where])[0]
        if place.department is not None:
            danger: dict[str, Any] = {"department": place.department}
        else:
            assert place.location is not None  # guaranteed by Place validation
            danger = {"lat": place.location.lat, "lon": place.location.lon}
        arrives = self.start
        if p.when is not None:
            arrives = p.when.from_ + timedelta(days=rng.randint(0, (p.when.to - p.when.from_).days))
        size = rng.randint(p.size.min, p.size.max)
        people = [self._person(k, danger, arrives) for k in range(size)]
        self._households(people)
        self._recruiters(people)
        return [Arrival.model_validate(a) for a in people]

    def _person(self, k: int, danger: dict[str, Any], arrives: date) -> dict[str, Any]:
        rng, mix = self.rng, self.mix
        gender = rng.choices(list(mix.genders), weights=list(mix.genders.values()))[0]
        origin = rng.choices(mix.origins, weights=[o.weight for o in mix.origins])[0]
        priorities = sorted(mix.priorities)
        a: dict[str, Any] = {
            "id": f"{self.prefix}-{k:04d}",
            "gender": gender,
            "languages": list(origin.languages),
            "danger": [danger],
            "network": self.prefix,
            "priority": rng.choices(priorities, weights=[mix.priorities[q] for q in priorities])[0],
            "arrives": arrives.isoformat(),
        }
        if gender == "woman" and rng.random() < mix.trans_women:
            a["trans"] = True
        if rng.random() < mix.minors:
            a["age"] = rng.randint(14, 17)
        elif gender == "woman" and rng.random() < mix.mothers:
            a["children"] = rng.randint(mix.children.min, mix.children.max)
        if rng.random() < mix.language_required:
            a["language_required"] = True
        needs = [need for need, share in sorted(mix.needs.items()) if rng.random() < share]
        if needs:
            a["needs"] = needs
        if mix.stay is not None:
            a["nights"] = rng.randint(mix.stay.min, mix.stay.max)
        return a

    def _households(self, people: list[dict[str, Any]]) -> None:
        """Pairs of adult women (sisters) who stay together, for the same nights."""
        rng = self.rng
        women = [a for a in people if a["gender"] == "woman" and "age" not in a]
        pairs = min(len(women) // 2, int(len(women) * self.mix.households / 2 + rng.random()))
        if not pairs:
            return
        chosen = rng.sample(women, 2 * pairs)
        for x, y in zip(chosen[::2], chosen[1::2], strict=True):
            x["household"] = y["household"] = f"h-{x['id']}"
            if "nights" in x:
                y["nights"] = x["nights"]
            else:
                y.pop("nights", None)

    def _recruiters(self, people: list[dict[str, Any]]) -> None:
        """Suspected recruiters, kept apart from everyone else of their operation."""
        rng = self.rng
        for a in people:
            if "household" in a or "age" in a or rng.random() >= self.mix.recruiters:
                continue
            a.pop("children", None)
            a["age"] = rng.randint(30, 50)
            a["keep_apart"] = [b["id"] for b in people if b is not a]


def categories(a: Arrival, profile_name: str) -> list[str]:
    """The groups an arrival counts in for "expected unplaced by profile"."""
    out = [EVERYONE, f"{OPERATION}{profile_name}", f"{PRIORITY}{a.priority}"]
    if a.effective_age < 18:
        out.append(MINORS)
    elif a.gender == "woman":
        out.append(WOMEN)
        if a.trans:
            out.append(TRANS_WOMEN)
        if a.children:
            out.append(MOTHERS)
    elif a.gender == "man":
        out.append(MEN)
    else:
        out.append(NONBINARY)
    out += [f"{SPEAKS}{tag}" for tag in a.languages]
    return out
