"""The problem as data: frozen, validated pydantic models for scenarios.

Every model refuses unknown fields: there is no field for a name, and a ``name`` on an
arrival is an error. Cross-references (unique ids, known départements, keep-apart ids,
stays inside the horizon) are checked when a :class:`Scenario` is built, and each problem
names its path (``arrivals[3].keep_apart``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict

from placement.geography import Geography, GeographyCode, Point, load_geography
from placement.i18n import N_
from placement.languages import TAG_SYNTAX, normalise_tag
from placement.problems import TextError
from placement.text import Text, day, message

Gender = Literal["woman", "man", "nonbinary"]
Identifier = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")
]
Service = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_\-]+$")]
MAX_HORIZON_DAYS = 366

# --- the bounds of every number and date in a scenario, each written once ---------------
#: places of one shelter on one night (a large reception centre for a mass arrival)
MAX_PLACES = 10_000
#: accompanying children of one person
MAX_CHILDREN = 20
MAX_AGE = 120
#: half the Earth's circumference: no two points are farther apart
MAX_DISTANCE_KM = 20_000
#: a secondary cost, per person (see ``placement.costs``)
MAX_WEIGHT = 1_000_000
#: every date lies in this window (far from the calendar's end: no overflow adding nights)
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)
#: items in one list of languages, services, danger locations...
MAX_ITEMS = 100

#: the window as a pattern, for the JSON Schema (years 2000-2100; the date itself checked)
DAY_PATTERN = r"^(20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$"
Day = Annotated[
    date,
    Field(ge=EARLIEST_DATE, le=LATEST_DATE),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DAY_PATTERN}),
]


def _whole_number(value: Any) -> Any:
    # JSON Schema's integers include 3.0: a whole float is that integer (true, "3" and 3.5
    # are still refused by the strict check).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: counts are strict (no ``true`` or ``"3"``), but 3.0 is 3, as JSON Schema says
WHOLE = BeforeValidator(_whole_number)
Count = Annotated[int, Field(strict=True), WHOLE]
Places = Annotated[int, Field(ge=0, le=MAX_PLACES, strict=True), WHOLE]
Age = Annotated[int, Field(ge=0, le=MAX_AGE, strict=True), WHOLE]
Children = Annotated[int, Field(ge=0, le=MAX_CHILDREN, strict=True), WHOLE]
DistanceKm = Annotated[float, Field(ge=0, le=MAX_DISTANCE_KM, strict=True)]
Weight = Annotated[int, Field(ge=0, le=MAX_WEIGHT, strict=True), WHOLE]
#: WGS84 decimal degrees (numbers only: ``true`` is not a coordinate)
Latitude = Annotated[float, Field(ge=-90, le=90, strict=True)]
Longitude = Annotated[float, Field(ge=-180, le=180, strict=True)]
Nights = Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS, strict=True), WHOLE]
#: yes or no: ``true`` or ``false`` only (not 0, 1 or "yes", which JSON Schema's booleans are not)
Flag = Annotated[bool, Field(strict=True)]


def json_given(field: str, schema: JsonDict) -> JsonDict:
    """JSON Schema: ``field`` is present and not null (as ``schema``)."""
    return {"required": [field], "properties": {field: schema}}


#: exactly one of ``capacity`` or ``availability``: the rule of ``Shelter._one_calendar``
#: (and of a calendar change), for the JSON Schema
ONE_CALENDAR: JsonDict = {
    "oneOf": [
        json_given("capacity", {"type": "integer"}),
        json_given("availability", {"type": "array"}),
    ]
}


def _both_numbers(*fields: str) -> JsonDict:
    return {"required": list(fields), "properties": {f: {"type": "number"} for f in fields}}


def _nulls(*fields: str) -> JsonDict:
    return {"properties": {f: {"type": "null"} for f in fields}}


def _strings(*fields: str) -> JsonDict:
    return {"required": list(fields), "properties": {f: {"type": "string"} for f in fields}}


def _check_languages(tags: tuple[str, ...]) -> tuple[str, ...]:
    """Every tag registered and naming a language, in its standard form (``iw`` -> ``he``)."""
    normalised, problems = [], []
    for i, tag in enumerate(tags):
        standard = normalise_tag(tag)
        if standard is None:
            problems.append(
                (
                    f"[{i}]",
                    message(
                        "'{tag}' is not a known language tag (BCP-47, e.g. 'en', 'ro', 'pcm')",
                        tag=tag,
                    ),
                )
            )
        normalised.append(standard or tag)
    if problems:
        raise TextError(*problems)
    return tuple(dict.fromkeys(normalised))  # ``iw`` and ``he`` given together: once


#: the JSON Schema format of a registered language tag (a client generates them from the
#: IANA registry; the syntax alone admits unregistered ones)
LANGUAGE_TAG_FORMAT = "bcp47"
#: a BCP-47 language tag: checked against the registry by ``placement.languages``
#: (``Languages``)
LanguageTag = Annotated[
    str,
    Field(max_length=35),
    WithJsonSchema(
        {"type": "string", "maxLength": 35, "pattern": TAG_SYNTAX, "format": LANGUAGE_TAG_FORMAT}
    ),
]
Languages = Annotated[
    tuple[LanguageTag, ...], Field(max_length=MAX_ITEMS), AfterValidator(_check_languages)
]
Services = Annotated[tuple[Service, ...], Field(max_length=MAX_ITEMS)]
#: priority levels, most urgent first: the order of the lexicographic objective
PRIORITIES = (5, 4, 3, 2, 1)
#: an arrival's priority when none is given: the middle, neither the most nor the least urgent
DEFAULT_PRIORITY = 3


class Frozen(BaseModel):
    """Base: immutable, and unknown fields are refused."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False
    )


