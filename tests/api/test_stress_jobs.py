"""Stress jobs in the service: analysts and coordinators start one on the live network and
watch it; results are aggregates, and analysts see no location."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.auth import Principal
from api.config import Settings
from api.db import request_session
from api.domain_errors import Conflict
from api.main import create_app
from api.services.stress import INTERRUPTED, STALE_SECONDS, StressJobs, StressSettings
from api.tables import StressJobRow, User, utcnow
from placement.text import message, render
from tests.api.builders import CANARIES, World

SPEC: dict[str, Any] = {
    "name": "service stress",
    "network": {"live": True},
    "draws": 30,
    "seed": 3,
    "marginal": {"draws": 0},
    "profiles": [{"name": "op", "where": [{"department": "13"}], "size": {"min": 1, "max": 3}}],
}


def _wait(world: World, who: str, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = world.call(who, "GET", f"/stress/{job_id}")
        assert r.status_code == 200, r.text
        if r.json()["status"] != "running":
            return dict(r.json())
        time.sleep(0.2)
    raise AssertionError("stress job still running")


@pytest.mark.slow
def test_analyst_runs_a_stress_job_and_sees_aggregates_without_locations(world: World):
    r = world.call("analyst", "POST", "/stress", json=SPEC)
    assert r.status_code == 202, r.text
    job = _wait(world, "analyst", r.json()["id"])
    assert job["status"] == "done", job
    report = job["report"]
    # Brest (2 places) and Lyon (3 places) take any 1 to 3 women from Marseille.
    assert report["all_placed"]["value"] == 1.0 and report["draws"] == 30
    assert report["departments_saturated"] == []
    assert all(row["department"] == "" for row in report["shelters_saturated"])
    text = world.call("analyst", "GET", f"/stress/{job['id']}").text
    assert not any(canary in text for canary in CANARIES)
    # The coordinator sees where the shelters are (by département).
    seen = world.call("coord", "GET", f"/stress/{job['id']}").json()["report"]
    assert {row["department"] for row in seen["shelters_saturated"]} <= {"29", "69"}
    # A shelter manager may not see stress jobs at all.
    assert world.call("mgr_brest", "GET", f"/stress/{job['id']}").status_code == 403


@pytest.fixture
def other_process(settings: Settings) -> Iterator[TestClient]:
    """A second application on the same database: what another API process, or the service
    after a restart, sees (it shares nothing in memory with the first)."""
    with TestClient(create_app(settings, run_migrations=False)) as c:
        yield c


@pytest.mark.slow
def test_a_stress_job_is_stored_and_seen_by_another_process(
    world: World, other_process: TestClient
):
    job_id = world.call("analyst", "POST", "/stress", json=SPEC).json()["id"]
    done = _wait(world, "analyst", job_id)
    seen = other_process.get(f"/stress/{job_id}", headers=world.headers["analyst"])
    assert seen.status_code == 200 and seen.json()["report"] == done["report"]
    # The row holds aggregates only: no shelter's département, no location.
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        row = session.get(StressJobRow, job_id)
        assert row is not None and row.status == "done" and row.report is not None
        assert all(s["department"] == "" for s in row.report["shelters_saturated"])
        assert not any(canary in json.dumps(row.report) for canary in CANARIES)


@pytest.mark.slow
def test_a_stress_job_can_be_stopped_from_another_process(world: World, other_process: TestClient):
    r = world.call("coord", "POST", "/stress", json={**SPEC, "draws": 2000})
    assert r.status_code == 202, r.text
    stop = other_process.delete(f"/stress/{r.json()['id']}", headers=world.headers["coord"])
    assert stop.status_code == 200, stop.text
    assert _wait(world, "coord", r.json()["id"])["status"] == "stopped"


def test_a_job_whose_process_is_gone_reads_as_failed_and_leaves_room(world: World):
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        coord = session.exec(select(User.id).where(User.handle == "coord")).one()
        assert coord is not None
        beat = utcnow() - timedelta(seconds=STALE_SECONDS + 5)
        session.add(StressJobRow(id="gone", owner_id=coord, heartbeat_at=beat, total=30))
        session.commit()
    job = world.call("coord", "GET", "/stress/gone").json()
    assert job["status"] == "failed" and job["error"] == INTERRUPTED
    french = world.call("coord", "GET", "/stress/gone?lang=fr").json()
    assert french["error"] == "interrompu : le service s'est arrêté pendant le calcul"
    # It does not hold the one running slot: a new job starts.
    assert world.call("coord", "POST", "/stress", json=SPEC).status_code == 202


def test_a_failed_job_says_why_in_the_readers_language(world: World):
    """The cluster's failure is stored as a message (English beside it for older readers)."""
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    why = message("cannot reach the cluster: {error}", error="tcp://10.0.0.9:8786 timed out")
    with Session(engine) as session:
        coord = session.exec(select(User.id).where(User.handle == "coord")).one()
        assert coord is not None
        session.add(
            StressJobRow(
                id="lost",
                owner_id=coord,
                status="failed",
                error=render(why),
                error_message=why.model_dump(mode="json"),
            )
        )
        session.commit()
    english = world.call("coord", "GET", "/stress/lost").json()["error"]
    french = world.client.get(
        "/stress/lost", headers={**world.headers["coord"], "Accept-Language": "fr"}
    )
    assert english == "cannot reach the cluster: tcp://10.0.0.9:8786 timed out"
    assert french.json()["error"].startswith("impossible de joindre"), french.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"network": {"scenario": "x.yaml"}}, "network.scenario"),  # the service reads no file
        ({"draws": 10**5}, "draws"),  # above PLACEMENT_STRESS_MAX_DRAWS
        ({"profiles": []}, "profiles"),  # no operation to draw
        ({"profiles": [{**SPEC["profiles"][0], "where": [{"department": "99"}]}]},
         "profiles[0].where[0].department"),  # not a département of the live network's country
    ],
)  # fmt: skip
def test_bad_stress_spec_names_the_field(world: World, changes: dict[str, Any], field: str):
    r = world.call("analyst", "POST", "/stress", json={**SPEC, **changes})
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]], r.text


