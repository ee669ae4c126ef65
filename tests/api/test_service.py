"""Functional tests of every endpoint through the HTTP client, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time

import pytest

import solver.process
from tests.api.builders import (
    TINY_SCENARIO,
    World,
    arrival_doc,
    make_operation,
    shelter_doc,
    wait_plan,
)


def _plan(w: World, **body: object) -> dict[str, object]:
    r = w.call("coord", "POST", "/plans", json={"solver": "greedy", "time_limit": 2, **body})
    assert r.status_code == 202, r.text
    assert r.json()["status"] in ("queued", "running", "done")
    return wait_plan(w, r.json()["id"])


def test_unauthenticated_and_bad_token_get_401(world: World) -> None:
    assert world.call(None, "GET", "/me").status_code == 401
    r = world.client.get("/shelters", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    assert r.json()["detail"] == "missing or invalid bearer token"
    assert r.headers["www-authenticate"] == "Bearer"


def test_me(world: World) -> None:
    r = world.call("mgr_brest", "GET", "/me")
    assert r.json() == {"handle": "mgr_brest", "role": "shelter_manager", "shelters": ["S-BREST"]}


def test_shelter_create_edit_and_freshness(world: World) -> None:
    r = world.call("coord", "POST", "/shelters", json=shelter_doc("S-NEW", "33"))
    assert r.status_code == 201
    assert r.json()["freshness"]["capacity_updated_by"] == "coord"
    assert (
        world.call("coord", "POST", "/shelters", json=shelter_doc("S-NEW", "33")).status_code == 409
    )
    r = world.call(
        "coord", "PATCH", "/shelters/S-NEW", json={"location": {"lat": 44.8, "lon": -0.6}}
    )
    assert r.status_code == 200
    assert r.json()["location"] == {"lat": 44.8, "lon": -0.6}
    assert r.json()["freshness"]["version"] == 2
    r = world.call(
        "mgr_brest",
        "PUT",
        "/shelters/S-BREST/availability",
        json={"availability": [{"from": "2026-12-01", "to": "2026-12-10", "places": 1}]},
    )
    assert r.status_code == 200, r.text
    fresh = r.json()["freshness"]
    assert fresh["capacity_updated_by"] == "mgr_brest"
    assert r.json()["availability"] == [{"from": "2026-12-01", "to": "2026-12-10", "places": 1}]
    r = world.call("mgr_brest", "PATCH", "/shelters/S-BREST/attributes", json={"languages": ["ro"]})
    assert r.status_code == 200 and r.json()["languages"] == ["ro"]
    updates = world.call("mgr_brest", "GET", "/shelters/S-BREST/updates").json()
    assert [(u["kind"], u["by"]) for u in updates] == [
        ("created", "coord"),
        ("availability", "mgr_brest"),
        ("attributes", "mgr_brest"),
    ]


def test_shelter_input_errors_name_the_field(world: World) -> None:
    r = world.call("coord", "POST", "/shelters", json=shelter_doc("S-X", "999"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "department"
    r = world.call("coord", "POST", "/shelters", json={**shelter_doc("S-X", "33"), "address": "x"})
    assert r.status_code == 422
    assert {"field": "address", "problem": "unknown field"} in r.json()["errors"]
    r = world.call("mgr_brest", "PATCH", "/shelters/S-BREST/attributes", json={"location": {}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "location"
    r = world.call("mgr_brest", "PATCH", "/shelters/S-BREST/attributes", json={"languages": ["??"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("languages")
    r = world.call("coord", "PUT", "/shelters/S-BREST/availability", json={})
    assert r.status_code == 422
    assert "exactly one" in r.json()["errors"][0]["problem"]


def test_operations_and_arrivals(world: World) -> None:
    op = make_operation(world)
    assert world.call("coord", "GET", f"/operations/{op}").json()["reference"] == "OP-1"
    assert len(world.call("coord", "GET", "/operations").json()) == 1
    r = world.call("coord", "POST", f"/operations/{op}/arrivals", json=arrival_doc("A1"))
    assert r.status_code == 201, r.text
    assert r.json()["danger"][0]["department"] == "93"  # the operation's danger
    assert r.json()["status"] == "waiting"
    batch = [arrival_doc(f"B{i}") for i in range(3)]
    r = world.call("coord", "POST", f"/operations/{op}/arrivals/batch", json={"arrivals": batch})
    assert r.status_code == 201 and len(r.json()) == 3
    assert len(world.call("coord", "GET", f"/operations/{op}/arrivals").json()) == 4
    assert world.call("coord", "GET", "/arrivals/B1").json()["id"] == "B1"
    assert len(world.call("coord", "GET", "/arrivals?status=waiting").json()) == 4
    r = world.call("coord", "DELETE", "/arrivals/B2")
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    # a DELETE withdraws: the arrival stays readable (tests/api/schemathesis.toml)
    assert world.call("coord", "GET", "/arrivals/B2").json()["status"] == "withdrawn"
    assert world.call("coord", "GET", f"/operations/{op}").json()["arrivals_waiting"] == 3
    r = world.call("coord", "POST", f"/operations/{op}/arrivals", json=arrival_doc("A1"))
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "id"


def test_arrival_errors_name_the_field(world: World) -> None:
    op = make_operation(world)
    bad = [arrival_doc(f"C{i}") for i in range(4)]
    bad[3]["gender"] = "female"
    r = world.call("coord", "POST", f"/operations/{op}/arrivals/batch", json={"arrivals": bad})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "arrivals[3].gender"
    r = world.call(
        "coord", "POST", f"/operations/{op}/arrivals", json={**arrival_doc("N"), "name": "x"}
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "name", "problem": "unknown field (this system stores no names)"}
    ]
    r = world.call(
        "coord", "POST", f"/operations/{op}/arrivals", json=arrival_doc("K", keep_apart=["nobody"])
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "keep_apart[0]"
    r = world.call(
        "coord", "POST", f"/operations/{op}/arrivals", json=arrival_doc("D", arrives="2020-01-01")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "arrives"
    r = world.client.post(
        f"/operations/{op}/arrivals",
        content=b"{not json",
        headers={**world.as_("coord"), "content-type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
    assert world.call("coord", "GET", f"/operations/{op}/arrivals").json() == []
    assert world.call("coord", "GET", "/operations/999").status_code == 404


def test_plan_commit_placements_and_free(world: World) -> None:
    op = make_operation(world)
    docs = [arrival_doc("A1", priority=5), arrival_doc("A2", children=1), arrival_doc("A3")]
    world.call("coord", "POST", f"/operations/{op}/arrivals/batch", json={"arrivals": docs})
    plan = _plan(world, operation_id=op)
    assert plan["status"] == "done", plan
    result = plan["result"]
    assert isinstance(result, dict)
    placed = {p["arrival"]: p["shelter"] for p in result["placements"]}
    assert placed["A2"] == "S-LYON"  # only Lyon takes children
    assert len(world.call("coord", "GET", "/plans").json()) == 1
    r = world.call("coord", "POST", f"/plans/{plan['id']}/commit")
    assert r.status_code == 200, r.text
    assert {p["arrival_id"] for p in r.json()["placements"]} == set(placed)
    assert world.call("coord", "POST", f"/plans/{plan['id']}/commit").status_code == 409
    assert world.call("coord", "GET", "/arrivals/A2").json()["status"] == "placed"
    mine = world.call("mgr_lyon", "GET", "/placements").json()
    assert {p["arrival_id"] for p in mine} == {a for a, s in placed.items() if s == "S-LYON"}
    assert set(mine[0]) == {
        "id",
        "shelter_id",
        "arrival_id",
        "first_night",
        "last_night",
        "children",
        "needs",
        "languages",
        "active",
        "status",
        "answer_reason",
        "answer_due_at",
    }
    assert mine[0]["status"] == "proposed"
    pid = mine[0]["id"]
    assert world.call("mgr_lyon", "GET", f"/placements/{pid}").status_code == 200
    assert world.call("mgr_lyon", "GET", "/shelters/S-LYON/placements").json() == mine
    # committed placements reduce the places of later plans
    docs2 = [arrival_doc(f"Z{i}", children=1) for i in range(2)]
    world.call("coord", "POST", f"/operations/{op}/arrivals/batch", json={"arrivals": docs2})
    second = _plan(world, operation_id=op)
    assert second["result"]["placements"] == []  # type: ignore[index]
    # freeing gives the places back and the arrival waits again
    lyon = [
        p for p in world.call("coord", "GET", "/placements").json() if p["shelter_id"] == "S-LYON"
    ]
    r = world.call("coord", "DELETE", f"/placements/{lyon[0]['id']}")
    assert r.status_code == 200 and r.json()["active"] is False
    assert world.call("coord", "DELETE", f"/placements/{lyon[0]['id']}").status_code == 409
    assert (
        world.call("coord", "GET", f"/arrivals/{lyon[0]['arrival_id']}").json()["status"]
        == "waiting"
    )


def test_commit_is_refused_when_places_changed(world: World) -> None:
    op = make_operation(world)
    world.call("coord", "POST", f"/operations/{op}/arrivals", json=arrival_doc("A1"))
    plan = _plan(world, operation_id=op)
    shelter = plan["result"]["placements"][0]["shelter"]  # type: ignore[index]
    r = world.call("coord", "PUT", f"/shelters/{shelter}/availability", json={"capacity": 5})
    assert r.status_code == 200
    r = world.call("coord", "POST", f"/plans/{plan['id']}/commit")
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == f"shelters[{shelter}]"
    assert world.call("coord", "GET", "/placements").json() == []
    assert world.call("coord", "GET", "/arrivals/A1").json()["status"] == "waiting"


def test_commit_is_refused_when_an_arrival_changed(world: World) -> None:
    op = make_operation(world)
    docs = [arrival_doc("A1"), arrival_doc("A2")]
    world.call("coord", "POST", f"/operations/{op}/arrivals/batch", json={"arrivals": docs})
    plan = _plan(world, operation_id=op)
    assert world.call("coord", "DELETE", "/arrivals/A2").json()["status"] == "withdrawn"
    r = world.call("coord", "POST", f"/plans/{plan['id']}/commit")
    assert r.status_code == 409
    assert r.json()["errors"] == [
        {"field": "arrivals[A2]", "problem": "changed since the plan was made (withdrawn)"}
    ]
    assert world.call("coord", "GET", "/arrivals/A1").json()["status"] == "waiting"


def test_inactive_shelters_are_not_planned(world: World) -> None:
    r = world.call("coord", "PATCH", "/shelters/S-BREST", json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    op = make_operation(world)
    docs = [arrival_doc("A1"), arrival_doc("A2")]
    world.call("coord", "POST", f"/operations/{op}/arrivals/batch", json={"arrivals": docs})
    placements = _plan(world, operation_id=op)["result"]["placements"]  # type: ignore[index]
    assert {p["shelter"] for p in placements} == {"S-LYON"}


def test_declined_shelters_are_excluded(world: World) -> None:
    op = make_operation(world)
    r = world.call(
        "coord",
        "POST",
        f"/operations/{op}/arrivals",
        json=arrival_doc("A1", exclude_shelters=["X"]),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "exclude_shelters[0]"
    doc = arrival_doc("A1", children=1, exclude_shelters=["S-LYON"])  # only Lyon takes children
    assert world.call("coord", "POST", f"/operations/{op}/arrivals", json=doc).status_code == 201
    result = _plan(world, operation_id=op)["result"]
    assert result["placements"] == [] and result["unplaced"][0]["arrival"] == "A1"  # type: ignore[index]


def test_stale_places_follow_the_policy(world: World) -> None:
    from datetime import timedelta

    from sqlmodel import Session

    from api.tables import ShelterRow, utcnow

    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        row = session.get(ShelterRow, "S-BREST")
        assert row is not None
        row.capacity_updated_at = utcnow() - timedelta(days=10)
        session.add(row)
        session.commit()
    brest = world.call("coord", "GET", "/shelters/S-BREST").json()["freshness"]
    assert brest["stale"] is True
    assert world.call("coord", "GET", "/shelters/S-LYON").json()["freshness"]["stale"] is False
    op = make_operation(world)
    docs = [arrival_doc(f"A{i}") for i in range(4)]  # Lyon has 3 places, Brest 2 (stale)
    world.call("coord", "POST", f"/operations/{op}/arrivals/batch", json={"arrivals": docs})
    excluded = _plan(world, operation_id=op, policy={"stale_capacity": "exclude"})["result"]
    assert {p["shelter"] for p in excluded["placements"]} == {"S-LYON"}  # type: ignore[index]
    used = _plan(world, operation_id=op, policy={"stale_capacity": "use"})["result"]
    assert len(used["placements"]) == 4  # type: ignore[index]
    # the manager confirms the places: fresh again
    r = world.call("mgr_brest", "PUT", "/shelters/S-BREST/availability", json={"capacity": 2})
    assert r.json()["freshness"]["stale"] is False


def test_capacity_below_committed_is_refused(world: World) -> None:
    op = make_operation(world)
    world.call("coord", "POST", f"/operations/{op}/arrivals", json=arrival_doc("A1", children=1))
    plan = _plan(world, operation_id=op)
    assert world.call("coord", "POST", f"/plans/{plan['id']}/commit").status_code == 200
    r = world.call("mgr_lyon", "PUT", "/shelters/S-LYON/availability", json={"capacity": 1})
    assert r.status_code == 409
    assert "capacity: S-LYON holds 2 persons" in r.json()["errors"][0]["problem"]
    assert world.call("coord", "GET", "/shelters/S-LYON").json()["capacity"] == 3


def test_plan_for_every_waiting_arrival_with_cpsat(world: World) -> None:
    a = make_operation(world, "OP-A", "2026-12-01")
    b = make_operation(world, "OP-B", "2026-12-03")
    world.call("coord", "POST", f"/operations/{a}/arrivals", json=arrival_doc("A1", priority=5))
    world.call("coord", "POST", f"/operations/{b}/arrivals", json=arrival_doc("B1", gender="man"))
    r = world.call("coord", "POST", "/plans", json={"solver": "cpsat", "time_limit": 3})
    assert r.status_code == 202
    plan = wait_plan(world, r.json()["id"])
    assert plan["status"] == "done"
    result = plan["result"]
    assert result["solver"] == "cpsat" and result["status"] == "optimal"
    assert [p["arrival"] for p in result["placements"]] == ["A1"]
    unplaced = result["unplaced"][0]
    assert unplaced["arrival"] == "B1" and unplaced["reasons"]  # explained by the engine
    assert plan["options"]["start"] == "2026-12-01"


def _slow_child(*args: object) -> None:
    time.sleep(60)  # a solve that would outlast the test: only a kill stops it


def test_plan_cancel_kills_the_solve(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solver.process, "_child", _slow_child)  # the forked child runs it
    op = make_operation(world)
    world.call("coord", "POST", f"/operations/{op}/arrivals", json=arrival_doc("A1"))
    r = world.call("coord", "POST", "/plans", json={"operation_id": op, "time_limit": 15})
    plan_id = r.json()["id"]
    started = time.monotonic()
    r = world.call("coord", "DELETE", f"/plans/{plan_id}")
    assert r.status_code == 202 and r.json()["status"] == "cancelling"
    assert wait_plan(world, plan_id, timeout=10)["status"] == "cancelled"
    assert time.monotonic() - started < 5
    assert world.call("coord", "DELETE", f"/plans/{plan_id}").status_code == 409
    assert world.call("coord", "POST", f"/plans/{plan_id}/commit").status_code == 409


@pytest.mark.slow
def test_plan_hard_time_limit(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(solver.process, "_child", _slow_child)  # a solver that never answers
    op = make_operation(world)
    world.call("coord", "POST", f"/operations/{op}/arrivals", json=arrival_doc("A1"))
    body = {"operation_id": op, "time_limit": 0.5, "explain": False}
    started = time.monotonic()
    plan_id = world.call("coord", "POST", "/plans", json=body).json()["id"]
    plan = wait_plan(world, plan_id, timeout=10)
    assert time.monotonic() - started < 5  # 0.5 s + 2 s grace, then the child is killed
    # killed: the plan falls back to the greedy seed, marked feasible (not proven)
    assert plan["status"] == "done" and plan["result"]["status"] == "feasible"
    assert len(plan["result"]["placements"]) == 1


def test_plan_request_errors(world: World) -> None:
    op = make_operation(world)
    r = world.call("coord", "POST", "/plans", json={"operation_id": op})
    # a valid request the state refuses (no one waits): 409, as the document says
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "operation_id"
    r = world.call(
        "coord", "POST", f"/operations/{op}/arrivals", json=arrival_doc("A1", arrives="2026-12-02")
    )
    assert r.status_code == 201
    r = world.call("coord", "POST", "/plans", json={"operation_id": op, "time_limit": 3600})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "time_limit"
    r = world.call("coord", "POST", "/plans", json={"operation_id": op, "solver": "magic"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "solver"
    r = world.call("coord", "POST", "/plans", json={"operation_id": op, "start": "2026-12-05"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "arrivals[A1].arrives"
    assert world.call("coord", "GET", "/plans/nope").status_code == 404
    assert world.call("coord", "POST", "/plans", json={"operation_id": 999}).status_code == 404


TINY = TINY_SCENARIO


def test_what_if_writes_nothing(world: World) -> None:
    before = world.call("coord", "GET", "/audit").json()
    r = world.call("analyst", "POST", "/whatif?solver=cpsat&time_limit=3", json=TINY)
    assert r.status_code == 200, r.text
    assert {p["arrival"] for p in r.json()["placements"]} == {"A1", "A2"}
    yaml_body = json.dumps(TINY)  # JSON is YAML
    r = world.client.post(
        "/whatif?solver=greedy",
        content=yaml_body,
        headers={**world.as_("coord"), "content-type": "application/yaml"},
    )
    assert r.status_code == 200 and r.json()["solver"] == "greedy"
    assert world.call("coord", "GET", "/audit").json() == before
    assert world.call("coord", "GET", "/plans").json() == []
    bad = {
        **TINY,
        "arrivals": [*TINY["arrivals"], {**TINY["arrivals"][0], "id": "A3", "name": "x"}],
    }
    r = world.call("analyst", "POST", "/whatif", json=bad)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "arrivals[2].name"


def test_audit_records_reads_and_writes(world: World) -> None:
    op = make_operation(world)
    world.call("coord", "POST", f"/operations/{op}/arrivals", json=arrival_doc("A1"))
    world.call("coord", "GET", "/arrivals/A1")
    world.call("mgr_brest", "GET", "/shelters/S-BREST")
    records = world.call("coord", "GET", "/audit?object_id=A1").json()
    assert [(r["action"], r["user"]) for r in records] == [("read", "coord"), ("write", "coord")]
    loc = world.call("coord", "GET", "/audit?object_type=shelter_location&user=mgr_brest").json()
    assert loc and loc[0]["object_id"] == "S-BREST" and loc[0]["action"] == "read"


def test_audit_log_is_append_only(world: World) -> None:
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    world.call("mgr_brest", "GET", "/shelters/S-BREST")
    for statement in ("UPDATE audit_log SET detail = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert world.call("coord", "GET", "/audit").json()


def test_limits(world: World) -> None:
    op = make_operation(world)
    big = b"{" + b" " * 1_100_000 + b"}"
    r = world.client.post(
        f"/operations/{op}/arrivals/batch",
        content=big,
        headers={**world.as_("coord"), "content-type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["errors"][0]["field"] == "body"
    many = [arrival_doc(f"M{i}") for i in range(201)]
    r = world.call("coord", "POST", f"/operations/{op}/arrivals/batch", json={"arrivals": many})
    assert r.status_code == 413 and r.json()["errors"][0]["field"] == "arrivals"
    crowd = {**TINY, "arrivals": [{**TINY["arrivals"][0], "id": f"X{i}"} for i in range(401)]}
    r = world.call("analyst", "POST", "/whatif", json=crowd)
    assert r.status_code == 413 and r.json()["errors"][0]["field"] == "arrivals"
    r = world.call("analyst", "POST", "/whatif?time_limit=1000", json=TINY)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.time_limit"


def test_stats_are_counts(world: World) -> None:
    op = make_operation(world)
    world.call("coord", "POST", f"/operations/{op}/arrivals", json=arrival_doc("A1"))
    stats = world.call("analyst", "GET", "/stats").json()
    assert stats["shelters"] == 2 and stats["arrivals_waiting"] == 1 and stats["operations"] == 1
    assert stats["places_tonight"] == 5 and stats["free_places_tonight"] == 5
    assert world.call("mgr_brest", "GET", "/stats").json()["shelters"] == 1


def test_openapi_lists_the_endpoints(world: World) -> None:
    paths = world.client.get("/openapi.json").json()["paths"]
    assert "/plans/{plan_id}/commit" in paths and "/whatif" in paths
    assert world.client.get("/docs").status_code == 200


ODD_IDS = ["-1", "99999999999999999999", "x" * 300 + "%00", "S-BREST"]
ODD_BODIES: list[object] = [None, "text", {"x": 1}, {"id": "\u0000"}, {"arrivals": [{}]}]


@pytest.mark.slow
def test_bad_input_never_gives_a_500(world: World) -> None:
    paths = world.client.get("/openapi.json").json()["paths"]
    seen = 0
    for template, methods in paths.items():
        for method in methods:
            for odd in ODD_IDS:
                path = template
                for name in ("shelter_id", "operation_id", "arrival_id", "plan_id", "placement_id"):
                    path = path.replace("{" + name + "}", odd)
                for who in ("coord", "mgr_brest"):
                    for payload in ODD_BODIES if method in ("post", "put", "patch") else [None]:
                        r = world.call(who, method.upper(), path, json=payload)
                        seen += 1
                        assert r.status_code < 500, (method, path, payload, r.text)
                        if r.status_code >= 400:
                            assert r.json()["detail"], (method, path)
                            assert r.json()["errors"][0]["field"], (method, path)
    assert seen > 200


def test_retention_purge_removes_old_case_data_only(world: World) -> None:
    from datetime import UTC, datetime

    from api.retention import purge

    op = make_operation(world)
    docs = [arrival_doc("OLD1"), arrival_doc("GONE")]
    world.call("coord", "POST", f"/operations/{op}/arrivals/batch", json={"arrivals": docs})
    world.call("coord", "DELETE", "/arrivals/GONE")
    plan = _plan(world, operation_id=op, horizon_days=10)
    assert world.call("coord", "POST", f"/plans/{plan['id']}/commit").status_code == 200
    world.call("coord", "POST", f"/operations/{op}/arrivals", json=arrival_doc("WAIT"))
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    assert purge(engine, days=30, now=datetime(2026, 12, 20, tzinfo=UTC)).arrivals == 0
    result = purge(engine, days=30, now=datetime(2027, 6, 1, tzinfo=UTC))
    assert (result.arrivals, result.placements, result.plans) == (2, 1, 1)
    assert world.call("coord", "GET", "/arrivals/OLD1").status_code == 404
    assert world.call("coord", "GET", "/arrivals/WAIT").json()["status"] == "waiting"
    assert world.call("coord", "GET", "/placements").json() == []
    purged = world.call("coord", "GET", "/audit?action=purge").json()
    assert {(r["object_type"], r["object_id"]) for r in purged} >= {
        ("arrival", "OLD1"),
        ("arrival", "GONE"),
    }