def _department_code(value: Any) -> Any:
    # A bare YAML number such as 13 means "13"; 1 means "01" (INSEE codes are 2+ characters).
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return f"{value:02d}"
    if isinstance(value, str):
        return value.strip().upper()
    return value


class Location(Frozen):
    """A point in WGS84 decimal degrees."""

    lat: Latitude
    lon: Longitude

    def point(self) -> Point:
        return Point(self.lat, self.lon)


class Weights(Frozen):
    """Weights of the secondary costs (integers; see ``placement.costs``)."""

    interpreter: Weight = Field(default=100, description="no shared language, per person")
    close_language: Weight = Field(
        default=50, description="no shared language but a close one, per person"
    )
    unmet_wish: Weight = Field(default=20, description="per wished service not offered")
    extra_distance_per_100km: Weight = Field(
        default=10, description="per 100 km beyond the safety distance"
    )
    outside_holds: Weight = Field(
        default=500,
        description="per person placed outside the held shelters, when the plan has any",
    )
    stale_place: Weight = Field(
        default=1000,
        description="per person placed in a shelter whose places are unconfirmed "
        "(policy.stale_capacity: last_resort)",
    )
    scarce_place: Weight = Field(
        default=30,
        description="per scarce feature (children, minors, a service) used by someone "
        "who does not need it",
    )


class Policy(Frozen):
    """The coordinator's choices for one planning run."""

    safety_distance_km: DistanceKm = 100
    safety_distance_floor_km: DistanceKm = Field(
        default=50,
        description="explanations never suggest a safety distance below this",
    )
    avoid_neighbouring_departments: Flag = True
    max_per_network_per_shelter: (
        Annotated[int, Field(ge=1, le=MAX_PLACES, strict=True), WHOLE] | None
    ) = None
    language_required: Flag = False
    stale_capacity: Literal["use", "last_resort", "exclude"] = Field(
        default="last_resort",
        description="places of stale shelters: used like others, only after fresh ones "
        "(through the stale_place cost), or not at all",
    )
    weights: Weights = Weights()


