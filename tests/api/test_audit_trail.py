"""The night's records tell the truth: who acted (a person, or the system on behalf of
whose act), one person's whole trail, paging past 1,000 records, and compromised shelters
flagged where a coordinator reads shelters, placements and plans (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from api import audit
from api.scheduler import run_due_jobs
from api.store import MAX_PAGE
from tests.api.builders import World, arrival_doc, make_operation, wait_plan


def _plan(w: World, op: int) -> dict[str, Any]:
    r = w.call(
        "coord", "POST", "/plans", json={"solver": "greedy", "time_limit": 2, "operation_id": op}
    )
    assert r.status_code == 202, r.text
    plan = wait_plan(w, r.json()["id"])
    assert plan["status"] == "done", plan
    return plan


def _commit_one(w: World, doc: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """One arrival, in an operation of its own, planned and committed: the plan id and the
    placement."""
    op = make_operation(w, reference=f"OP-{doc['id']}")
    assert w.call("coord", "POST", f"/operations/{op}/arrivals", json=doc).status_code == 201
    plan = _plan(w, op)
    assert w.call("coord", "POST", f"/plans/{plan['id']}/commit").status_code == 200
    placements = w.call("coord", "GET", "/placements").json()
    (placement,) = [p for p in placements if p["arrival_id"] == doc["id"]]
    return str(plan["id"]), placement


def _trail(w: World, arrival: str) -> list[dict[str, Any]]:
    r = w.call("coord", "GET", f"/audit?arrival={arrival}")
    assert r.status_code == 200, r.text
    return list(r.json())


def _acts(trail: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(who, on behalf of, trigger, action, object type, detail), oldest first."""
    return [
        (
            t["user"] or t["role"],
            t["on_behalf_of"],
            t["trigger"],
            t["action"],
            t["object_type"],
            t["detail"],
        )
        for t in reversed(trail)
    ]


def test_replan_after_a_decline_is_the_systems_act_on_behalf_of_the_manager(world: World) -> None:
    # regression: the re-plan after a decline was recorded as the manager's act, on a
    # placement the manager cannot even see
    plan_id, first = _commit_one(world, arrival_doc("A1"))
    manager = {"S-BREST": "mgr_brest", "S-LYON": "mgr_lyon"}[first["shelter_id"]]
    r = world.call(manager, "POST", f"/placements/{first['id']}/decline", json={"reason": "full"})
    assert r.status_code == 200, r.text
    acts = _acts(_trail(world, "A1"))
    assert ("coord", None, None, "write", "placement", f"plan {plan_id}") in acts  # the commit
    assert (manager, None, None, "write", "placement", "declined") in acts  # the answer
    # the re-plan: the system's, started by the manager's decline
    assert ("system", manager, "declined", "write", "placement", "proposed (declined)") in acts
    assert not [a for a in acts if a[0] == manager and a[5].startswith("proposed")]


def test_a_replan_at_the_deadline_is_the_systems_act_triggered_by_silence(world: World) -> None:
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    settings = world.client.app.state.settings  # type: ignore[attr-defined]
    _, first = _commit_one(world, arrival_doc("A1"))
    due = datetime.fromisoformat(first["answer_due_at"]).replace(tzinfo=UTC)
    second = due + timedelta(hours=settings.replan_after_hours, minutes=1)
    run_due_jobs(engine, settings, second)
    acts = _acts(_trail(world, "A1"))
    assert ("system", None, "unanswered", "write", "placement", "declined") in acts
    replanned = [a for a in acts if a[5] in ("proposed (unanswered)", "waiting list (unanswered)")]
    assert replanned and all(a[:3] == ("system", None, "unanswered") for a in replanned)


