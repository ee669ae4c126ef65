"""Fixtures of the service tests: one fresh database per test, on SQLite and on PostgreSQL.

PostgreSQL is a real server started by pytest-postgresql (``postgresql_proc``) from the
Debian binaries under /usr/lib/postgresql/*/bin. Without them the PostgreSQL half of the
suite is skipped, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from pytest_postgresql import factories

from api.auth import add_user
from api.config import Settings
from api.db import migrate
from api.main import create_app

HERE = Path(__file__).parent
#: where the Debian packages put pg_ctl (overridable to check the CI=true failure)
PG_CTL_GLOB = os.environ.get("PLACEMENT_TEST_PG_CTL_GLOB", "/usr/lib/postgresql/*/bin/pg_ctl")
PG_CTLS = sorted(glob.glob(PG_CTL_GLOB))
if PG_CTLS:
    os.environ.setdefault("PLACEMENT_TEST_PG_CTL", PG_CTLS[-1])

postgresql_proc = factories.postgresql_proc(
    # the Debian pg_ctl, through a wrapper that drops root privileges when needed
    executable=str(HERE / "pg_ctl_as_postgres.sh") if PG_CTLS else None,
)

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
        **changes,
    }


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database that each test copies."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_server(request: pytest.FixtureRequest) -> Any:
    """The PostgreSQL server (skipped without the binaries, failed under CI=true)."""
    if not PG_CTLS:
        message = f"PostgreSQL binaries not found ({PG_CTL_GLOB}); `make postgres` installs them"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: the PostgreSQL run is required)")
        pytest.skip(message)
    return request.getfixturevalue("postgresql_proc")


_counter = itertools.count()


def _pg_url(proc: Any, dbname: str) -> str:
    return f"postgresql+psycopg://{proc.user}@{proc.host}:{proc.port}/{dbname}"


def pg_admin(proc: Any, *statements: str) -> None:
    """Run statements on the server's ``postgres`` database, outside a transaction."""
    with psycopg.connect(
        host=proc.host, port=proc.port, user=proc.user, dbname="postgres", autocommit=True
    ) as conn:
        for sql in statements:
            conn.execute(sql)


@pytest.fixture(scope="session")
def pg_template(pg_server: Any) -> str:
    """A migrated PostgreSQL template database."""
    pg_admin(
        pg_server,
        "DROP DATABASE IF EXISTS placement_template",
        "CREATE DATABASE placement_template",
    )
    migrate(_pg_url(pg_server, "placement_template"))
    return "placement_template"


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings pointing at a fresh, migrated database of each kind."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        shutil.copy(template, tmp_path / "service.db")
        return Settings(**test_settings(db_path=tmp_path / "service.db"))
    template = request.getfixturevalue("pg_template")
    server = request.getfixturevalue("pg_server")
    name = f"t{os.getpid()}_{next(_counter)}"
    pg_admin(server, f"CREATE DATABASE {name} TEMPLATE {template}")
    return Settings(**test_settings(database_url=_pg_url(server, name)))


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


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A client of a fresh service."""
    app = create_app(settings, run_migrations=False)
    with TestClient(app) as c:
        yield c


@pytest.fixture
def world(client: TestClient) -> World:
    """Coordinator, analyst, two shelters (one with the canary location) and their managers."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    w = World(client)
    for handle, role in (("coord", "coordinator"), ("analyst", "analyst")):
        w.headers[handle] = {"Authorization": f"Bearer {add_user(engine, handle, role)[1]}"}
    shelters = [
        shelter_doc("S-BREST", "29", location={"lat": CANARY_LAT, "lon": CANARY_LON}),
        shelter_doc("S-LYON", "69", children=True, capacity=3),
    ]
    for doc in shelters:
        r = client.post("/shelters", json=doc, headers=w.headers["coord"])
        assert r.status_code == 201, r.text
    for handle, sid in (("mgr_brest", "S-BREST"), ("mgr_lyon", "S-LYON")):
        token = add_user(engine, handle, "shelter_manager", [sid])[1]
        w.headers[handle] = {"Authorization": f"Bearer {token}"}
    return w


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
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = w.call("coord", "GET", f"/plans/{plan_id}")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if body["status"] not in ("queued", "running", "cancelling"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"plan {plan_id} did not finish in {timeout}s")
