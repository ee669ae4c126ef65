"""Database engines for SQLite (WAL) and PostgreSQL (row locks), and how long a request waits.

Reads do not take the write lock. A session on ``reading(engine)`` begins its transactions
in SQLite's default (deferred) mode: in WAL mode any number of them read alongside the one
writer. Every other transaction on SQLite starts with ``BEGIN IMMEDIATE``: it takes the
write lock at once, so two API worker processes can never interleave a capacity check and a
write; a request session that writes calls ``begin_write`` first, and writers queue for
their turn on an ``api.write_gate.WriteGate`` rather than polling SQLite's lock. On
PostgreSQL the writers that touch places lock the shelter rows (``SELECT ... FOR UPDATE``,
in id order) before they read anything, and deadlocks or serialization failures are
retried.

No request waits for the database longer than ``Settings.db_wait_seconds``: SQLite's busy
timeout, PostgreSQL's ``lock_timeout`` and the connection pool's timeout are all set to it,
and ``is_busy`` tells the error handler that such a wait ran out (a 503 with
``Retry-After``, never a 500 after 30 s).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, create_engine

from api.config import Settings
from api.write_gate import WriteGate

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock
BUSY_SQLSTATES = {"55P03", "57014"}  # lock_not_available (lock_timeout), query_canceled
#: the execution option that makes a SQLite transaction deferred (a reader)
READ_ONLY = "placement_read_only"
#: files holding case data and token hashes: readable and writable by their owner only
PRIVATE_FILE_MODE = 0o600


def make_engine(settings: Settings) -> Engine:
    """An engine for the configured database, with the locking behaviour described above."""
    url = settings.url()
    wait_ms = int(settings.db_wait_seconds * 1000)
    pool = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_pool_size,
        "pool_timeout": settings.db_wait_seconds,
    }
    if not url.startswith("sqlite"):
        return create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"options": f"-c lock_timeout={wait_ms}"},
            **pool,
        )
    if settings.database_url is None:
        private_file(settings.db_path)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": settings.db_wait_seconds},
        **pool,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (the driver's own is DEFERRED).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={wait_ms}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    database = engine.url.database
    gate = None
    if database not in (None, "", ":memory:"):
        gate = WriteGate(database, settings.db_wait_seconds)
        _give_back_on_end(engine)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY, False):
            conn.exec_driver_sql("BEGIN")
            return
        if gate is not None:
            gate.acquire()
            conn.info[GATE_HELD] = gate
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # the gate is given back when it ends

    return engine


def _give_back_on_end(engine: Engine) -> None:
    """The write gate a transaction holds is given back when it ends: committed, rolled
    back, or its connection given back to the pool or dropped without either."""

    @event.listens_for(engine, "commit")
    def _on_commit(conn: Any) -> None:
        _end_writer(conn, commit=True)

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Any) -> None:
        _end_writer(conn, commit=False)

    @event.listens_for(engine.pool, "checkin")
    @event.listens_for(engine.pool, "invalidate")
    def _on_release(_dbapi_connection: Any, record: Any, *_exception: Any) -> None:
        held = record.info.pop(GATE_HELD, None)
        if held is not None:
            held.release()


#: where a SQLite connection keeps the ``WriteGate`` its open transaction holds
GATE_HELD = "placement_write_gate"


def _end_writer(conn: Any, commit: bool) -> None:
    """End the transaction that holds the write gate, then give the gate back: the next
    writer then finds SQLite's lock free. A commit that fails here is left to SQLAlchemy's
    own commit, which follows this event and reports the error as usual."""
    gate = conn.info.pop(GATE_HELD, None)
    if gate is None:
        return
    dbapi = conn.connection.dbapi_connection
    try:
        dbapi.commit() if commit else dbapi.rollback()
    except sqlite3.Error as e:
        log.info("ending a write transaction: %s (left to the caller)", e)
    finally:
        gate.release()


def private_file(path: os.PathLike[str] | str) -> None:
    """Create ``path`` (and SQLite's ``-wal`` and ``-shm`` files) readable by its owner only,
    or make them so: they hold case data and token hashes."""
    for name in (str(path), f"{path}-wal", f"{path}-shm"):
        if name == str(path) and not os.path.exists(name):
            os.close(os.open(name, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE))
        if os.path.exists(name):
            os.chmod(name, PRIVATE_FILE_MODE)


class BackupError(ValueError):
    """A backup could not be taken; the message says why."""


def backup_sqlite(settings: Settings, destination: Path) -> int:
    """Copy the SQLite database to ``destination`` (a new, owner-only file) with SQLite's
    online backup: one consistent snapshot, taken while the service keeps reading and
    writing (WAL: the copy reads, it does not block writers). The number of pages copied."""
    if not settings.is_sqlite or settings.database_url:
        raise BackupError("the database is not the SQLite file: use pg_dump for PostgreSQL")
    if not settings.db_path.exists():
        raise BackupError(f"no database at {settings.db_path}")
    if destination.exists():
        raise BackupError(f"{destination} exists; give a new file")
    private_file(destination)
    source = sqlite3.connect(f"file:{settings.db_path}?mode=ro", uri=True)
    target = sqlite3.connect(destination)
    try:
        source.execute(f"PRAGMA busy_timeout={int(settings.db_wait_seconds * 1000)}")
        source.backup(target)
        pages = int(target.execute("PRAGMA page_count").fetchone()[0])
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        target.close()
        source.close()
    private_file(destination)
    return pages


def reading(engine: Engine) -> Engine:
    """The engine whose transactions read without taking the write lock (SQLite deferred)."""
    return engine.execution_options(**{READ_ONLY: True})


def request_session(engine: Engine) -> Session:
    """The one session of a request: it reads without the write lock; its rows stay loaded
    after a commit (the views read them after the transaction ended)."""
    return Session(reading(engine), expire_on_commit=False)


def begin_write(session: Session) -> None:
    """End the session's read transaction and begin a write transaction (SQLite: ``BEGIN
    IMMEDIATE``, which waits at most ``db_wait_seconds`` for the write lock). A read
    transaction must never be upgraded to a write on SQLite: it would fail at once as soon as
    another writer committed since it began."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("begin_write: changes were made in the read transaction")
    session.commit()
    session.connection(execution_options={READ_ONLY: False})


