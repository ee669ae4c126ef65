"""Draws on a Dask cluster: a local one on this machine's cores, or an existing one.

Each worker receives each network once (scattered to every worker before the first draw) and
then only batches of draw indices (a few tasks per worker and phase: a task's overhead is paid
per batch, not per draw); the results come back keyed by index and are put in index order, so
the report does not depend on which worker solved what, nor on how many there are. A worker
that dies mid-sweep loses nothing: the scheduler gives its draws to the others.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from placement.i18n import N_
from placement.models import Scenario
from stress.limits import MAX_LOCAL_WORKERS
from stress.spec import Candidate, StressSpec

if TYPE_CHECKING:
    from stress.evaluate import DrawOutcome

log = logging.getLogger(__name__)

T = TypeVar("T")

#: draws are sent in batches, one task each (per-task overhead: scheduling, a round trip);
#: about this many tasks per worker per phase, of at most MAX_BATCH draws
TASKS_PER_WORKER = 8
MAX_BATCH = 25
#: seconds between progress events while a single long task runs (so it can be stopped)
POLL_SECONDS = 1.0


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
    """The cluster could not be reached or a draw failed on every try: ``msgid`` (of the
    ``stress`` catalogue) with its ``params``; ``str()`` is the English text."""

    def __init__(self, msgid: str, **params: str) -> None:
        super().__init__(msgid.format(**params))
        self.msgid = msgid
        self.params = params


def _run_batch(
    networks: dict[str, Scenario], spec: StressSpec, jobs: tuple[Job, ...]
) -> list[DrawOutcome]:
    # Imported here: the command line loads this module before the engine is needed.
    from stress.evaluate import solve_draw

    return [solve_draw(networks[j.network], spec, j.index, j.changes, j.detail) for j in jobs]


def batches(jobs: Sequence[Job], workers: int) -> list[tuple[Job, ...]]:
    """Jobs in consecutive batches, one task each: about ``TASKS_PER_WORKER`` tasks per
    worker (so that the faster workers take more, and a lost worker loses little), of at
    most ``MAX_BATCH`` jobs (so that progress moves)."""
    size = max(1, min(MAX_BATCH, math.ceil(len(jobs) / (max(1, workers) * TASKS_PER_WORKER))))
    return [tuple(jobs[i : i + size]) for i in range(0, len(jobs), size)]


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
            raise SweepError(N_("cannot reach the cluster: {error}"), error=str(e)) from None
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
        groups = batches(jobs, self.workers or 1)
        futures = [
            self._client.submit(_run_batch, networks, spec, group, pure=False) for group in groups
        ]
        first = {f.key: sum(len(g) for g in groups[:i]) for i, f in enumerate(futures)}
        out: list[DrawOutcome | None] = [None] * len(jobs)
        started = time.perf_counter()
        done = 0
        try:
            for future in as_completed(futures):
                results = future.result()
                out[first[future.key] : first[future.key] + len(results)] = results
                done += len(results)
                if self.on_progress is not None:
                    self.on_progress(
                        SweepProgress(phase, done, len(jobs), time.perf_counter() - started)
                    )
                if enough is not None and any(enough(o) for o in results):
                    for f in futures:
                        f.cancel()
                    break
        except Exception as e:
            for f in futures:
                f.cancel()
            raise SweepError(
                N_("{phase}: a draw failed: {error}"), phase=phase, error=str(e)
            ) from e
        return [o for o in out if o is not None]

    def call(self, phase: str, fn: Callable[..., T], *args: Any) -> T:
        """``fn(networks, spec, *args)`` as one task on the cluster (a worker process, which
        closing the sweep stops), with a progress event every ``POLL_SECONDS``; ``args`` may
        hold results kept on the cluster (``keep``)."""
        future = self.keep(fn, *args)
        self.wait(phase, future)
        result: T = future.result()
        return result

    def keep(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(networks, spec, *args)`` started as one task; its result stays on the
        cluster (not sent here) for as long as the returned handle is held: pass the handle
        to ``call`` (the task then runs where it is, if it can), or to ``wait``."""
        networks, spec = self._data
        return self._client.submit(fn, networks, spec, *args, pure=False)

    def wait(self, phase: str, future: Any) -> None:
        """Until the task of ``future`` ends, a progress event every ``POLL_SECONDS`` (a
        stop raised from the progress callback cancels it); ``SweepError`` if it failed."""
        from distributed import TimeoutError as DaskTimeout
        from distributed import wait

        started = time.perf_counter()
        try:
            while True:
                try:
                    wait(future, timeout=POLL_SECONDS)
                    break
                except DaskTimeout:
                    pass
                if self.on_progress is not None:
                    self.on_progress(SweepProgress(phase, 0, 1, time.perf_counter() - started))
            if future.status != "finished":
                future.result()  # raises the task's error (or its cancellation)
        except Exception as e:
            future.cancel()
            raise SweepError(N_("{phase}: failed: {error}"), phase=phase, error=str(e)) from e
        if self.on_progress is not None:
            self.on_progress(SweepProgress(phase, 1, 1, time.perf_counter() - started))
