"""What the map of a plan shows, as one JSON payload that ``api/web/static/map.js`` draws.

The map draws the areas (départements) from the polygons the package ships, the danger
locations with their safety-distance circles and the areas the neighbouring-département rule
keeps the people out of, and the shelters as markers with their load (persons placed on the
busiest night, of the places the plan had there that night).

Nothing here decides a rule: the safety distance is ``Context.safety_distance_km``, the danger
points ``Context.danger_points`` and the excluded areas
``NeighbouringDepartmentRule.excluded_areas`` (``placement``); the load is
``CapacityRule.usage_by_shelter``. Who sees what is the API's rule (``api.views``):
danger locations and excluded areas only for coordinators, a shelter's location only for
coordinators and that shelter's managers (``Principal.sees_location``).

A plan job keeps no scenario (``api.plan_options.PlanBasis``): the map of a stored plan is
drawn on the network's shelters as they are stored now (every active one, and those the plan
used: a shelter the plan left empty shows 0 placed), the job's arrivals as stored now
(``store.plan_arrivals``), its policy and its nights; a shelter's places are its calendar's.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field
from sqlmodel import Session

from api import audit, store
from api.auth import Principal
from api.config import Settings
from api.domain_errors import Conflict
from api.plan_options import JobOptions, PlanBasis
from api.services import planning
from api.services.scenarios import Horizon, build_scenario
from api.tables import PlanJob
from placement.context import Context
from placement.loading import ScenarioError
from placement.models import Arrival, Scenario, Shelter
from placement.plan import Plan
from placement.rules import CapacityRule, NeighbouringDepartmentRule
from placement.text import message

#: where the areas' polygons are, per geography (static files of the web app); None: no
#: polygons shipped (the map then shows a plain background)
AREA_POLYGONS = {"fr": "geo/fr_departements.geojson", "ch": "geo/ch_cantons.geojson"}


class DangerCircle(BaseModel):
    """A danger location and the safety distance around it (the largest asked of anyone
    in danger there)."""

    lat: float
    lon: float
    radius_km: float = Field(ge=0)


class ShelterMarker(BaseModel):
    """A shelter where the reader may see it, with its load on the plan's busiest night."""

    id: str
    area: str = Field(description="its département or canton code")
    area_name: str
    lat: float
    lon: float
    placed: int = Field(ge=0, description="persons placed on the busiest night")
    places: int = Field(ge=0, description="places the plan had that night")


class MapPayload(BaseModel):
    """Everything the map draws; empty lists where the reader may not see a thing."""

    geography: str
    polygons: str | None = Field(description="the static path of the areas' GeoJSON")
    excluded_areas: list[str] = []
    excluded_names: list[str] = Field(default=[], description="the excluded areas' names")
    dangers: list[DangerCircle] = []
    shelters: list[ShelterMarker] = []


def _danger_circles(ctx: Context, arrivals: Iterable[Arrival]) -> list[DangerCircle]:
    radius: dict[tuple[float, float], float] = {}
    for a in arrivals:
        for p in ctx.danger_points(a):
            key = (p.lat, p.lon)
            radius[key] = max(radius.get(key, 0.0), ctx.safety_distance_km(a))
    return [DangerCircle(lat=k[0], lon=k[1], radius_km=r) for k, r in sorted(radius.items())]


def _excluded_areas(ctx: Context, arrivals: Iterable[Arrival]) -> list[str]:
    rule = NeighbouringDepartmentRule()
    return sorted(set().union(*(rule.excluded_areas(ctx, a) for a in arrivals)))


def _marker(ctx: Context, s: Shelter, used: list[int]) -> ShelterMarker:
    places = ctx.nightly_places(s)
    if any(used):
        night = max(range(len(used)), key=lambda n: (used[n], -n))
        placed, offered = used[night], places[night]
    else:
        placed, offered = 0, max(places, default=0)
    p = ctx.scenario.shelter_point(s)
    area = ctx.scenario.geo.area(s.department)
    return ShelterMarker(
        id=s.id,
        area=area.code,
        area_name=area.name,
        lat=p.lat,
        lon=p.lon,
        placed=placed,
        places=offered,
    )


def map_payload(scenario: Scenario, plan: Plan | None, who: Principal) -> MapPayload:
    """The map of ``plan`` (None: only the scenario, nobody placed yet) as ``who`` may see
    it. Pure: reading it is audited by the caller (``plan_map``)."""
    ctx = Context(scenario)
    payload = MapPayload(
        geography=scenario.geography, polygons=AREA_POLYGONS.get(scenario.geography)
    )
    if who.role == "coordinator":
        payload.dangers = _danger_circles(ctx, scenario.arrivals)
        payload.excluded_areas = _excluded_areas(ctx, scenario.arrivals)
        geo = scenario.geo
        payload.excluded_names = [geo.area(c).name for c in payload.excluded_areas if c in geo]
    assignment = {p.arrival: p.shelter for p in plan.placements} if plan else {}
    usage = CapacityRule.usage_by_shelter(ctx, assignment)
    payload.shelters = [
        _marker(ctx, s, usage.get(s.id, [0] * scenario.horizon_days))
        for s in scenario.shelters
        if who.sees_location(s.id)
    ]
    return payload


def network_shelters(session: Session, job: PlanJob) -> list[Shelter]:
    """What the map of ``job`` shows: every active shelter of the network as stored now, and
    those the job kept (its plan's, even if deactivated since); by id. A done job keeps only
    the versions of the shelters its plan uses: the others are read here, not stored."""
    rows = {r.id: r for r in store.active_shelters(session)}
    rows.update({r.id: r for r in store.plan_shelters(session, job)})
    return [rows[i].shelter for i in sorted(rows)]


def job_scenario(session: Session, settings: Settings, job: PlanJob) -> Scenario:
    """The scenario of a plan job as far as the map draws it: the network's shelters
    (``network_shelters``) and the job's arrivals as stored now, its policy (``PlanBasis``)
    and nights (``JobOptions``). ``Conflict`` when they no longer make a scenario (changed
    since the solve)."""
    options = JobOptions.model_validate(job.options)
    start = options.start or job.created_at.date()
    horizon = Horizon(start, options.horizon_days or 1, settings.geography)
    shelters = network_shelters(session, job)
    arrivals = [r.arrival for r in store.plan_arrivals(session, job)]
    policy = PlanBasis.model_validate(job.basis).policy
    try:
        return build_scenario(f"plan {job.id}", horizon, shelters, arrivals, policy)
    except ScenarioError as e:
        raise Conflict(
            message("the plan's shelters or arrivals changed since; plan again"), e.messages
        ) from None


def plan_map(session: Session, settings: Settings, plan_id: str, who: Principal) -> MapPayload:
    """The map of a plan job (its routes admit coordinators only, like ``/plans``); the
    shelter locations it shows are audited as read, like the plan itself."""
    job = planning.read_plan(session, plan_id, who)
    scenario = job_scenario(session, settings, job)
    plan = Plan.model_validate(job.result) if job.result else None
    payload = map_payload(scenario, plan, who)
    audit.record_reads(session, who, "shelter_location", [m.id for m in payload.shelters])
    return payload