def is_retryable(error: DBAPIError) -> bool:
    """A transient conflict that a retry of the whole transaction resolves (PostgreSQL
    deadlocks and serialization failures; a lock wait that ran out is not retried)."""
    return getattr(error.orig, "sqlstate", None) in RETRY_SQLSTATES


def is_busy(error: BaseException) -> bool:
    """True when the database could not be had within ``db_wait_seconds``: a full pool,
    SQLite's busy timeout, or PostgreSQL's lock timeout."""
    if isinstance(error, PoolTimeout):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if getattr(error.orig, "sqlstate", None) in BUSY_SQLSTATES:
        return True
    return "database is locked" in str(error.orig)


#: how many times a write transaction is run before a conflict is given up
WRITE_ATTEMPTS = 6


def write(session: Session, work: Callable[[Session], T]) -> T:
    """Run ``work`` as a write transaction of ``session`` (``begin_write``) and commit it.

    The one place where writers are retried: on a deadlock or a serialization failure
    (PostgreSQL) the transaction is rolled back and ``work`` runs again on the same session,
    from the start, up to ``WRITE_ATTEMPTS`` times. ``work`` reads everything it decides on
    inside the transaction and never commits: the commit is this function's. Any other
    error rolls back and propagates.
    """
    for attempt in range(WRITE_ATTEMPTS):
        begin_write(session)
        try:
            result = work(session)
            session.commit()
            return result
        except DBAPIError as e:
            session.rollback()
            if attempt == WRITE_ATTEMPTS - 1 or not is_retryable(e):
                raise
            log.info("transaction conflict (%s); retrying", type(e.orig).__name__)
            time.sleep(0.05 * (attempt + 1))
        except BaseException:
            session.rollback()
            raise
    raise AssertionError("unreachable")


def transaction(engine: Engine, work: Callable[[Session], T]) -> T:
    """``write`` on a session of its own, for work outside a request (the scheduler, the
    waiting list retried after an answer was sent)."""
    with request_session(engine) as session:
        return write(session, work)


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the latest schema (Alembic ``upgrade head``)."""
    from pathlib import Path

    from alembic import command
    from alembic.config import Config

    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        private_file(url.removeprefix("sqlite:///"))
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["url"] = url
    command.upgrade(cfg, "head")
