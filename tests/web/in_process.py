"""The service in the test process (FastAPI's test client) over a fresh demo network, for page
tests that need no browser, and the demo users' log-in through the log-in form."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.config import Settings
from api.demo import DEMO_PASSWORDS, seed_demo
from api.main import create_app


@contextmanager
def demo_client(directory: Path, **settings: Any) -> Iterator[TestClient]:
    """A test client of the service with the demo network in ``directory`` (seeding it takes
    seconds: a module shares one), with these settings."""
    app = create_app(Settings(db_path=directory / "web.db", **settings))
    seed_demo(app.state.engine)
    with TestClient(app) as client:
        yield client


def log_in(client: TestClient, handle: str, lang: str = "fr") -> None:
    """Log ``client`` in as the demo user ``handle``, its pages in ``lang``."""
    client.headers["Accept-Language"] = lang
    client.get("/app/login")
    answer = client.post(
        "/app/login",
        data={
            "handle": handle,
            "password": DEMO_PASSWORDS[handle],
            "csrf_token": client.cookies.get("placement_csrf") or "",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
