"""The authorization matrix: every endpoint x every role x own object or someone else's.

A manager (``mgr_brest``) must never read or change another shelter (``S-LYON``) or its
placements; no location reaches a role that may not see it: the canary coordinates of
S-BREST reach only coordinators and S-BREST's managers, the operation's danger coordinates
only coordinators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.builders import (
    CANARY_LAT,
    CANARY_LON,
    DANGER_LAT,
    DANGER_LON,
    TINY_SCENARIO,
    World,
    arrival_doc,
    make_operation,
    wait_plan,
)

ROLES = ("coord", "analyst", "mgr_brest")
OK = "ok"
DENIED = "denied"  # 403: the role may not use the endpoint at all
HIDDEN = "hidden"  # 404: the object is not the caller's (same answer as a missing one)
CONFLICT = "conflict"  # 409: allowed, but refused because the data changed


@dataclass
class Case:
    """One endpoint and, per role, what must happen."""

    method: str
    path: str
    expect: dict[str, str]
    body: Any = None


def _cases(ids: dict[str, Any]) -> list[Case]:
    op, own, other = ids["operation"], ids["own_placement"], ids["other_placement"]
    plan, arrival = ids["plan"], ids["arrival"]
    coord_only = {"coord": OK, "analyst": DENIED, "mgr_brest": DENIED}
    everyone = {"coord": OK, "analyst": OK, "mgr_brest": OK}
    own_shelter = {"coord": OK, "analyst": DENIED, "mgr_brest": OK}
    other_shelter = {"coord": OK, "analyst": DENIED, "mgr_brest": HIDDEN}
    cases = [
        Case("GET", "/me", everyone),
        Case("GET", "/stats", everyone),
        Case("GET", "/shelters", everyone),
        Case("GET", "/shelters/S-BREST", everyone),
        Case("GET", "/shelters/S-LYON", {"coord": OK, "analyst": OK, "mgr_brest": HIDDEN}),
        Case(
            "GET", "/shelters/S-NOWHERE", {"coord": HIDDEN, "analyst": HIDDEN, "mgr_brest": HIDDEN}
        ),
        Case("POST", "/shelters", coord_only, None),  # body set per role below
        Case("PATCH", "/shelters/S-BREST", coord_only, {"services": ["trafficking"]}),
        Case("PATCH", "/shelters/S-LYON", coord_only, {"services": ["trafficking"]}),
        Case("PATCH", "/shelters/S-BREST/attributes", own_shelter, {"languages": ["fr", "en"]}),
        Case("PATCH", "/shelters/S-LYON/attributes", other_shelter, {"languages": ["fr", "en"]}),
        Case("PUT", "/shelters/S-BREST/availability", own_shelter, {"capacity": 4}),
        Case("PUT", "/shelters/S-LYON/availability", other_shelter, {"capacity": 5}),
        Case("GET", "/shelters/S-BREST/updates", own_shelter),
        Case("GET", "/shelters/S-LYON/updates", other_shelter),
        Case("GET", "/shelters/S-BREST/placements", own_shelter),
        Case("GET", "/shelters/S-LYON/placements", other_shelter),
        Case("GET", "/placements", own_shelter),
        Case("GET", f"/placements/{own}", own_shelter),
        Case("GET", f"/placements/{other}", other_shelter),
        Case("GET", "/placements/99999", {"coord": HIDDEN, "analyst": DENIED, "mgr_brest": HIDDEN}),
        Case("POST", "/operations", coord_only, None),
        Case("GET", "/operations", coord_only),
        Case("GET", f"/operations/{op}", coord_only),
        Case("GET", f"/operations/{op}/arrivals", coord_only),
        Case("POST", f"/operations/{op}/arrivals", coord_only, None),
        Case("POST", f"/operations/{op}/arrivals/batch", coord_only, None),
        Case("GET", "/arrivals", coord_only),
        Case("GET", f"/arrivals/{arrival}", coord_only),
        Case("GET", "/plans", coord_only),
        Case("GET", f"/plans/{plan}", coord_only),
        Case("POST", "/whatif?solver=greedy", {"coord": OK, "analyst": OK, "mgr_brest": DENIED}),
        Case("GET", "/audit", coord_only),
        # writes that change state last
        Case("POST", "/plans", coord_only, {"operation_id": op, "solver": "greedy"}),
        Case("DELETE", f"/arrivals/{arrival}", coord_only),
        # the shelters changed above: the plan is stale, and the commit says so
        Case("POST", f"/plans/{plan}/commit", {**coord_only, "coord": CONFLICT}),
        Case("DELETE", f"/placements/{own}", coord_only),
        Case("DELETE", f"/placements/{other}", coord_only),
    ]
    return cases


_serial = iter(range(10**6))


def _body(case: Case) -> Any:
    n = next(_serial)
    if case.path == "/shelters":
        return {"id": f"S-NEW{n}", "department": "33", "accepts": ["woman"], "capacity": 1}
    if case.path == "/operations":
        return {"reference": f"OP-M{n}", "date": "2026-12-01", "danger": [{"department": "93"}]}
    if case.path.endswith("/arrivals"):
        return arrival_doc(f"M{n}")
    if case.path.endswith("/batch"):
        return {"arrivals": [arrival_doc(f"MB{n}")]}
    if case.path.startswith("/whatif"):
        return TINY_SCENARIO
    return case.body


@pytest.fixture
def network(world: World) -> dict[str, Any]:
    """Committed placements in both shelters, a finished uncommitted plan, a waiting arrival."""
    op = make_operation(world)
    docs = [arrival_doc("P1", children=1), arrival_doc("P2"), arrival_doc("P3")]
    world.call("coord", "POST", f"/operations/{op}/arrivals/batch", json={"arrivals": docs})
    r = world.call("coord", "POST", "/plans", json={"operation_id": op, "solver": "greedy"})
    plan = wait_plan(world, r.json()["id"])
    assert world.call("coord", "POST", f"/plans/{plan['id']}/commit").status_code == 200
    placements = world.call("coord", "GET", "/placements").json()
    by_shelter = {p["shelter_id"]: p["id"] for p in placements}
    assert set(by_shelter) == {"S-BREST", "S-LYON"}, placements
    world.call("coord", "POST", f"/operations/{op}/arrivals", json=arrival_doc("W1"))
    r = world.call("coord", "POST", "/plans", json={"operation_id": op, "solver": "greedy"})
    waiting_plan = wait_plan(world, r.json()["id"])
    assert waiting_plan["status"] == "done"
    return {
        "operation": op,
        "own_placement": by_shelter["S-BREST"],
        "other_placement": by_shelter["S-LYON"],
        "plan": waiting_plan["id"],
        "arrival": "W1",
    }


def _outcome(status: int) -> str:
    if status == 403:
        return DENIED
    if status == 404:
        return HIDDEN
    if status == 409:
        return CONFLICT
    return OK if status < 400 else f"error {status}"


@pytest.mark.slow
def test_authorization_matrix_and_canaries(world: World, network: dict[str, Any]) -> None:
    failures: list[str] = []
    seen_by: dict[str, list[str]] = {role: [] for role in ROLES}
    lyon_before = world.call("coord", "GET", "/shelters/S-LYON").json()["freshness"]["version"]
    cases = _cases(network)
    for case in cases:
        r = world.call(None, case.method, case.path, json=_body(case))
        if r.status_code != 401:
            failures.append(f"{case.method} {case.path} without a token: {r.status_code}")
        for role in ("mgr_brest", "analyst", "coord"):  # the coordinator's writes go last
            r = world.call(role, case.method, case.path, json=_body(case))
            got, want = _outcome(r.status_code), case.expect[role]
            if got != want:
                failures.append(f"{case.method} {case.path} as {role}: {got} ({r.text[:120]})")
            assert r.headers["content-type"].startswith("application/json"), case.path
            if r.status_code >= 400:  # every refusal says why, in JSON, naming a field
                assert r.json()["detail"] and r.json()["errors"][0]["field"], case.path
            seen_by[role].append(r.text)
    assert not failures, "\n".join(failures)
    # the manager changed nothing of the other shelter (the coordinator's own edit: +1 or +2)
    updates = world.call("coord", "GET", "/shelters/S-LYON/updates").json()
    assert all(u["by"] == "coord" for u in updates), updates
    assert (
        world.call("coord", "GET", "/shelters/S-LYON").json()["freshness"]["version"] > lyon_before
    )
    # canaries: S-BREST's location only to coordinators and its own managers; danger only
    # to coordinators
    everything_analyst = "\n".join(seen_by["analyst"])
    everything_manager = "\n".join(seen_by["mgr_brest"])
    for canary in (str(DANGER_LAT), str(DANGER_LON)):
        assert canary in "\n".join(seen_by["coord"])  # the canary is really there
        assert canary not in everything_analyst
        assert canary not in everything_manager
    for canary in (str(CANARY_LAT), str(CANARY_LON)):
        assert canary in "\n".join(seen_by["coord"])
        assert canary not in everything_analyst


def test_other_shelters_manager_never_sees_the_canary_location(world: World) -> None:
    texts = []
    for method, path in (
        ("GET", "/shelters"),
        ("GET", "/shelters/S-BREST"),
        ("GET", "/shelters/S-BREST/updates"),
        ("GET", "/shelters/S-BREST/placements"),
        ("GET", "/placements"),
        ("GET", "/stats"),
    ):
        r = world.call("mgr_lyon", method, path)
        texts.append(r.text)
        assert r.status_code in (200, 404), (path, r.status_code)
    assert all(str(CANARY_LAT) not in t and str(CANARY_LON) not in t for t in texts)
    mine = world.call("mgr_lyon", "GET", "/shelters").json()
    assert [s["id"] for s in mine] == ["S-LYON"]


def test_analyst_sees_no_place_of_any_shelter(world: World) -> None:
    for shelter in world.call("analyst", "GET", "/shelters").json():
        assert "location" not in shelter and "department" not in shelter
    one = world.call("analyst", "GET", "/shelters/S-BREST").json()
    assert "location" not in one and "department" not in one
    assert world.call("coord", "GET", "/shelters/S-BREST").json()["location"] == {
        "lat": CANARY_LAT,
        "lon": CANARY_LON,
    }
    assert world.call("mgr_brest", "GET", "/shelters/S-BREST").json()["department"] == "29"
