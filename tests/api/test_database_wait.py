"""The service holds the night on SQLite: reads do not wait for the write lock, and no
request waits for the database longer than ``db_wait_seconds`` (then 503 + Retry-After,
never a 500 after 30 s)."""

from __future__ import annotations

import shutil
import sqlite3
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
from tests.api.builders import shelter_doc
from tests.api.builders import test_settings as quick_settings

WAIT = 0.5  # db_wait_seconds of these tests
#: what a loaded shared 2-core machine may add to a request beyond its wait for the database
SLACK = 2.0


@pytest.fixture
def sqlite_world(sqlite_template: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A SQLite service with a short database wait, 20 shelters, and a token per role."""
    db = tmp_path / "service.db"
    shutil.copy(sqlite_template, db)
    settings = Settings(**quick_settings(db_path=db, db_wait_seconds=WAIT))
    app = create_app(settings, run_migrations=False)
    with TestClient(app) as client:
        engine = app.state.engine
        h = {}
        for handle, role in (("coord", "coordinator"), ("analyst", "analyst")):
            h[handle] = {"Authorization": f"Bearer {add_user(engine, handle, role)[1]}"}
        for i in range(20):
            doc = shelter_doc(f"S-{i:02d}", "29", location={"lat": 48.4, "lon": -4.5})
            assert client.post("/shelters", json=doc, headers=h["coord"]).status_code == 201
        token = add_user(engine, "mgr", "shelter_manager", ["S-00"])[1]
        h["mgr"] = {"Authorization": f"Bearer {token}"}
        # each token used once: its last use is noted (after the answer, at most every
        # few minutes), so the requests measured below write nothing but their own
        for headers in h.values():
            assert client.get("/me", headers=headers).status_code == 200
        yield {"client": client, "headers": h, "db": db}


def _timed(client: TestClient, method: str, url: str, **kw: Any) -> tuple[int, float, Any]:
    started = time.monotonic()
    r = client.request(method, url, **kw)
    return r.status_code, time.monotonic() - started, r


@pytest.mark.slow
def test_reads_answer_while_another_process_holds_the_write_lock(
    sqlite_world: dict[str, Any],
) -> None:
    client, h = sqlite_world["client"], sqlite_world["headers"]
    holder = sqlite3.connect(sqlite_world["db"], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another worker (or a backup) holds the write lock
    try:
        # reads that write nothing: answered at once, no wait for the lock
        for who, url in (("analyst", "/shelters"), ("analyst", "/stats"), ("coord", "/plans")):
            code, took, r = _timed(client, "GET", url, headers=h[who])
            assert code == 200, r.text
            assert took < WAIT, (url, took)
        # a write waits at most db_wait_seconds, then 503 with Retry-After (not a 500)
        body = {"capacity": 4}
        code, took, r = _timed(
            client, "PUT", "/shelters/S-00/availability", json=body, headers=h["mgr"]
        )
        assert code == 503, r.text
        assert int(r.headers["Retry-After"]) >= 1
        assert r.json()["detail"] == "the database is busy; try again shortly"
        assert WAIT * 0.9 <= took < WAIT + SLACK, took
        # a read of locations must be audited: it waits like a write, then 503
        code, took, r = _timed(client, "GET", "/shelters/S-00", headers=h["coord"])
        assert code == 503 and "Retry-After" in r.headers
        assert took < WAIT + SLACK
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    code, _, r = _timed(client, "PUT", "/shelters/S-00/availability", json=body, headers=h["mgr"])
    assert code == 200, r.text


@pytest.mark.slow
def test_concurrent_reads_and_writes_never_wait_past_the_limit(
    sqlite_world: dict[str, Any],
) -> None:
    """12 threads for 3 s: managers update places, coordinators list shelters and plans,
    analysts read /stats. Every answer is a 200 or a 503 with Retry-After, and none took
    longer than the database wait plus the machine's slack."""
    client, h = sqlite_world["client"], sqlite_world["headers"]
    mix = [
        ("mgr", "PUT", "/shelters/S-00/availability", {"json": {"capacity": 3}}),
        ("mgr", "GET", "/shelters/S-00", {}),
        ("coord", "GET", "/shelters", {}),
        ("coord", "GET", "/plans", {}),
        ("analyst", "GET", "/stats", {}),
        ("analyst", "GET", "/shelters", {}),
    ]
    results: list[tuple[str, int, float, bool]] = []
    lock = threading.Lock()
    stop = time.monotonic() + 3.0

    def user(n: int) -> None:
        i = n
        while time.monotonic() < stop:
            who, method, url, kw = mix[i % len(mix)]
            code, took, r = _timed(client, method, url, headers=h[who], **kw)
            with lock:
                results.append((url, code, took, "Retry-After" in r.headers))
            i += 1

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(user, range(12)))
    assert len(results) > 50
    bad = [r for r in results if r[1] not in (200, 503) or (r[1] == 503 and not r[3])]
    assert not bad, bad[:5]
    slowest = max(results, key=lambda r: r[2])
    assert slowest[2] < WAIT + SLACK, slowest
    writes = [r for r in results if r[0].endswith("availability")]
    assert any(code == 200 for _, code, _, _ in writes)


