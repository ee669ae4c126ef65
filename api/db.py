"""Database engines for SQLite (WAL, ``BEGIN IMMEDIATE``) and PostgreSQL (row locks).

On SQLite every transaction starts with ``BEGIN IMMEDIATE``: it takes the write lock at
once, so two API worker processes can never interleave a capacity check and a write. On
PostgreSQL the writers that touch places lock the shelter rows (``SELECT ... FOR UPDATE``,
in id order) before they read anything, and deadlocks or serialization failures are retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import create_engine

from api.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock


def make_engine(settings: Settings) -> Engine:
    """An engine for the configured database, with the locking behaviour described above."""
    url = settings.url()
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (the driver's own is DEFERRED).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def is_retryable(error: DBAPIError) -> bool:
    """A transient conflict that a retry of the whole transaction resolves."""
    code = getattr(error.orig, "sqlstate", None)
    if code in RETRY_SQLSTATES:
        return True
    return "database is locked" in str(error.orig)


def with_retry(fn: Callable[[], T], attempts: int = 6) -> T:
    """Run a whole transaction, retrying it on deadlock / serialization failure."""
    for attempt in range(attempts):
        try:
            return fn()
        except DBAPIError as e:
            if attempt == attempts - 1 or not is_retryable(e):
                raise
            log.info("transaction conflict (%s); retrying", type(e.orig).__name__)
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the latest schema (Alembic ``upgrade head``)."""
    from pathlib import Path

    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["url"] = url
    command.upgrade(cfg, "head")
