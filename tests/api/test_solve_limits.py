"""One limit on concurrent solves shared by plan jobs, what-ifs and re-plans, and a per-user
rate of solve requests; over either: 429 with Retry-After."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.auth import add_user
from api.config import Settings
from api.main import create_app
from api.services import whatif
from tests.api.builders import TINY_SCENARIO
from tests.api.builders import test_settings as quick_settings


@pytest.fixture
def limited(sqlite_template: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A service with 2 solver slots, a 0.2 s wait for one, 4 solve requests a minute."""
    db = tmp_path / "service.db"
    db.write_bytes(sqlite_template.read_bytes())
    settings = Settings(
        **quick_settings(
            db_path=db,
            concurrent_solves=2,
            solve_queue_seconds=0.2,
            solve_requests_per_minute=4,
        )
    )
    app = create_app(settings, run_migrations=False)
    with TestClient(app) as client:
        engine = app.state.engine
        headers = {
            h: {"Authorization": f"Bearer {add_user(engine, h, role)[1]}"}
            for h, role in (
                ("analyst", "analyst"),
                ("analyst2", "analyst"),
                ("coord", "coordinator"),
            )
        }
        yield {"client": client, "headers": headers, "app": app}


REAL_SOLVE = whatif.solve


class SlowSolve:
    """The solver, 1.5 s slower, counting how many solves run at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def __call__(self, scenario: Any, options: Any, **_kw: Any) -> Any:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(1.5)
        with self.lock:
            self.running -= 1
        return REAL_SOLVE(scenario, options, **_kw)


@pytest.mark.slow
def test_six_concurrent_what_ifs_run_at_most_two_solves(
    limited: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six analysts' what-ifs at once (the attack of issue 12 ran six solver processes):
    two solve, the others get 429 with Retry-After."""
    fake = SlowSolve()
    monkeypatch.setattr(whatif, "solve", fake)
    client: TestClient = limited["client"]
    users = ["analyst", "analyst2", "coord"] * 2

    def ask(who: str) -> Any:
        return client.post("/whatif", json=TINY_SCENARIO, headers=limited["headers"][who])

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(ask, users))
    codes = sorted(r.status_code for r in answers)
    assert fake.most == 2, fake.most
    busy = [r for r in answers if r.status_code == 429]
    assert len(busy) == 4 and codes[:2] == [200, 200], codes
    assert all(int(r.headers["Retry-After"]) >= 1 for r in busy)
    assert busy[0].json()["detail"] == "every solver slot is busy; try again shortly"


@pytest.mark.slow
def test_plan_jobs_and_what_ifs_share_the_slots(
    limited: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While plan jobs hold every slot, a what-if waits its 0.2 s and gets 429."""
    monkeypatch.setattr(whatif, "solve", SlowSolve())
    slots = limited["app"].state.runner.slots
    client: TestClient = limited["client"]
    with slots.held(None), slots.held(None):  # what two running plan jobs hold
        r = client.post("/whatif", json=TINY_SCENARIO, headers=limited["headers"]["analyst"])
        assert r.status_code == 429 and "Retry-After" in r.headers
    with slots.held(None):  # one left: the what-if runs
        r = client.post("/whatif", json=TINY_SCENARIO, headers=limited["headers"]["analyst"])
        assert r.status_code == 200, r.text


def test_solve_requests_past_the_rate_get_429(limited: dict[str, Any]) -> None:
    """Four plan requests a minute per user; the fifth says when to retry; another user is
    not affected."""
    client: TestClient = limited["client"]
    coord = limited["headers"]["coord"]
    codes = [client.post("/plans", json={}, headers=coord).status_code for _ in range(5)]
    assert codes[:4] != [429] * 4 and codes[4] == 429, codes
    r = client.post("/plans", json={}, headers=coord)
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.json()["errors"][0]["problem"].startswith("at most 4 a minute")
    other = client.post(
        "/whatif?solver=greedy", json=TINY_SCENARIO, headers=limited["headers"]["analyst"]
    )
    assert other.status_code == 200, other.text