def test_shelter_managers_cannot_start_stress_jobs(world: World):
    assert world.call("mgr_lyon", "POST", "/stress", json=SPEC).status_code == 403


#: starts fired at once, and the running-jobs limit they race for
RACING_STARTS = 4
RACE_LIMIT = 2


def test_simultaneous_stress_job_starts_admit_exactly_the_limit(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    """Regression: two starts at once on PostgreSQL both counted the running jobs before
    either stored its row, and both were admitted past ``max_running``."""
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        coord = session.exec(select(User).where(User.handle == "coord")).one()
        who = Principal(coord.id or 0, coord.handle, coord.role, frozenset())
    jobs = StressJobs(StressSettings(max_running=RACE_LIMIT), engine)
    count = StressJobs.running

    def slow_count(self: StressJobs, session: Session) -> int:
        # Widen the window between the count and the insert: without a lock every racer
        # counts 0 jobs before any of them has stored its row.
        seen = count(self, session)
        time.sleep(0.3)
        return seen

    monkeypatch.setattr(StressJobs, "running", slow_count)
    barrier = threading.Barrier(RACING_STARTS)

    def start(i: int) -> str:
        with request_session(engine) as session:
            barrier.wait()
            try:
                jobs.admit(session, f"race{i}", who)
            except Conflict:
                return "refused"
            return "admitted"

    with ThreadPoolExecutor(RACING_STARTS) as pool:
        answers = list(pool.map(start, range(RACING_STARTS)))
    assert answers.count("admitted") == RACE_LIMIT, answers
    with Session(engine) as session:
        rows = session.exec(select(StressJobRow).where(StressJobRow.status == "running")).all()
        assert len(rows) == RACE_LIMIT


@pytest.mark.parametrize(
    ("changes", "field", "french"),
    [
        ({"profiles": [{**SPEC["profiles"][0], "size": {"min": 3, "max": 1}}]},
         "profiles[0].size", "max (1) est inférieur à min (3)"),  # a range upside down
        ({"network": {"live": True, "scenario": "x.yaml"}},
         "network", "indiquer exactement l'un de 'scenario' (un fichier) ou 'live: true'"),
        ({"profiles": [{**SPEC["profiles"][0], "where": [{"department": "99"}]}]},
         "profiles[0].where[0].department", "code « 99 » inconnu pour fr"),  # not in the network
    ],
)  # fmt: skip
def test_a_french_reader_gets_the_stress_spec_problems_in_french(
    world: World, changes: dict[str, Any], field: str, french: str
):
    body = {**SPEC, **changes}
    r = world.call("analyst", "POST", "/stress?lang=fr", json=body)
    assert r.status_code == 422, r.text
    assert {"field": field, "problem": french} in r.json()["errors"], r.text
    english = world.call("analyst", "POST", "/stress", json=body).json()["errors"]
    assert all(e["problem"] != french for e in english)