class Availability(Frozen):
    """Places from ``from`` (inclusive) to ``to`` (exclusive; default: end of the horizon)."""

    from_: Day = Field(alias="from")
    to: Day | None = None
    places: Places

    @model_validator(mode="after")
    def _ordered(self) -> Availability:
        if self.to is not None and self.to <= self.from_:
            raise TextError(
                message(
                    "'to' ({to}) must be after 'from' ({start})",
                    to=day(self.to),
                    start=day(self.from_),
                )
            )
        return self


class Shelter(Frozen):
    """A partner structure and the places it offers."""

    model_config = ConfigDict(json_schema_extra=ONE_CALENDAR)

    id: Identifier
    department: str
    location: Location | None = None
    accepts: tuple[Gender, ...] = Field(min_length=1, max_length=3)
    trans_inclusive: Flag = True
    age_min: Age = 18
    age_max: Age | None = None
    children: Flag = False
    languages: Languages = ("fr",)
    services: Services = ()
    capacity: Places | None = None
    availability: tuple[Availability, ...] | None = Field(default=None, max_length=MAX_ITEMS)
    stale: Flag = Field(
        default=False, description="places not confirmed recently (see policy.stale_capacity)"
    )
    held: Flag = Field(
        default=False,
        description="holds places for this plan's operation: such shelters are used first",
    )

    _norm_department = field_validator("department", mode="before")(_department_code)

    @model_validator(mode="after")
    def _places(self) -> Shelter:
        if self.age_max is not None and self.age_max < self.age_min:
            raise TextError(
                message(
                    "age_max ({age_max}) is below age_min ({age_min})",
                    age_max=self.age_max,
                    age_min=self.age_min,
                )
            )
        if (self.capacity is None) == (self.availability is None):
            raise TextError(
                message("give exactly one of 'capacity' or 'availability'")
            )  # ONE_CALENDAR
        if self.availability is not None:
            ranges = sorted(self.availability, key=lambda r: r.from_)
            for before, after in zip(ranges, ranges[1:], strict=False):
                if before.to is None or before.to > after.from_:
                    raise TextError(
                        message(
                            "availability ranges overlap: the one from {first} and the one "
                            "from {second}",
                            first=day(before.from_),
                            second=day(after.from_),
                        )
                    )
        return self

    def with_nightly_places(self, start: date, nightly: Sequence[int]) -> Shelter:
        """This shelter with ``nightly[i]`` places on night ``start + i``, as availability
        ranges (the last one open-ended)."""
        ranges: list[Availability] = []
        first = 0
        for n in range(1, len(nightly) + 1):
            if n == len(nightly) or nightly[n] != nightly[first]:
                ranges.append(
                    Availability(
                        from_=start + timedelta(days=first),
                        to=start + timedelta(days=n) if n < len(nightly) else None,
                        places=nightly[first],
                    )
                )
                first = n
        return self.model_copy(update={"capacity": None, "availability": tuple(ranges)})

    def places_on(self, night: date, horizon_end: date) -> int:
        """Places offered on ``night`` (0 outside every availability range)."""
        return self.places_by_night(night, 1, horizon_end)[0]

    def places_by_night(self, start: date, nights: int, horizon_end: date) -> list[int]:
        """Places offered on each of ``nights`` nights from ``start``: ``capacity`` every
        night, or each availability range's places from its first night up to (not
        including) its ``to`` (the horizon end when open), 0 outside every range."""
        if self.capacity is not None:
            return [self.capacity] * nights
        out = [0] * nights
        for r in self.availability or ():
            first = max(0, (r.from_ - start).days)
            stop = min(nights, ((r.to or horizon_end) - start).days)
            out[first:stop] = [r.places] * max(0, stop - first)
        return out


