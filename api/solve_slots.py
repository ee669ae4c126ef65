"""Limits on solving: one set of slots per API process shared by plan jobs, what-ifs and
re-plans, and a per-user rate of solve requests. Over a limit: ``TooMany`` (429 with
``Retry-After``).

Both are per API process: with ``--workers N`` the service runs at most N times
``concurrent_solves`` solves at once, and a user may make N times the rate if the proxy
spreads the requests (the documented setting for a national service is several workers, so
size ``PLACEMENT_CONCURRENT_SOLVES`` per worker: the machine's cores divided by the workers).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from api.domain_errors import TooMany
from placement.i18n import N_
from placement.text import message

ALL_BUSY = N_("every solver slot is busy; try again shortly")
TOO_OFTEN = N_("too many solve requests")
WINDOW_SECONDS = 60.0


class SolveSlots:
    """At most ``size`` solves at once in this process (plan jobs, what-ifs, re-plans)."""

    def __init__(self, size: int, retry_after: float) -> None:
        self.size = size
        self.retry_after = retry_after
        self._free = threading.BoundedSemaphore(size)

    @contextmanager
    def held(self, wait: float | None) -> Iterator[None]:
        """Hold a slot for the block: wait at most ``wait`` seconds (None: as long as it
        takes), else ``TooMany``."""
        if not self._free.acquire(timeout=wait):
            raise TooMany(message(ALL_BUSY), self.retry_after, [("request", message(ALL_BUSY))])
        try:
            yield
        finally:
            self._free.release()

    @contextmanager
    def if_free(self) -> Iterator[bool]:
        """Hold a slot for the block if one is free now; say whether it was."""
        got = self._free.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                self._free.release()


class SolveRate:
    """At most ``per_minute`` solve requests per user in any minute (this process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._calls: dict[int, deque[float]] = {}
        self._lock = threading.Lock()

    def count(self, user_id: int, now: float | None = None) -> None:
        """Count a request of ``user_id``; ``TooMany`` (saying when to retry) past the rate."""
        now = time.monotonic() if now is None else now
        with self._lock:
            calls = self._calls.setdefault(user_id, deque())
            while calls and calls[0] <= now - WINDOW_SECONDS:
                calls.popleft()
            if len(calls) >= self.per_minute:
                wait = math.ceil(calls[0] + WINDOW_SECONDS - now)
                problem = message(
                    "at most {most} a minute; retry in {seconds} s",
                    most=str(self.per_minute),
                    seconds=str(wait),
                )
                raise TooMany(message(TOO_OFTEN), wait, [("request", problem)])
            calls.append(now)
