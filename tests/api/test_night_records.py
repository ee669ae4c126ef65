"""What the operation night leaves on record: alerts and audit of the waiting list at commit,
and an unanswered proposal that stays open to the person (docs/operations_night.md)."""

from __future__ import annotations

from typing import Any

from tests.api.builders import World, arrival_doc, make_operation, wait_plan


def _commit_a_plan(w: World, op: int) -> str:
    r = w.call(
        "coord", "POST", "/plans", json={"solver": "greedy", "time_limit": 2, "operation_id": op}
    )
    assert r.status_code == 202, r.text
    plan = wait_plan(w, r.json()["id"])
    assert plan["status"] == "done", plan
    assert w.call("coord", "POST", f"/plans/{plan['id']}/commit").status_code == 200
    return str(plan["id"])


def _alerts(w: World, kind: str) -> list[dict[str, Any]]:
    r = w.call("coord", "GET", f"/alerts?kind={kind}")
    assert r.status_code == 200, r.text
    return list(r.json())


def test_commit_raises_no_place_for_the_unplaced_once_and_audits_the_waiting_list(
    world: World,
) -> None:
    op = make_operation(world)
    docs = [
        arrival_doc("A1", children=1, exclude_shelters=["S-LYON"]),  # only Lyon takes children
        arrival_doc("A2"),
    ]
    world.call("coord", "POST", f"/operations/{op}/arrivals/batch", json={"arrivals": docs})
    plan_id = _commit_a_plan(world, op)
    alerts = _alerts(world, "no_place")
    assert [a["arrival_id"] for a in alerts] == ["A1"]
    assert alerts[0]["detail"].startswith(f"plan {plan_id}: no place; on the waiting list. ")
    assert world.call("coord", "GET", "/arrivals/A1").json()["status"] == "waiting"
    trail = world.call("coord", "GET", "/audit?object_id=A1&action=write").json()
    listed = [(t["user"], t["object_type"], t["detail"]) for t in trail if "waiting" in t["detail"]]
    assert listed == [("coord", "arrival", f"waiting list (plan {plan_id})")]
    # planned and committed again, still unplaced: no second alert for the same wait
    _commit_a_plan(world, op)
    assert [a["arrival_id"] for a in _alerts(world, "no_place")] == ["A1"]