def test_one_persons_trail_holds_commit_answers_and_plans_and_its_reading_is_audited(
    world: World,
) -> None:
    # regression: the trail of one person (object_id=A1) missed the commit and the answers,
    # filed under placement ids
    plan_id, first = _commit_one(world, arrival_doc("A1"))
    manager = {"S-BREST": "mgr_brest", "S-LYON": "mgr_lyon"}[first["shelter_id"]]
    world.call(manager, "POST", f"/placements/{first['id']}/accept", json={})
    _commit_one(world, arrival_doc("B1"))  # someone else: not in A1's trail
    world.call("coord", "GET", f"/plans/{plan_id}")  # reading the plan reads A1's case
    trail = _trail(world, "A1")
    objects = {(t["object_type"], t["object_id"]) for t in trail}
    assert objects == {("arrival", "A1"), ("placement", str(first["id"])), ("plan", plan_id)}
    assert (manager, "write", "accepted") in {(t["user"], t["action"], t["detail"]) for t in trail}
    ids = [t["id"] for t in trail]
    assert ids == sorted(ids, reverse=True)  # newest first, like every audit page
    # reading the trail is itself on record
    again = _trail(world, "A1")
    assert (again[0]["user"], again[0]["action"], again[0]["detail"]) == (
        "coord",
        "read",
        "audit trail",
    )


@pytest.mark.parametrize("who", ["mgr_brest", "analyst"])
def test_only_coordinators_read_a_trail(world: World, who: str) -> None:
    assert world.call(who, "GET", "/audit?arrival=A1").status_code == 403


def test_audit_pages_past_a_thousand_records_with_a_cursor(world: World) -> None:
    # regression: GET /audit stopped at 1,000 rows with no way to the next
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        audit.record(session, None, "read", "arrival", [f"X{i}" for i in range(1500)])
        session.commit()
    seen: list[int] = []
    before = ""
    for _ in range(10):
        r = world.call("coord", "GET", f"/audit?limit={MAX_PAGE}{before}")
        assert r.status_code == 200, r.text
        seen += [t["id"] for t in r.json()]
        cursor = r.headers.get("x-next-before")
        if cursor is None:
            break
        before = f"&before={cursor}"
    assert len(seen) == len(set(seen)) >= 1500  # every record once
    assert seen == sorted(seen, reverse=True)
    assert world.call("coord", "GET", f"/audit?limit={MAX_PAGE + 1}").status_code == 422
    assert world.call("coord", "GET", "/audit?before=0").status_code == 422


def test_compromised_shelter_is_flagged_on_shelter_placements_and_plans(world: World) -> None:
    # A shelter found by network N1 only: still open to others, and every coordinator's view
    # of it, of placements into it and of plans using it says it was compromised.
    r = world.call(
        "coord",
        "POST",
        "/shelters/S-LYON/compromised",
        json={"scope": "network", "network": "N1"},
    )
    assert r.status_code == 200, r.text
    shelter = world.call("coord", "GET", "/shelters/S-LYON").json()
    (note,) = shelter["compromised"]
    assert (note["scope"], note["network"], note["shelter_active"]) == ("network", "N1", True)
    assert world.call("coord", "GET", "/shelters/S-BREST").json()["compromised"] == []
    listed = {s["id"]: s["compromised"] for s in world.call("coord", "GET", "/shelters").json()}
    assert listed["S-LYON"] and listed["S-BREST"] == []
    # its manager sees the shelter, not the compromise records (the network's name)
    assert world.call("mgr_lyon", "GET", "/shelters/S-LYON").json().get("compromised") is None
    # a mother with a child (only Lyon takes children), not of N1: placed in Lyon, flagged
    op = make_operation(world)
    doc = arrival_doc("A1", children=1)
    assert world.call("coord", "POST", f"/operations/{op}/arrivals", json=doc).status_code == 201
    plan = _plan(world, op)
    assert [p["shelter"] for p in plan["result"]["placements"]] == ["S-LYON"]
    assert [(n["shelter_id"], n["scope"]) for n in plan["compromised_shelters"]] == [
        ("S-LYON", "network")
    ]
    assert world.call("coord", "POST", f"/plans/{plan['id']}/commit").status_code == 200
    (placement,) = world.call("coord", "GET", "/placements").json()
    assert [n["network"] for n in placement["compromised"]] == ["N1"]
    one = world.call("coord", "GET", f"/placements/{placement['id']}").json()
    assert one["compromised"] == placement["compromised"]
