"""Stress jobs in the service: analysts and coordinators start one on the live network and
watch it; results are aggregates, and analysts see no location."""

from __future__ import annotations

import time
from typing import Any

import pytest

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


@pytest.mark.slow
def test_a_stress_job_can_be_stopped(world: World):
    r = world.call("coord", "POST", "/stress", json={**SPEC, "draws": 2000})
    assert r.status_code == 202, r.text
    assert world.call("coord", "DELETE", f"/stress/{r.json()['id']}").status_code == 200
    assert _wait(world, "coord", r.json()["id"])["status"] == "stopped"


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
