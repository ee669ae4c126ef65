"""Files with case data are owner-only; ``placement backup`` takes a consistent copy of the
SQLite database while the service writes, and the copy restores; demo ids say nothing about
where a shelter is."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.auth import add_user
from api.config import Settings
from api.demo import seed_demo
from api.main import create_app
from api.tables import ShelterRow
from tests.api.builders import shelter_doc
from tests.api.builders import test_settings as quick_settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _backup(db: Path, destination: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PLACEMENT_DB_PATH": str(db)}
    env.pop("PLACEMENT_DATABASE_URL", None)
    command = [sys.executable, "-m", "cli", "backup", str(destination)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def test_sqlite_files_are_created_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    app = create_app(Settings(**quick_settings(db_path=db)))
    with TestClient(app):
        add_user(app.state.engine, "coord", "coordinator")  # something written: WAL in use
        files = [p for p in tmp_path.iterdir() if p.name.startswith("fresh.db")]
        assert {p.name for p in files} >= {"fresh.db", "fresh.db-wal"}
        assert all(_mode(p) == 0o600 for p in files), {p.name: oct(_mode(p)) for p in files}


@pytest.mark.slow
def test_backup_while_writing_is_consistent_and_restores(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    app = create_app(Settings(**quick_settings(db_path=db)))
    with TestClient(app) as client:
        coord = {"Authorization": f"Bearer {add_user(app.state.engine, 'coord', 'coordinator')[1]}"}
        stop = threading.Event()
        created = []

        def writer() -> None:
            n = 0
            while not stop.is_set():
                r = client.post("/shelters", json=shelter_doc(f"S-{n:04d}", "29"), headers=coord)
                assert r.status_code == 201, r.text
                created.append(n)
                n += 1

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            while len(created) < 20:
                time.sleep(0.01)
            done = _backup(db, tmp_path / "copy.db")
        finally:
            stop.set()
            thread.join()
    assert done.returncode == 0, done.stderr
    copy = tmp_path / "copy.db"
    assert _mode(copy) == 0o600
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copied = conn.execute("SELECT count(*) FROM shelters").fetchone()[0]
        updates = conn.execute("SELECT count(*) FROM shelter_updates").fetchone()[0]
    assert 20 <= copied <= len(created)
    assert updates == copied  # each shelter with its creation record: one snapshot

    # restore: the copy becomes the database of a new service, which serves it
    restored = tmp_path / "restored.db"
    restored.write_bytes(copy.read_bytes())
    os.chmod(restored, 0o600)
    app = create_app(Settings(**quick_settings(db_path=restored)))
    with TestClient(app) as client:
        r = client.get("/shelters?limit=1000", headers=coord)
        assert r.status_code == 200, r.text
        assert len(r.json()) == copied


def test_backup_refuses_to_overwrite(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    create_app(Settings(**quick_settings(db_path=db)))
    (tmp_path / "taken.db").write_text("keep me")
    done = _backup(db, tmp_path / "taken.db")
    assert done.returncode == 2 and "exists" in done.stderr
    assert (tmp_path / "taken.db").read_text() == "keep me"


def test_demo_shelter_ids_carry_no_location(tmp_path: Path) -> None:
    app = create_app(Settings(**quick_settings(db_path=tmp_path / "demo.db")))
    seed_demo(app.state.engine)
    with Session(app.state.engine) as session:
        rows = session.exec(select(ShelterRow)).all()
    assert len(rows) == 18
    for row in rows:
        department = row.data["department"]
        assert department not in row.id.split("-"), row.id
        assert not row.id.removeprefix("SH-").startswith(department), row.id