class Danger(Frozen):
    """A place of exploitation or where the network operates."""

    # the rules of ``_somewhere``, for the JSON Schema: both coordinates or neither; somewhere
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {"anyOf": [_both_numbers("lat", "lon"), _nulls("lat", "lon")]},
                {"anyOf": [_both_numbers("lat", "lon"), _strings("department")]},
            ]
        }
    )

    department: str | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None

    _norm_department = field_validator("department", mode="before")(_department_code)

    @model_validator(mode="after")
    def _somewhere(self) -> Danger:
        if (self.lat is None) != (self.lon is None):
            raise TextError(message("give both 'lat' and 'lon', or neither"))
        if self.department is None and self.lat is None:
            raise TextError(message("give a 'department' and/or 'lat'/'lon'"))
        return self


class Arrival(Frozen):
    """A pseudonymous person who needs a place. No names: identity lives outside this system."""

    id: Identifier
    gender: Gender
    trans: Flag = False
    age: Age | None = None
    minor: Flag | None = None
    languages: Languages = Field(min_length=1)
    children: Children = 0
    needs: Services = ()
    wishes: Services = ()
    danger: tuple[Danger, ...] = Field(min_length=1, max_length=MAX_ITEMS)
    safety_distance_km: DistanceKm | None = None
    language_required: Flag | None = Field(
        default=None, description="overrides policy.language_required for this person"
    )
    network: Identifier | None = None
    household: Identifier | None = None
    keep_apart: tuple[Identifier, ...] = Field(default=(), max_length=MAX_PLACES)
    exclude_shelters: tuple[Identifier, ...] = Field(
        default=(),
        max_length=MAX_PLACES,
        description="shelters this person must not go to (declined, compromised)",
    )
    priority: Count = Field(
        default=DEFAULT_PRIORITY,
        ge=1,
        le=5,
        description="1..5, 5 most urgent; when omitted, 3 (the middle: neither least nor most)",
    )
    arrives: Day | None = None
    nights: Nights | None = None

    @model_validator(mode="after")
    def _age_consistent(self) -> Arrival:
        if self.age is not None and self.minor is not None and self.minor != (self.age < 18):
            if self.minor:
                raise TextError(message("age {age} contradicts minor: true", age=self.age))
            raise TextError(message("age {age} contradicts minor: false", age=self.age))
        return self

    @property
    def effective_age(self) -> int:
        """The age the rules use: ``age``; else 17 for ``minor: true``; else 18."""
        if self.age is not None:
            return self.age
        return 17 if self.minor else 18

    @property
    def persons(self) -> int:
        """People this arrival brings: the person and accompanying children."""
        return 1 + self.children


class Scenario(Frozen):
    """One planning problem: shelters, arrivals, a policy and a horizon of nights."""

    name: str = Field(min_length=1, max_length=200)
    start: Day
    horizon_days: Nights = 30
    geography: GeographyCode = "fr"
    policy: Policy = Policy()
    shelters: tuple[Shelter, ...]
    arrivals: tuple[Arrival, ...]

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        problems = _reference_problems(self)
        if problems:
            raise TextError(*problems)
        return self

    # --- time -------------------------------------------------------------------------
    @property
    def end(self) -> date:
        """The first night after the horizon."""
        return self.start + timedelta(days=self.horizon_days)

    def night(self, index: int) -> date:
        return self.start + timedelta(days=index)

    def stay(self, arrival: Arrival) -> range:
        """Night indices of the arrival's stay, clipped at the horizon."""
        first = ((arrival.arrives or self.start) - self.start).days
        last = self.horizon_days if arrival.nights is None else first + arrival.nights
        return range(first, min(last, self.horizon_days))

    # --- lookups ----------------------------------------------------------------------
    @property
    def geo(self) -> Geography:
        return load_geography(self.geography)

    def shelter_point(self, shelter: Shelter) -> Point:
        """Where the shelter is: its location, else the chef-lieu of its département."""
        if shelter.location is not None:
            return shelter.location.point()
        return self.geo.area(shelter.department).reference_point

    def danger_point(self, danger: Danger) -> Point:
        if danger.lat is not None and danger.lon is not None:
            return Point(danger.lat, danger.lon)
        assert danger.department is not None  # guaranteed by Danger validation
        return self.geo.area(danger.department).reference_point


