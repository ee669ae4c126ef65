"""The stress specification: a network, operation profiles, draws and a seed, validated.

A YAML or JSON file, read like scenario files: every problem is one ``FILE: path: problem``
line (``profiles[0].size.max: ...``), never a traceback. Cross-field checks that need the
network (known départements and shelters, dates inside the horizon) are made once the
network is loaded, by :func:`network_problems`, with the same paths.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict

from placement.i18n import N_
from placement.loading import ScenarioError, load_scenario, read_document, validate_document
from placement.models import (
    UNKNOWN_CODE,
    UNKNOWN_SHELTER,
    Frozen,
    Gender,
    Identifier,
    Location,
    Policy,
    Scenario,
    Service,
    Shelter,
    _check_languages,
    _department_code,
    json_given,
)
from placement.problems import Problem, TextError, join_path
from placement.text import message
from stress.groups import FIXED_GROUPS, OPERATION, PRIORITY, SPEAKS
from stress.limits import MAX_DRAWS

#: bounds that keep a sweep within what a cluster can do in an evening (and MAX_DRAWS)
MAX_OPERATION_SIZE = 2_000
#: candidates of capacity advice: one boolean each in one CP-SAT model (solver/saa.py)
MAX_CANDIDATES = 500
Share = Annotated[float, Field(ge=0, le=1)]
Weight = Annotated[float, Field(gt=0, le=1_000_000)]
# The problems found here are messages of the ``stress`` domain (stress/locale), rendered
# in the reader's language as the scenario's are (placement.problems.TextError).
POSITIVE_WEIGHT = N_("at least one weight must be positive")
DUPLICATE_ID = N_("duplicate id {id}")


class StressSpecError(ScenarioError):
    """A stress specification could not be read; one ``path: problem`` per line."""


class NetworkSource(Frozen):
    """Where the shelters come from: a scenario file (its shelters, start, horizon,
    geography and policy; its arrivals are ignored), or the service's live network."""

    scenario: str | None = Field(
        default=None, min_length=1, description="scenario file, relative to the spec file"
    )
    live: bool = Field(default=False, description="the service's live network (service only)")

    @model_validator(mode="after")
    def _one(self) -> NetworkSource:
        if (self.scenario is None) == (not self.live):
            raise TextError(message("give exactly one of 'scenario' (a file) or 'live: true'"))
        return self


#: exactly one of ``department`` or ``location``: the rule of ``Place._somewhere``, for the
#: JSON Schema (the service's document then describes the places it accepts)
ONE_PLACE: JsonDict = {
    "oneOf": [
        json_given("department", {"type": "string"}),
        json_given("location", {"type": "object"}),
    ]
}


class Place(Frozen):
    """Where an operation happens: a département or a point, with a weight."""

    model_config = ConfigDict(json_schema_extra=ONE_PLACE)

    department: str | None = None
    location: Location | None = None
    weight: Weight = 1.0

    _norm_department = field_validator("department", mode="before")(_department_code)

    @model_validator(mode="after")
    def _somewhere(self) -> Place:
        if (self.department is None) == (self.location is None):
            raise TextError(message("give exactly one of 'department' or 'location'"))
        return self


class IntRange(Frozen):
    """Whole numbers drawn uniformly from ``min`` to ``max`` (both included)."""

    min: int = Field(ge=0, le=MAX_OPERATION_SIZE)
    max: int = Field(ge=0, le=MAX_OPERATION_SIZE)

    @model_validator(mode="after")
    def _ordered(self) -> IntRange:
        if self.max < self.min:
            raise TextError(
                message("max ({max}) is below min ({min})", max=str(self.max), min=str(self.min))
            )
        return self


class DateWindow(Frozen):
    """Start dates drawn uniformly from ``from`` to ``to`` (both included)."""

    from_: date = Field(alias="from")
    to: date

    @model_validator(mode="after")
    def _ordered(self) -> DateWindow:
        if self.to < self.from_:
            raise TextError(
                message(
                    "'to' ({to}) is before 'from' ({start})", to=str(self.to), start=str(self.from_)
                )
            )
        return self


class Origin(Frozen):
    """A group of people by origin: the languages they speak, with a weight."""

    languages: tuple[str, ...] = Field(min_length=1)
    weight: Weight = 1.0

    _check_languages = field_validator("languages")(_check_languages)


def _default_priorities() -> dict[int, float]:
    return {1: 1.0}


def _default_genders() -> dict[Gender, float]:
    return {"woman": 1.0}


