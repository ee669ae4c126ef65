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
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pytest_postgresql import factories

from api.auth import add_user
from api.config import Settings
from api.db import migrate
from api.main import create_app
from tests.api.builders import (
    CANARY_LAT,
    CANARY_LON,
    World,
    free_port,
    pg_admin,
    pg_url,
    shelter_doc,
    test_settings,
)

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


@pytest.fixture(scope="session")
def pg_template(pg_server: Any) -> str:
    """A migrated PostgreSQL template database."""
    pg_admin(
        pg_server,
        "DROP DATABASE IF EXISTS placement_template",
        "CREATE DATABASE placement_template",
    )
    migrate(pg_url(pg_server, "placement_template"))
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
    return Settings(**test_settings(database_url=pg_url(server, name)))


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


@pytest.fixture
def servers(settings: Settings) -> Iterator[list[str]]:
    """Two API processes on the test's database (starting; see ``wait_ready``)."""
    env = {**os.environ, "PLACEMENT_START_METHOD": "fork", "PLACEMENT_EXPLAIN_SECONDS": "1"}
    if settings.database_url:
        env["PLACEMENT_DATABASE_URL"] = settings.database_url
    else:
        env["PLACEMENT_DB_PATH"] = str(settings.db_path)
    procs, urls = [], []
    for _ in range(2):
        port = free_port()
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "api.main:app_from_env",
                    "--factory",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                ],
                env=env,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        yield urls
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)