def _reference_problems(s: Scenario) -> list[tuple[str, Text]]:
    """Problems that involve more than one field, each prefixed with its path."""
    out, shelter_ids = _shelter_problems(s)
    ids: dict[str, int] = {}
    for i, a in enumerate(s.arrivals):
        if a.id in ids:
            also = f"arrivals[{ids[a.id]}]"
            out.append((f"arrivals[{i}].id", _duplicate(a.id, also)))
        ids[a.id] = i
    households: dict[str, set[str]] = {}
    for a in s.arrivals:
        if a.household is not None:
            households.setdefault(a.household, set()).add(a.id)
    for i in range(len(s.arrivals)):
        out += _arrival_reference_problems(s, i, shelter_ids, ids, households)
    return out


def _duplicate(id_: str, also: str) -> Text:
    return message("duplicate id '{id}' (also {other})", id=id_, other=also)


#: a département (or canton) code the geography does not have; a shelter id no shelter has
UNKNOWN_CODE = N_("unknown code '{code}' for {geography}")
UNKNOWN_SHELTER = N_("unknown shelter '{id}'")


def _unknown_code(code: str | None, s: Scenario) -> Text:
    return message(UNKNOWN_CODE, code=code or "", geography=s.geo.code)


def _after_horizon(d: date, s: Scenario) -> Text:
    return message(
        "{day} is after the horizon (last night {last})",
        day=day(d),
        last=day(s.end - timedelta(days=1)),
    )


def _shelter_problems(s: Scenario) -> tuple[list[tuple[str, Text]], dict[str, int]]:
    """Duplicate ids, unknown départements and ranges after the horizon; and the position
    of each shelter id."""
    out: list[tuple[str, Text]] = []
    seen: dict[str, int] = {}
    for i, sh in enumerate(s.shelters):
        if sh.id in seen:
            out.append((f"shelters[{i}].id", _duplicate(sh.id, f"shelters[{seen[sh.id]}]")))
        seen[sh.id] = i
        if sh.department not in s.geo:
            out.append((f"shelters[{i}].department", _unknown_code(sh.department, s)))
        for j, r in enumerate(sh.availability or ()):
            if r.from_ >= s.end:
                # Harmless but almost always a typo: say so rather than silently ignore it.
                out.append((f"shelters[{i}].availability[{j}].from", _after_horizon(r.from_, s)))
    return out, seen


def _arrival_reference_problems(
    s: Scenario,
    i: int,
    shelter_ids: dict[str, int],
    ids: dict[str, int],
    households: dict[str, set[str]],
) -> list[tuple[str, Text]]:
    """The cross-references of ``arrivals[i]``: départements, shelters, keep-apart, dates."""
    a = s.arrivals[i]
    out = [
        (f"arrivals[{i}].danger[{j}].department", _unknown_code(d.department, s))
        for j, d in enumerate(a.danger)
        if d.department is not None and d.department not in s.geo
    ]
    out += [
        (f"arrivals[{i}].exclude_shelters[{j}]", message(UNKNOWN_SHELTER, id=sid))
        for j, sid in enumerate(a.exclude_shelters)
        if sid not in shelter_ids
    ]
    for j, other in enumerate(a.keep_apart):
        path = f"arrivals[{i}].keep_apart[{j}]"
        if other not in ids:
            out.append((path, message("unknown arrival '{id}'", id=other)))
        elif other == a.id:
            out.append((path, message("an arrival cannot be kept apart from itself")))
        elif a.household is not None and other in households[a.household]:
            text = message(
                "'{id}' is in the same household '{household}', which must stay together",
                id=other,
                household=a.household,
            )
            out.append((path, text))
    arrives = a.arrives or s.start
    if arrives < s.start:
        before = message(
            "{day} is before the first night {start}",
            day=day(arrives),
            start=day(s.start),
        )
        out.append((f"arrivals[{i}].arrives", before))
    elif arrives >= s.end:
        out.append((f"arrivals[{i}].arrives", _after_horizon(arrives, s)))
    return out