class Composition(Frozen):
    """Who the people of an operation are: each person is drawn independently."""

    genders: dict[Gender, Annotated[float, Field(ge=0)]] = Field(
        default_factory=_default_genders, description="relative weights"
    )
    trans_women: Share = Field(default=0.0, description="share of women who are trans")
    minors: Share = Field(default=0.0, description="share of minors (aged 14 to 17)")
    mothers: Share = Field(default=0.0, description="share of adult women with children")
    children: IntRange = Field(
        default=IntRange(min=1, max=2), description="children of a mother, uniformly"
    )
    origins: tuple[Origin, ...] = Field(default=(Origin(languages=("en",)),), min_length=1)
    language_required: Share = Field(
        default=0.0,
        description="share who must have staff speaking their language (no interpreter)",
    )
    needs: dict[Service, Share] = Field(
        default_factory=dict, description="probability of each need"
    )
    households: Share = Field(
        default=0.0, description="share of adult women paired with another (sisters)"
    )
    recruiters: Share = Field(
        default=0.0, description="share of suspected recruiters, kept apart from all the others"
    )
    priorities: dict[Annotated[int, Field(ge=1, le=5)], Annotated[float, Field(ge=0)]] = Field(
        default_factory=_default_priorities, description="relative weights of priorities 1-5"
    )
    stay: IntRange | None = Field(
        default=None, description="nights, uniformly; none: to the end of the horizon"
    )

    @model_validator(mode="after")
    def _weights(self) -> Composition:
        if not any(v > 0 for v in self.genders.values()):
            raise TextError(("genders", message(POSITIVE_WEIGHT)))
        if not any(v > 0 for v in self.priorities.values()):
            raise TextError(("priorities", message(POSITIVE_WEIGHT)))
        if self.stay is not None and self.stay.min < 1:
            raise TextError(("stay.min", message("a stay is at least 1 night")))
        return self


class Profile(Frozen):
    """One kind of operation: where, how many, when and who. Every draw generates one
    operation from each profile (operations of several profiles share the network)."""

    name: Identifier
    where: tuple[Place, ...] = Field(min_length=1)
    size: IntRange
    when: DateWindow | None = Field(default=None, description="default: the horizon's first night")
    composition: Composition = Composition()

    @field_validator("size", mode="before")
    @classmethod
    def _fixed_size(cls, value: Any) -> Any:
        return {"min": value, "max": value} if isinstance(value, int) else value


class NewShelter(Frozen):
    """A shelter to open: its profile, as in a scenario file (its id is the candidate's)."""

    department: str
    location: Location | None = None
    accepts: tuple[Gender, ...] = Field(min_length=1)
    trans_inclusive: bool = True
    age_min: int = Field(default=18, ge=0, le=120)
    age_max: int | None = Field(default=None, ge=0, le=120)
    children: bool = False
    languages: tuple[str, ...] = ("fr",)
    services: tuple[Service, ...] = ()
    capacity: int = Field(ge=1, le=1000)

    _norm_department = field_validator("department", mode="before")(_department_code)

    def shelter(self, shelter_id: str) -> Shelter:
        return Shelter.model_validate({"id": shelter_id, **self.model_dump(exclude_none=True)})


class AddPlaces(Frozen):
    """More places in an existing shelter, every night of the horizon."""

    shelter: Identifier
    places: int = Field(default=1, ge=1, le=1000)


class Candidate(Frozen):
    """A change to the network the planner could make, at a cost."""

    id: Identifier
    cost: float = Field(gt=0, le=1e9)
    add_places: AddPlaces | None = None
    new_shelter: NewShelter | None = None

    @model_validator(mode="after")
    def _one(self) -> Candidate:
        if (self.add_places is None) == (self.new_shelter is None):
            raise TextError(message("give exactly one of 'add_places' or 'new_shelter'"))
        return self


class Target(Frozen):
    """What the advice must reach over the draws: one of the two."""

    all_placed_share: Share | None = Field(
        default=None, description="everyone placed in at least this share of draws"
    )
    mean_unplaced: float | None = Field(
        default=None, ge=0, le=MAX_OPERATION_SIZE, description="at most this many unplaced"
    )
    group: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="count only this group's unplaced (a group of the report, e.g. "
        "'speaks ro' or 'women with children'); default: everyone",
    )

    @model_validator(mode="after")
    def _one(self) -> Target:
        if (self.all_placed_share is None) == (self.mean_unplaced is None):
            raise TextError(message("give exactly one of 'all_placed_share' or 'mean_unplaced'"))
        return self


class Advice(Frozen):
    """Capacity advice: the cheapest set of candidates that meets the target."""

    target: Target
    candidates: tuple[Candidate, ...] = Field(min_length=1, max_length=MAX_CANDIDATES)
    check_draws: int = Field(
        default=200, ge=1, le=MAX_DRAWS, description="fresh draws to check the advice on"
    )
    time_limit: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="seconds for the advice's search: the model's rounds get half, the "
        "search over sets in cost order by the engine the rest",
    )
    workers: int = Field(default=1, ge=1, le=64, description="CP-SAT workers of the advice model")

    @model_validator(mode="after")
    def _unique(self) -> Advice:
        seen: set[str] = set()
        for i, c in enumerate(self.candidates):
            if c.id in seen:
                raise TextError((f"candidates[{i}].id", message(DUPLICATE_ID, id=repr(c.id))))
            seen.add(c.id)
        return self


class Marginal(Frozen):
    """The marginal value of one more place per shelter, measured on the first draws."""

    draws: int = Field(default=20, ge=0, le=MAX_DRAWS)


