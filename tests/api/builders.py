"""Builders of the service tests: settings, documents, a small world of users, operations,
and polling a plan job. Imported by the tests (``from tests.api.builders import ...``); the
fixtures stay in conftest.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from fastapi.testclient import TestClient

from api.config import Settings

#: a place that must never reach a role that may not see it
CANARY_LAT, CANARY_LON = 47.613579, -2.468024
DANGER_LAT, DANGER_LON = 48.917531, 2.357913
CANARIES = ("47.613579", "-2.468024", "48.917531", "2.357913")


def test_settings(**changes: Any) -> dict[str, Any]:
    """Settings suited to quick tests."""
    return {
        "start_method": "fork",
        "explain_seconds": 2.0,
        "default_solve_seconds": 5.0,
        "max_solve_seconds": 20.0,
        "solve_grace_seconds": 2.0,
        "waitlist_after_change_seconds": 0.0,
        "solve_requests_per_minute": 10_000,
        **changes,
    }


def pg_url(proc: Any, dbname: str) -> str:
    return f"postgresql+psycopg://{proc.user}@{proc.host}:{proc.port}/{dbname}"


def pg_admin(proc: Any, *statements: str) -> None:
    """Run statements on the server's ``postgres`` database, outside a transaction."""
    with psycopg.connect(
        host=proc.host, port=proc.port, user=proc.user, dbname="postgres", autocommit=True
    ) as conn:
        for sql in statements:
            conn.execute(sql)


@dataclass
class World:
    """A small network and one user of each kind, with bearer headers."""

    client: TestClient
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_(self, who: str) -> dict[str, str]:
        """Authorization headers of ``who``."""
        return self.headers[who]

    def call(self, who: str | None, method: str, url: str, **kw: Any) -> Any:
        """A request as ``who`` (None: no token)."""
        headers = self.headers[who] if who else {}
        return self.client.request(method, url, headers=headers, **kw)


def shelter_doc(sid: str, department: str, **kw: Any) -> dict[str, Any]:
    """A shelter in the scenario format."""
    return {
        "id": sid,
        "department": department,
        "accepts": ["woman"],
        "languages": ["fr", "en"],
        "capacity": 2,
        **kw,
    }


def arrival_doc(aid: str, **kw: Any) -> dict[str, Any]:
    """An arrival in the scenario format (danger from the operation)."""
    return {"id": aid, "gender": "woman", "languages": ["en"], **kw}


def make_operation(w: World, reference: str = "OP-1", date: str = "2026-12-01") -> int:
    """An operation in Seine-Saint-Denis with a danger coordinate (a canary)."""
    r = w.call(
        "coord",
        "POST",
        "/operations",
        json={
            "reference": reference,
            "date": date,
            "danger": [{"department": "93", "lat": DANGER_LAT, "lon": DANGER_LON}],
        },
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


TINY_SCENARIO: dict[str, Any] = {
    "name": "tiny",
    "start": "2026-12-01",
    "horizon_days": 10,
    "shelters": [
        {"id": "S-lyon", "department": "69", "accepts": ["woman"], "capacity": 2},
        {"id": "S-lille", "department": "59", "accepts": ["man"], "capacity": 3},
    ],
    "arrivals": [
        {"id": "A1", "gender": "woman", "languages": ["en"], "danger": [{"department": "93"}]},
        {"id": "A2", "gender": "man", "languages": ["ro"], "danger": [{"department": "93"}]},
    ],
}


def wait_plan(w: World, plan_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll the plan job until it finishes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = w.call("coord", "GET", f"/plans/{plan_id}")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if body["status"] not in ("queued", "running", "cancelling"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"plan {plan_id} did not finish in {timeout}s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(urls: list[str]) -> None:
    """Wait until every API process answers."""
    deadline = time.monotonic() + 30
    for url in urls:
        while True:
            try:
                if httpx.get(f"{url}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the API processes did not start"
            time.sleep(0.1)


def users_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """``placement users ...`` as an operator runs it, on the test's database."""
    env = dict(os.environ)
    if settings.database_url:
        env["PLACEMENT_DATABASE_URL"] = settings.database_url
    else:
        env["PLACEMENT_DB_PATH"] = str(settings.db_path)
    return subprocess.run(
        [sys.executable, "-m", "cli", "users", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
