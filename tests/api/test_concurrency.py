"""Never double-book: concurrent commits and capacity updates, across two API processes.

Two uvicorn processes serve the same database (SQLite file or PostgreSQL). Stale plans and
capacity changes are fired at both at once; afterwards no shelter holds more people than it
has places on any night, and no arrival is placed twice.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import httpx
import pytest
from sqlmodel import Session, col, select

from api.tables import PlacementRow, ShelterRow
from placement.models import Shelter
from tests.api.builders import World, arrival_doc, make_operation, wait_plan, wait_ready


def overbooked(session: Session) -> list[str]:
    """Every (shelter, night) over its places, and every arrival placed twice."""
    problems = []
    placements = session.exec(select(PlacementRow).where(col(PlacementRow.active))).all()
    twice = [a for a, n in Counter(p.arrival_id for p in placements).items() if n > 1]
    problems += [f"{a} placed twice" for a in twice]
    used: dict[tuple[str, date], int] = defaultdict(int)
    for p in placements:
        night = p.first_night
        while night <= p.last_night:
            used[(p.shelter_id, night)] += p.persons
            night += timedelta(days=1)
    shelters = {r.id: Shelter.model_validate(r.data) for r in session.exec(select(ShelterRow))}
    for (sid, night), n in sorted(used.items()):
        places = shelters[sid].places_on(night, date.max)
        if n > places:
            problems.append(f"{sid} holds {n} on {night} with {places} places")
    return problems


@pytest.mark.slow
def test_concurrent_commits_and_capacity_updates(servers: list[str], world: World) -> None:
    rng = random.Random(3)
    token = world.as_("coord")
    manager = {"S-BREST": world.as_("mgr_brest"), "S-LYON": world.as_("mgr_lyon")}
    engine = world.client.app.state.engine  # type: ignore[attr-defined]

    def commit(i: int, pid: str) -> int:
        url = f"{servers[i % 2]}/plans/{pid}/commit"
        return httpx.post(url, headers=token, timeout=60).status_code

    def capacity(i: int, sid: str, places: int) -> int:
        return httpx.put(
            f"{servers[i % 2]}/shelters/{sid}/availability",
            json={"capacity": places},
            headers=manager[sid],
            timeout=60,
        ).status_code

    commits_ok = updates_ok = refused = 0
    for round_ in range(3):
        world.call("coord", "PUT", "/shelters/S-BREST/availability", json={"capacity": 3})
        world.call("coord", "PUT", "/shelters/S-LYON/availability", json={"capacity": 4})
        ops = []
        for k in range(4):
            op = make_operation(world, f"OP-{round_}-{k}")
            docs = [arrival_doc(f"C{round_}-{k}-{i}") for i in range(2)]
            r = world.call(
                "coord", "POST", f"/operations/{op}/arrivals/batch", json={"arrivals": docs}
            )
            assert r.status_code == 201
            ops.append(op)
        plan_ids = []
        for body in [*({"operation_id": op} for op in ops), {}]:  # and one for everyone
            r = world.call("coord", "POST", "/plans", json={"solver": "greedy", **body})
            plan_ids.append(r.json()["id"])
        for pid in plan_ids:
            assert wait_plan(world, pid)["status"] == "done"
        wait_ready(servers)
        # every plan fits alone; together they do not, and the places keep changing
        with ThreadPoolExecutor(16) as pool:
            commits = [pool.submit(commit, i, pid) for i, pid in enumerate(plan_ids)]
            updates = [
                pool.submit(capacity, i, rng.choice(["S-BREST", "S-LYON"]), rng.randint(0, 3))
                for i in range(10)
            ]
            commit_codes = [f.result() for f in commits]
            update_codes = [f.result() for f in updates]
        assert set(commit_codes + update_codes) <= {200, 409}, (commit_codes, update_codes)
        commits_ok += commit_codes.count(200)
        updates_ok += update_codes.count(200)
        refused += (commit_codes + update_codes).count(409)
        with Session(engine) as session:
            assert overbooked(session) == [], f"round {round_}"
    assert commits_ok >= 1 and updates_ok >= 1 and refused >= 1