class Compare(Frozen):
    """A second network, solved on the same draws (common random numbers)."""

    network: NetworkSource
    label: str = Field(default="after", min_length=1, max_length=80)


class StressSpec(Frozen):
    """A stress test: draws of operations from profiles, against one network."""

    name: str = Field(min_length=1, max_length=200)
    network: NetworkSource
    policy: Policy | None = Field(default=None, description="default: the network's policy")
    profiles: tuple[Profile, ...] = Field(min_length=1, max_length=20)
    draws: int = Field(default=200, ge=1, le=MAX_DRAWS)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    time_limit: float = Field(
        default=10.0, gt=0, le=600, description="seconds per solve (one CP-SAT worker)"
    )
    marginal: Marginal = Marginal()
    advice: Advice | None = None
    compare: Compare | None = None

    @model_validator(mode="after")
    def _unique_profiles(self) -> StressSpec:
        seen: set[str] = set()
        for i, p in enumerate(self.profiles):
            if p.name in seen:
                raise TextError(
                    (f"profiles[{i}].name", message("duplicate name {name}", name=repr(p.name)))
                )
            seen.add(p.name)
        return self


def network_problems(spec: StressSpec, network: Scenario) -> list[Problem]:
    """What in ``spec`` does not fit ``network``: départements, shelters, dates."""
    geo = network.geo
    last = network.end - timedelta(days=1)
    out: list[Problem] = []
    for i, p in enumerate(spec.profiles):
        for j, place in enumerate(p.where):
            if place.department is not None and place.department not in geo:
                out.append(
                    (
                        f"profiles[{i}].where[{j}].department",
                        message(UNKNOWN_CODE, code=place.department, geography=geo.code),
                    )
                )
        if p.when is not None and (p.when.from_ < network.start or p.when.to > last):
            outside = message(
                "{start} to {end} is outside the network's horizon ({first} to {last})",
                start=str(p.when.from_),
                end=str(p.when.to),
                first=str(network.start),
                last=str(last),
            )
            out.append((f"profiles[{i}].when", outside))
    if spec.advice is not None:
        out += _candidate_problems(spec.advice, network)
        group = spec.advice.target.group
        if group is not None and group not in possible_groups(spec):
            unknown = message(
                "{group} is not a group of this spec's operations (one of: {groups})",
                group=repr(group),
                groups=", ".join(sorted(possible_groups(spec))),
            )
            out.append(("advice.target.group", unknown))
    return out


def possible_groups(spec: StressSpec) -> set[str]:
    """The groups the report can count (see ``stress.draws.categories``)."""
    out = set(FIXED_GROUPS) | {f"{PRIORITY}{p}" for p in range(1, 6)}
    for p in spec.profiles:
        out.add(f"{OPERATION}{p.name}")
        out |= {f"{SPEAKS}{tag}" for o in p.composition.origins for tag in o.languages}
    return out


def _candidate_problems(advice: Advice, network: Scenario) -> list[Problem]:
    ids = {s.id for s in network.shelters}
    out: list[Problem] = []
    for i, c in enumerate(advice.candidates):
        at = f"advice.candidates[{i}]"
        if c.add_places is not None and c.add_places.shelter not in ids:
            out.append(
                (f"{at}.add_places.shelter", message(UNKNOWN_SHELTER, id=c.add_places.shelter))
            )
        if c.new_shelter is not None:
            if c.id in ids:
                out.append((f"{at}.id", message("{id} is already a shelter's id", id=repr(c.id))))
            if c.new_shelter.department not in network.geo:
                unknown = message(
                    UNKNOWN_CODE, code=c.new_shelter.department, geography=network.geo.code
                )
                out.append((f"{at}.new_shelter.department", unknown))
    return out


def spec_from_data(data: Any, source: str = "<stress spec>") -> StressSpec:
    """Validate already-parsed data as a stress specification."""
    return validate_document(StressSpec, data, source, "stress spec", StressSpecError)


def load_spec(path: str | Path) -> StressSpec:
    """Read and validate a stress specification file (without its network)."""
    try:
        data = read_document(path)
    except ScenarioError as e:
        raise StressSpecError(str(path), e.problems) from None
    return spec_from_data(data, str(path))


def load_network(source: NetworkSource, spec_path: str | Path, field: str = "network") -> Scenario:
    """The scenario file a network source names (relative to the spec file), arrivals
    dropped: the network is its shelters, horizon, geography and policy."""
    if source.scenario is None:
        only = message("the live network is only available in the service")
        raise StressSpecError(str(spec_path), [(f"{field}.live", only)])
    path = Path(spec_path).parent / source.scenario
    try:
        scenario = load_scenario(path)
    except ScenarioError as e:
        in_file = [
            (
                f"{field}.scenario",
                message("{file}: {problem}", file=join_path(e.source, path), problem=text),
            )
            for path, text in e.messages
        ]
        raise StressSpecError(str(spec_path), in_file) from None
    return scenario.model_copy(update={"arrivals": ()})
