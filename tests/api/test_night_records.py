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


def test_an_unanswered_proposal_is_replanned_but_the_shelter_stays_open_to_her(
    world: World,
) -> None:
    """A mother with a child: only Lyon takes children, and Lyon never answers. The re-plan
    at the second deadline looks elsewhere (nothing), but Lyon is not excluded for good: the
    waiting list proposes it to her again."""
    from datetime import UTC, datetime, timedelta

    from api.config import Settings
    from api.scheduler import run_due_jobs

    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    settings: Settings = world.client.app.state.settings  # type: ignore[attr-defined]
    op = make_operation(world)
    doc = arrival_doc("A1", children=1)
    assert world.call("coord", "POST", f"/operations/{op}/arrivals", json=doc).status_code == 201
    _commit_a_plan(world, op)
    (first,) = world.call("coord", "GET", "/placements").json()
    assert first["shelter_id"] == "S-LYON"
    due = datetime.fromisoformat(first["answer_due_at"]).replace(tzinfo=UTC)
    second = due + timedelta(hours=settings.replan_after_hours)
    run_due_jobs(engine, settings, due + timedelta(minutes=1))  # the escalation
    ran = run_due_jobs(engine, settings, second + timedelta(minutes=1))
    assert (f"replan:{first['id']}", second) in ran.jobs
    old = world.call("coord", "GET", f"/placements/{first['id']}").json()
    assert (old["status"], old["active"]) == ("declined", False)
    replanned = _alerts(world, "replanned")
    assert [a["detail"] for a in replanned] == [
        "unanswered by S-LYON: re-planned to nowhere (waiting list)"
    ]
    arrival = world.call("coord", "GET", "/arrivals/A1").json()
    assert arrival["exclude_shelters"] == []
    # the same tick retried the waiting list: Lyon is proposed to her again, a new deadline
    (again,) = world.call("coord", "GET", "/placements").json()
    assert (again["shelter_id"], again["status"]) == ("S-LYON", "proposed")
    assert again["id"] != first["id"]
    assert datetime.fromisoformat(again["answer_due_at"]).replace(tzinfo=UTC) > second
