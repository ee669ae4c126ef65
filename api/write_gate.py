"""SQLite's write lock, queued for instead of polled.

SQLite lets one writer at a time in, and a writer that finds the lock taken sleeps and tries
again, each sleep longer than the last (1, 2, 5, 10 ... 100 ms). Under a night's load, with
a write in a third of the requests (capacity updates, and the audit record of every read of
case data), the writers of two API processes kept missing each other's commits and slept:
one write in twelve waited 70 ms on average and up to 340 ms, with the lock free most of
that time (``benchmarks/load/bench_load.py``, 100 users).

``WriteGate`` is taken before ``BEGIN IMMEDIATE`` and given back once the transaction has
ended, so that only one writer at a time asks SQLite: the threads of a process queue on a
lock (woken the moment it is free), and the processes on the same database on an advisory
lock of a file beside it (``<database>-writer``), tried every half millisecond by the one
thread of each process at the head of its queue. A writer that cannot have the gate within
``db_wait_seconds`` gets ``GateTimeout``: the service answers 503 with ``Retry-After``, as
for any wait for the database that ran out.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time

from sqlalchemy.exc import TimeoutError as PoolTimeout

#: how often the head of a process's queue tries the lock shared with other processes
FILE_LOCK_POLL_SECONDS = 0.0005
#: the mode of the lock file (it holds nothing, but sits beside case data)
LOCK_FILE_MODE = 0o600


class GateTimeout(PoolTimeout):
    """The write gate was not had within the wait allowed (``api.db.is_busy``: a 503)."""


class WriteGate:
    """One writer at a time on a SQLite database, across the threads of this process and
    the processes using the same file."""

    def __init__(self, database: str, wait_seconds: float) -> None:
        self.path = f"{database}-writer"
        self.wait_seconds = wait_seconds
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def acquire(self) -> None:
        """Wait for the gate (``GateTimeout`` after ``wait_seconds``)."""
        deadline = time.monotonic() + self.wait_seconds
        if not self._threads.acquire(timeout=self.wait_seconds):
            raise GateTimeout("no write turn within the wait allowed")
        try:
            self._lock_file(deadline)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        """Give the gate back (the transaction has ended)."""
        try:
            fcntl.flock(self._file(), fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _lock_file(self, deadline: float) -> None:
        fd = self._file()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise GateTimeout("no write turn within the wait allowed") from None
                time.sleep(FILE_LOCK_POLL_SECONDS)

    def _file(self) -> int:
        """This process's descriptor of the lock file (a process made by fork opens its
        own: advisory locks belong to the open file, which fork shares)."""
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_CREAT | os.O_RDWR, LOCK_FILE_MODE)
            self._pid = os.getpid()
        return self._fd
