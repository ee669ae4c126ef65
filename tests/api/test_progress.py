"""Plan jobs report the best plan so far while they run (stage, persons placed by priority,
and the bound)."""

from __future__ import annotations

from tests.api.builders import World, arrival_doc, make_operation, wait_plan


def test_plan_job_reports_progress_then_the_plan(world: World) -> None:
    op = make_operation(world, "OP-PROGRESS")
    docs = [arrival_doc(f"P{i}") for i in range(3)]
    r = world.call("coord", "POST", f"/operations/{op}/arrivals/batch", json={"arrivals": docs})
    assert r.status_code == 201, r.text
    r = world.call(
        "coord", "POST", "/plans", json={"operation_id": op, "solver": "cpsat", "time_limit": 5}
    )
    assert r.status_code == 202, r.text
    plan = wait_plan(world, r.json()["id"])
    assert plan["status"] == "done", plan
    progress = plan["progress"]
    assert progress is not None and progress["stage"]
    placed = sum(plan["result"]["placed_persons_by_priority"].values())
    # the last report is a plan at least as good as greedy's and never better than the result
    assert 0 < sum(progress["placed_persons_by_priority"].values()) <= placed
    assert set(progress["placed_persons_by_priority"]) == {"5", "4", "3", "2", "1"}
    # and the bound: never below what the plan placed, level by level (cumulative)
    bound = progress["upper_bound_persons_at_or_above"]
    result = plan["result"]["placed_persons_by_priority"]
    for p in range(1, 6):
        assert bound[str(p)] >= sum(result[str(q)] for q in range(p, 6))
    assert bound["1"] >= 1
