"""A real Dask scheduler and two workers, each its own process on 127.0.0.1: a sweep runs
through them, and when one worker is killed mid-sweep the sweep still finishes, with the
same numbers as without a cluster."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from placement.models import Scenario
from stress.evaluate import solve_draw
from stress.report import summarise
from stress.run import Networks, run_stress
from stress.spec import spec_from_data
from stress.sweep import ClusterOptions, SweepProgress
from tests.stress.conftest import TINY_NETWORK, tiny_spec

DASK = str(Path(sys.executable).with_name("dask"))
DRAWS = 600


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start(*args: str) -> subprocess.Popen[bytes]:
    # A session of its own, so that killing it kills nothing else.
    return subprocess.Popen(
        [DASK, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_for_workers(address: str, count: int) -> None:
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(count, timeout=60)


@pytest.mark.slow
def test_sweep_survives_a_worker_killed_mid_sweep():
    address = f"tcp://127.0.0.1:{_free_port()}"
    port = address.rsplit(":", 1)[1]
    scheduler = _start("scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard")
    # No nanny: a killed worker stays dead instead of being restarted.
    common = ["--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"]
    workers = [_start("worker", address, "--name", f"w{i}", *common) for i in (1, 2)]
    try:
        _wait_for_workers(address, 2)
        spec = spec_from_data(tiny_spec(draws=DRAWS))
        network = Scenario.model_validate(TINY_NETWORK)
        killed_at: list[int] = []

        def kill_one(event: SweepProgress) -> None:
            if not killed_at and event.done >= DRAWS // 4:
                os.killpg(workers[0].pid, signal.SIGKILL)
                killed_at.append(event.done)

        report = run_stress(spec, Networks(network), ClusterOptions(address=address), kill_one)
        assert killed_at and killed_at[0] < DRAWS  # killed while draws were left
        assert workers[0].wait(timeout=10) == -signal.SIGKILL
        assert report.timing is not None and report.timing.workers == 1  # the survivor
        expected = summarise(
            network, spec.name, spec.seed, [solve_draw(network, spec, i) for i in range(DRAWS)]
        )
        assert report.numbers() == expected.numbers()
        assert report.all_placed.low <= 2 / 3 <= report.all_placed.high
    finally:
        for process in [*workers, scheduler]:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
