"""Draws on a Dask cluster: a local one on this machine's cores, or an existing one.

Each worker receives each network once (scattered to every worker before the first draw) and
then only draw indices; the results come back keyed by index and are put in index order, so
the report does not depend on which worker solved what, nor on how many there are. A worker
that dies mid-sweep loses nothing: the scheduler gives its draws to the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from placement.models import Scenario
from stress.spec import Candidate, StressSpec

if TYPE_CHECKING:
    from stress.evaluate import DrawOutcome

log = logging.getLogger(__name__)

#: the most local workers a sweep starts (bounded: each is a process with its own engine)
MAX_LOCAL_WORKERS = 64


@dataclass(frozen=True)
class ClusterOptions:
    """Where draws run: ``address`` of an existing scheduler (``tcp://host:8786``), else a
    local cluster of ``workers`` processes (one thread each: CP-SAT runs one worker)."""

    address: str | None = None
    workers: int = 2


@dataclass(frozen=True)
class Job:
    """One solve: draw ``index`` against network ``network`` with ``changes``."""

    index: int
    changes: tuple[Candidate, ...] = ()
    detail: bool = False
    network: str = "base"


@dataclass(frozen=True)
class SweepProgress:
    """``done`` of ``total`` solves of a phase, ``seconds`` after the phase started."""

    phase: str
    done: int
    total: int
    seconds: float

    @property
    def seconds_left(self) -> float | None:
        if not self.done:
            return None
        return self.seconds / self.done * (self.total - self.done)


OnProgress = Callable[[SweepProgress], None]


class SweepError(Exception):
    """The cluster could not be reached or a draw failed on every try."""


def _run_job(networks: dict[str, Scenario], spec: StressSpec, job: Job) -> DrawOutcome:
    # Imported here: the command line loads this module before the engine is needed.
    from stress.evaluate import solve_draw

    return solve_draw(networks[job.network], spec, job.index, job.changes, job.detail)


class Sweep:
    """A connection to a cluster holding the networks: ``with Sweep(...) as sweep:
    sweep.run(phase, jobs)``."""

    def __init__(
        self,
        networks: dict[str, Scenario],
        spec: StressSpec,
        options: ClusterOptions = ClusterOptions(),
        on_progress: OnProgress | None = None,
    ) -> None:
        self.networks = networks
        self.spec = spec
        self.options = options
        self.on_progress = on_progress
        self._client: Any = None
        self._cluster: Any = None
        self._data: list[Any] = []

    def __enter__(self) -> Sweep:
        from distributed import Client, LocalCluster

        try:
            if self.options.address is not None:
                self._client = Client(self.options.address, timeout="20s")
            else:
                self._cluster = LocalCluster(
                    n_workers=min(self.options.workers, MAX_LOCAL_WORKERS),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",  # no fixed port: sweeps may run side by side
                    silence_logs=logging.ERROR,
                )
                self._client = Client(self._cluster)
        except OSError as e:  # includes timeouts reaching the scheduler
            self.close()
            raise SweepError(f"cannot reach the cluster: {e}") from None
        # Once per worker, not per draw (hash=False: every sweep sends its own copy).
        self._data = self._client.scatter([self.networks, self.spec], broadcast=True, hash=False)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    @property
    def workers(self) -> int:
        """Workers connected now."""
        return len(self._client.scheduler_info()["workers"]) if self._client else 0

    def run(
        self,
        phase: str,
        jobs: Sequence[Job],
        enough: Callable[[DrawOutcome], bool] | None = None,
    ) -> list[DrawOutcome]:
        """The outcomes of ``jobs``, in the order of ``jobs``; ``enough``: called with each
        outcome as it comes, True stops the phase (the outcomes so far are returned)."""
        from distributed import as_completed

        if not jobs:
            return []
        networks, spec = self._data
        futures = [self._client.submit(_run_job, networks, spec, job, pure=False) for job in jobs]
        position = {f.key: i for i, f in enumerate(futures)}
        out: list[DrawOutcome | None] = [None] * len(jobs)
        started = time.perf_counter()
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                outcome = out[position[future.key]] = future.result()
                if self.on_progress is not None:
                    self.on_progress(
                        SweepProgress(phase, done, len(jobs), time.perf_counter() - started)
                    )
                if enough is not None and enough(outcome):
                    for f in futures:
                        f.cancel()
                    break
        except Exception as e:
            for f in futures:
                f.cancel()
            raise SweepError(f"{phase}: a draw failed: {e}") from e
        return [o for o in out if o is not None]
