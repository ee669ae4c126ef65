"""The OpenAPI document is the truth: schemathesis generates requests from it against a
running service, as a coordinator and as a shelter manager, with every check, and finds no
failure (undocumented status codes, error bodies or headers that differ from the document,
data the schema refuses being accepted, schema-valid data refused, 405 without the right
``Allow``, 5xx...).

Bounded: a few examples per operation, no shrinking, a time budget per role.

What a JSON Schema cannot say goes through schemathesis's documented mechanisms
(``schemathesis_hooks.py``): registered language tags are a string format; a 422 whose
problems all fall under a rule the operation documents (``x-rules``: ``to`` after ``from``,
``age_max`` not below ``age_min``...) is not a failure of ``positive_data_acceptance``.
``use_after_free`` runs, except on the reads of what a DELETE withdraws, which stay readable
by design: ``schemathesis.toml`` beside this file says why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.auth import add_user
from api.config import Settings
from api.main import create_app
from tests.api.builders import free_port, shelter_doc, wait_ready
from tests.api.builders import test_settings as quick_settings

EXAMPLES = 5
SECONDS_PER_ROLE = 40
CONFIG = Path(__file__).with_name("schemathesis.toml")
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
DROPPED = "PLACEMENT_CONTRACT_EXCUSED"  # the hooks' list of what x-rules excused


@pytest.fixture(scope="module")
def contract_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running SQLite service with two shelters, a coordinator and the manager of one."""
    db = tmp_path_factory.mktemp("contract") / "service.db"
    fast = {
        "default_solve_seconds": 1.0,
        "max_solve_seconds": 2.0,
        "explain_seconds": 0.5,
        "solve_requests_per_minute": 10_000,
    }
    app = create_app(Settings(**quick_settings(db_path=db, **fast)))
    tokens = {}
    with TestClient(app) as client:
        engine = app.state.engine
        tokens["coordinator"] = add_user(engine, "coord", "coordinator")[1]
        coord = {"Authorization": f"Bearer {tokens['coordinator']}"}
        for doc in (shelter_doc("S-BREST", "29"), shelter_doc("S-LYON", "69")):
            assert client.post("/shelters", json=doc, headers=coord).status_code == 201
        tokens["shelter_manager"] = add_user(engine, "mgr", "shelter_manager", ["S-BREST"])[1]
    env = {**os.environ, "PLACEMENT_DB_PATH": str(db)}
    env.update({f"PLACEMENT_{k.upper()}": str(v) for k, v in {**quick_settings(), **fast}.items()})
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "api.main:app_from_env", "--factory"]
    server = subprocess.Popen([*command, "--port", str(port), "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready([url])
        yield {"url": url, "tokens": tokens}
    finally:
        server.terminate()
        server.wait(timeout=10)


def _schemathesis(
    server: dict[str, Any], role: str, report: Path, dropped: Path
) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{server['url']}/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {server['tokens'][role]}",
        "--max-examples",
        str(EXAMPLES),
        "--max-time",
        str(SECONDS_PER_ROLE),
        "--no-shrink",
        "--seed",
        "12",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS), DROPPED: str(dropped)}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=SECONDS_PER_ROLE * 3, env=env
    )


@pytest.mark.slow
@pytest.mark.parametrize("role", ["coordinator", "shelter_manager"])
def test_schemathesis_finds_no_failure(
    contract_server: dict[str, Any], role: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    dropped = tmp_path / "dropped.txt"
    done = _schemathesis(contract_server, role, tmp_path / "junit.xml", dropped)
    # what the documented rules excused, for the reader of -s (not an assertion)
    excused = sorted(set(dropped.read_text().splitlines())) if dropped.exists() else []
    print(f"{role}: 422s excused by x-rules:", *excused, sep="\n  ")
    summary = done.stdout[done.stdout.rfind("SUMMARY") :]
    failures = done.stdout[max(0, done.stdout.find("=== FAILURES")) :]
    assert done.returncode == 0, failures[:8000] + "\n...\n" + summary
    assert "Tested: " in summary and " generated" in summary, summary
    assert time.monotonic() - started < SECONDS_PER_ROLE * 2
    assert httpx.get(f"{contract_server['url']}/openapi.json").status_code == 200
