"""The night's load on the placement service (Locust): shelter managers read their shelter
and update its places, coordinators list shelters and read plans (and now and then ask for
one), analysts read ``/stats``. Tokens come from the JSON file ``PLACEMENT_LOAD_TOKENS``
written by ``bench_load.py``.

A 503 or 429 with ``Retry-After`` is the service shedding load as designed: counted apart
("shed"), not as a failure; any other non-2xx answer, a 5xx or a timeout is a failure.

Beside Locust's own (client-side) times, the service's own time for each answer (its
``Server-Timing`` header, ``api.timing``) is kept per request name and written with the
shed count to ``PLACEMENT_LOAD_SHED``: when the load generator shares the service's cores,
the two tell apart the service's latency and the machine's queueing. So are every request's
start time, name, time and outcome, and the time the last user was spawned, so that the
benchmark reports the steady state apart from the users' arrival (``bench_load.steady``).
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, between, events, task

TOKENS: dict[str, Any] = json.loads(Path(os.environ["PLACEMENT_LOAD_TOKENS"]).read_text())
SHED: dict[str, int] = {"count": 0}
#: the service's own milliseconds per answer (Server-Timing), by request name
SERVER_MS: dict[str, list[float]] = {}
#: every request: start time (epoch s), name, Locust's milliseconds, failed
REQUESTS: list[tuple[float, str, float, bool]] = []
#: when every user had been spawned (epoch s)
SPAWNED: dict[str, float] = {}
#: a user's think time between two requests, seconds (``bench_load.SETTLE_SECONDS``: the
#: longest)
THINK_SECONDS = (1.0, 2.0)


def _server_ms(name: str, response: Any) -> None:
    timing = response.headers.get("Server-Timing", "")
    if "dur=" in timing:
        SERVER_MS.setdefault(name, []).append(float(timing.split("dur=")[1].split(",")[0]))


def _check(response: Any) -> None:
    if response.status_code in (429, 503) and "Retry-After" in response.headers:
        SHED["count"] += 1
        response.success()
    elif response.status_code >= 400:
        response.failure(f"{response.status_code}: {response.text[:200]}")


class Night(HttpUser):
    """Base: a user with a bearer token and the think time of a person on a phone."""

    abstract = True
    wait_time = between(*THINK_SECONDS)
    token = ""

    def on_start(self) -> None:
        # Locust starts each second's users at the same instant (``--spawn-rate`` of them),
        # and each would send its first request in the same millisecond as the others: a
        # user first waits a random part of a think time, as people who open the app in the
        # same second do (``PLACEMENT_LOAD_IN_STEP=1``: not, to measure that burst)
        if not os.environ.get("PLACEMENT_LOAD_IN_STEP"):
            gevent.sleep(random.uniform(0, THINK_SECONDS[1]))

    def call(self, method: str, url: str, name: str, **kw: Any) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with self.client.request(
            method, url, name=name, headers=headers, catch_response=True, timeout=60, **kw
        ) as response:
            _server_ms(name, response)
            _check(response)


class Manager(Night):
    """A shelter manager: reads the shelter, updates its places (the waiting list is then
    retried, so places that free up are offered to people waiting)."""

    weight = 6

    def on_start(self) -> None:
        self.token, self.shelter = random.choice(TOKENS["managers"])
        super().on_start()

    @task(3)
    def read_shelter(self) -> None:
        self.call("GET", f"/shelters/{self.shelter}", "GET /shelters/{id}")

    @task(1)
    def update_places(self) -> None:
        body = {"capacity": random.randint(4, 8)}
        self.call("PUT", f"/shelters/{self.shelter}/availability", "PUT availability", json=body)


class Coordinator(Night):
    """A national coordinator: lists shelters, follows plans, asks for one now and then."""

    weight = 3

    def on_start(self) -> None:
        self.token = random.choice(TOKENS["coordinators"])
        super().on_start()

    @task(4)
    def list_shelters(self) -> None:
        self.call("GET", "/shelters?limit=1000", "GET /shelters")

    @task(2)
    def list_plans(self) -> None:
        self.call("GET", "/plans?limit=20", "GET /plans")

    @task(2)
    def read_plan(self) -> None:
        self.call("GET", f"/plans/{TOKENS['plan']}", "GET /plans/{id}")

    @task(1)
    def waiting_list(self) -> None:
        self.call("GET", "/arrivals?status=waiting&limit=100", "GET /arrivals")

    @task(1)
    def ask_for_a_plan(self) -> None:
        if random.random() < 0.05:  # an occasional plan job
            body = {"operation_id": TOKENS["operation"], "time_limit": 2, "explain": False}
            self.call("POST", "/plans", "POST /plans", json=body)


class Analyst(Night):
    """An analyst: aggregates only."""

    weight = 1

    def on_start(self) -> None:
        self.token = random.choice(TOKENS["analysts"])
        super().on_start()

    @task
    def stats(self) -> None:
        self.call("GET", "/stats", "GET /stats")


@events.request.add_listener
def _record(
    name: str,
    response_time: float,
    start_time: float | None = None,
    exception: Any = None,
    **_kw: Any,
) -> None:
    started = start_time if start_time is not None else time.time() - response_time / 1000
    REQUESTS.append((started, name, response_time, exception is not None))


@events.spawning_complete.add_listener
def _spawned(**_kw: Any) -> None:
    SPAWNED["at"] = time.time()


@events.test_stop.add_listener
def _report(environment: Any, **_kw: Any) -> None:
    path = os.environ.get("PLACEMENT_LOAD_SHED")
    if path:
        with open(path, "w") as f:
            json.dump({**SHED, "server_ms": SERVER_MS, "requests": REQUESTS, **SPAWNED}, f)