def test_each_write_gives_the_write_gate_back_committed_or_refused(
    sqlite_world: dict[str, Any],
) -> None:
    """Writers queue on ``api.write_gate``: a write that was refused (rolled back) or
    committed gives its turn back, so the next one is not kept waiting for ``WAIT``."""
    client, h = sqlite_world["client"], sqlite_world["headers"]
    url = "/shelters/S-00/availability"
    for body, expected in (({"capacity": 5}, 200), ({"capacity": -1}, 422), ({"capacity": 6}, 200)):
        code, took, r = _timed(client, "PUT", url, json=body, headers=h["mgr"])
        assert code == expected, r.text
        assert took < WAIT, took  # no wait for a turn a previous write kept


@pytest.mark.slow
def test_a_write_waits_for_another_process_turn_then_answers_503(
    sqlite_world: dict[str, Any],
) -> None:
    """Another process holding the write gate (the lock file beside the database) makes a
    write wait at most ``db_wait_seconds``, then 503 with Retry-After; once it lets go, the
    write goes through."""
    import fcntl
    import os

    client, h = sqlite_world["client"], sqlite_world["headers"]
    path = f"{sqlite_world['db']}-writer"
    held_r, held_w = os.pipe()  # the other process says it holds the turn
    go_r, go_w = os.pipe()  # and waits for the word to let go
    pid = os.fork()
    if pid == 0:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(held_w, b"held")
        os.read(go_r, 1)
        os._exit(0)
    try:
        assert os.read(held_r, 4) == b"held"
        body = {"capacity": 4}
        url = "/shelters/S-00/availability"
        code, took, r = _timed(client, "PUT", url, json=body, headers=h["mgr"])
        assert code == 503 and int(r.headers["Retry-After"]) >= 1, r.text
        assert WAIT * 0.9 <= took < WAIT + SLACK, took
    finally:
        os.write(go_w, b"x")
        os.waitpid(pid, 0)
    code, _, r = _timed(client, "PUT", url, json=body, headers=h["mgr"])
    assert code == 200, r.text
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"


def test_a_connection_dropped_in_a_write_does_not_keep_the_write_gate(
    sqlite_world: dict[str, Any],
) -> None:
    client, h = sqlite_world["client"], sqlite_world["headers"]
    engine = client.app.state.engine  # type: ignore[attr-defined]
    conn = engine.connect()
    conn.begin()  # a writer takes the gate (BEGIN IMMEDIATE) ...
    conn.invalidate()  # ... and its connection is dropped, its transaction never ended
    code, took, r = _timed(
        client, "PUT", "/shelters/S-00/availability", json={"capacity": 5}, headers=h["mgr"]
    )
    assert code == 200, r.text
    assert took < WAIT, took
