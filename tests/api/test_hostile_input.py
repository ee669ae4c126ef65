"""Regression tests for the hostile inputs of issue 12: each one got a 500, or was stored
and broke every plan after it. Now each gets a 422 naming the field, and nothing is stored."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlmodel import Session

from api.plan_options import PlanBasis
from api.tables import PlanJob
from placement.models import Scenario
from tests.api.builders import TINY_SCENARIO, World, make_operation, wait_plan

BIG = 2**63  # 9223372036854775808: one past the largest 64-bit integer
DEEP = "[" * 100_000 + "]" * 100_000
JSON = {"content-type": "application/json"}


def _whatif_with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(TINY_SCENARIO)
    target: Any = doc
    for key in path[:-1]:
        target = target.setdefault(key, {}) if isinstance(key, str) else target[key]
    target[path[-1]] = value
    return doc


# (who, method, url, raw JSON body or a document, the field the 422 names)
CASES = [
    # one manager could stop all planning network-wide with a 64-bit overflow
    ("mgr_brest", "PUT", "/shelters/S-BREST/availability", f'{{"capacity": {BIG}}}', "capacity"),
    (
        "mgr_brest",
        "PUT",
        "/shelters/S-BREST/availability",
        {"availability": [{"from": "2026-12-01", "places": BIG}]},
        "availability[0].places",
    ),
    (
        "coord",
        "POST",
        "/shelters",
        {"id": "S-BIG", "department": "29", "accepts": ["woman"], "capacity": BIG},
        "capacity",
    ),
    ("analyst", "POST", "/whatif", _whatif_with(("shelters", 0, "capacity"), BIG), "capacity"),
    # dates near the end of the calendar
    (
        "coord",
        "POST",
        "/operations",
        {"reference": "OP-END", "date": "9999-12-31", "danger": [{"department": "93"}]},
        "date",
    ),
    ("coord", "POST", "/plans", {"start": "9999-12-31"}, "start"),
    ("coord", "POST", "/operations/{op}/holds", {"first_night": "9999-12-31"}, "first_night"),
    ("analyst", "POST", "/whatif", _whatif_with(("start",), "9999-12-31"), "start"),
    # hold profile languages that are not language tags
    (
        "coord",
        "POST",
        "/operations/{op}/holds",
        {"profile": {"languages": [""]}, "places": 1},
        "profile.languages",
    ),
    # a policy weight of 2^63
    ("coord", "POST", "/plans", {"policy": {"weights": {"interpreter": BIG}}}, "interpreter"),
    # values that mean something else: NaN and infinities
    ("coord", "POST", "/plans", '{"time_limit": NaN}', "time_limit"),
    ("coord", "POST", "/plans", '{"policy": {"safety_distance_km": Infinity}}', "safety"),
    ("analyst", "POST", "/whatif?time_limit=nan", TINY_SCENARIO, "query.time_limit"),
    ("analyst", "POST", "/whatif?time_limit=inf", TINY_SCENARIO, "query.time_limit"),
    (
        "coord",
        "PATCH",
        "/shelters/S-BREST",
        '{"location": {"lat": NaN, "lon": 2.0}}',
        "location.lat",
    ),
    # deeply nested JSON (a RecursionError traceback in the log on every call)
    ("analyst", "POST", "/whatif", DEEP, "body"),
    ("coord", "POST", "/plans", DEEP, "body"),
    ("coord", "POST", "/operations", DEEP, "body"),
]


@pytest.mark.parametrize(
    "who, method, url, payload, field",
    CASES,
    ids=[f"{c[1]} {c[2]} {c[4]}" + (" raw" if isinstance(c[3], str) else "") for c in CASES],
)
def test_hostile_input_is_refused_with_422_naming_the_field(
    world: World, who: str, method: str, url: str, payload: Any, field: str
) -> None:
    url = url.format(op=make_operation(world) if "{op}" in url else 0)
    if isinstance(payload, str):
        r = world.client.request(method, url, content=payload, headers={**world.as_(who), **JSON})
    else:
        r = world.call(who, method, url, json=payload)
    # FastAPI refuses a body it cannot parse with 400; everything else is a 422
    assert r.status_code == (400 if payload is DEEP and "whatif" not in url else 422), r.text
    fields = [e["field"] for e in r.json()["errors"]]
    assert any(field in f for f in fields), fields


def test_refused_capacity_is_not_stored_and_plans_still_run(world: World) -> None:
    r = world.client.put(
        "/shelters/S-BREST/availability",
        content=f'{{"capacity": {BIG}}}',
        headers={**world.as_("mgr_brest"), **JSON},
    )
    assert r.status_code == 422
    stats = world.call("analyst", "GET", "/stats").json()
    assert stats["places_tonight"] < 10_000
    assert world.call("coord", "GET", "/shelters/S-BREST").json()["capacity"] == 2


def test_schema_bounds_match_the_validators(world: World) -> None:
    """The OpenAPI document shows the bounds the validators apply (a generated client
    refuses what the service would)."""
    schemas = world.client.get("/openapi.json").json()["components"]["schemas"]
    availability = schemas["Availability"]["properties"]
    assert availability["places"]["maximum"] == 10_000
    assert schemas["ArrivalIn"]["properties"]["children"]["maximum"] == 20
    tag = schemas["HoldProfile"]["properties"]["languages"]["items"]
    assert tag["pattern"].startswith("^") and tag["maxLength"] == 35


def test_failed_plan_job_says_why_and_names_the_shelter(world: World) -> None:
    """A job given a scenario that holds a value stored before the bounds existed (a
    capacity of 2^63) fails saying so, naming the shelter by id, not 'internal error'."""
    app: Any = world.client.app
    scenario = _whatif_with(("shelters", 1, "capacity"), BIG)
    job = PlanJob(
        id="f" * 32,
        options={"solver": "greedy", "time_limit": 1.0, "explain": False},
        basis=PlanBasis.of(Scenario.model_validate(TINY_SCENARIO)).stored(),
        shelter_versions={},
        arrival_versions={},
    )
    with Session(app.state.engine) as session:
        session.add(job)
        session.commit()
    app.state.runner.submit("f" * 32, scenario)
    body = wait_plan(world, "f" * 32)
    assert body["status"] == "failed"
    assert body["error"].startswith("the stored scenario is invalid: shelters[S-lille].capacity")
    # A French reader reads why in French; the field path stays as written.
    french = world.call("coord", "GET", f"/plans/{'f' * 32}?lang=fr").json()["error"]
    assert french.startswith(
        "le scénario enregistré n'est pas valide : shelters[S-lille].capacity : "
    )
    assert "the stored scenario" not in french and "Input should" not in french


def test_a_plan_that_breaks_rules_fails_saying_why_in_the_readers_language(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A solver's plan that the validator refuses (a solver bug, forced here) fails the
    job; why reads in English and in French, the arrival's id as it is."""
    from api import plan_jobs
    from placement.text import message

    broken = message(
        "{arrival}: {reported} persons reported, {expected} expected",
        arrival="A-1",
        reported="2",
        expected="1",
    )
    monkeypatch.setattr(plan_jobs, "plan_problems", lambda scenario, plan: [broken])
    app: Any = world.client.app
    job = PlanJob(
        id="b" * 32,
        options={"solver": "greedy", "time_limit": 1.0, "explain": False},
        basis=PlanBasis.of(Scenario.model_validate(TINY_SCENARIO)).stored(),
        shelter_versions={},
        arrival_versions={},
    )
    with Session(app.state.engine) as session:
        session.add(job)
        session.commit()
    app.state.runner.submit("b" * 32, copy.deepcopy(TINY_SCENARIO))
    body = wait_plan(world, "b" * 32)
    assert body["status"] == "failed"
    assert body["error"] == (
        "the solver returned a plan that breaks rules: A-1: 2 persons reported, 1 expected"
    )
    french = world.call("coord", "GET", f"/plans/{'b' * 32}?lang=fr").json()["error"]
    assert french == (
        "le solveur a rendu un plan qui enfreint des règles : "
        "A-1 : 2 personnes indiquées, 1 attendues"
    )
