"""Stress jobs in the service: a sweep of the live network, started by a coordinator or an
analyst, watched while it runs, stopped on request.

The sweep is :func:`stress.run.run_stress`, on a local Dask cluster or on the one
``PLACEMENT_STRESS_CLUSTER`` names; it runs in a thread of its own per job. Jobs live in
memory (in ``app.state``), not in the database: a restart forgets them, and their results are
aggregates that can be recomputed from the spec and its seed. Analysts see aggregates only:
no case (there is none in a report) and no location (the départements of the shelters are
removed from what they see).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlmodel import Session

from api import audit, store
from api.auth import Principal
from api.config import Settings
from api.domain_errors import Conflict, Invalid, NotFound, split_problems
from api.services.capacity import held_stays, remaining
from api.tables import utcnow
from placement.loading import validation_problems
from placement.models import Scenario
from stress.report import StressReport
from stress.spec import StressSpec, network_problems
from stress.sweep import ClusterOptions, SweepError, SweepProgress

log = logging.getLogger(__name__)

JobStatus = Literal["running", "done", "failed", "stopped"]
#: finished jobs kept in memory, at most (the oldest are forgotten first)
KEPT_JOBS = 50


class StressSettings(BaseSettings):
    """Stress job settings, from ``PLACEMENT_STRESS_*``."""

    model_config = SettingsConfigDict(env_prefix="PLACEMENT_STRESS_", extra="ignore")

    cluster: str | None = Field(
        default=None, description="address of an existing Dask scheduler; none: a local one"
    )
    workers: int = Field(default=2, ge=1, le=64, description="local workers per job")
    max_draws: int = Field(default=2000, ge=1, le=100_000, description="draws per job, at most")
    max_running: int = Field(default=1, ge=1, le=16, description="jobs running at once")
    horizon_days: int = Field(default=30, ge=1, le=366, description="nights from today")


class _Stopped(Exception):
    """Raised from the progress callback to stop a sweep."""


@dataclass
class StressJob:
    """One sweep: who started it, how far it is, and its report once done."""

    id: str
    owner: int
    status: JobStatus = "running"
    phase: str = "starting"
    done: int = 0
    total: int = 0
    seconds_left: float | None = None
    report: StressReport | None = None
    error: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    stop: threading.Event = field(default_factory=threading.Event)

    def visible_to(self, who: Principal) -> bool:
        return who.role == "coordinator" or who.id == self.owner

    def view(self, who: Principal) -> dict[str, Any]:
        """What ``who`` may see of this job: analysts get no location."""
        out: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "progress": {
                "phase": self.phase,
                "done": self.done,
                "total": self.total,
                "seconds_left": None if self.seconds_left is None else round(self.seconds_left),
            },
            "started": self.started.isoformat(),
            "error": self.error,
            "report": None,
        }
        if self.report is not None:
            out["report"] = aggregates_for(self.report, who)
        return out


def aggregates_for(report: StressReport, who: Principal) -> dict[str, Any]:
    """The report as ``who`` may see it: coordinators all of it; others without the
    départements where shelters are (shelters by id only)."""
    data = report.model_dump(mode="json")
    if who.role != "coordinator":
        data["departments_saturated"] = []
        for row in data["shelters_saturated"]:
            row["department"] = ""
    return data


class StressJobs:
    """The running and recent stress jobs of one application."""

    def __init__(self, settings: StressSettings) -> None:
        self.settings = settings
        self._jobs: dict[str, StressJob] = {}
        self._lock = threading.Lock()

    def check_room(self) -> None:
        """``Conflict`` when as many jobs run as the settings allow."""
        running = sum(j.status == "running" for j in self._jobs.values())
        if running >= self.settings.max_running:
            raise Conflict(
                "too many stress jobs running",
                [("jobs", f"at most {self.settings.max_running} at once; stop one or wait")],
            )

    def start(self, job_id: str, spec: StressSpec, network: Scenario, who: Principal) -> StressJob:
        """Start a sweep in a thread of its own; ``Conflict`` when too many run already."""
        with self._lock:
            self.check_room()
            job = StressJob(id=job_id, owner=who.id)
            self._jobs[job.id] = job
            self._forget_old()
        thread = threading.Thread(
            target=self._run, args=(job, spec, network), name=f"stress-{job.id}", daemon=True
        )
        thread.start()
        return job

    def get(self, job_id: str, who: Principal) -> StressJob:
        job = self._jobs.get(job_id)
        if job is None or not job.visible_to(who):
            raise NotFound("stress job")
        return job

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.status != "running"]
        for job in sorted(finished, key=lambda j: j.started)[: max(0, len(finished) - KEPT_JOBS)]:
            del self._jobs[job.id]

    def _run(self, job: StressJob, spec: StressSpec, network: Scenario) -> None:
        from stress.run import Networks, run_stress

        def on_progress(event: SweepProgress) -> None:
            if job.stop.is_set():
                raise _Stopped
            job.phase, job.done, job.total = event.phase, event.done, event.total
            job.seconds_left = event.seconds_left

        options = ClusterOptions(self.settings.cluster, self.settings.workers)
        try:
            job.report = run_stress(spec, Networks(network), options, on_progress)
            job.status = "done"
        except SweepError as e:
            job.status = "stopped" if job.stop.is_set() else "failed"
            job.error = None if job.stop.is_set() else str(e)
        except Exception:  # a job's failure must not take the service down
            log.exception("stress job %s failed", job.id)
            job.status, job.error = "failed", "internal error (see the service log)"


def new_job_id() -> str:
    return uuid.uuid4().hex


def spec_for_service(data: Any, settings: StressSettings) -> StressSpec:
    """The spec of a request body: a live network, within the service's bounds."""
    if not isinstance(data, dict):
        raise Invalid("invalid stress spec", [("body", "expected a stress spec document")])
    try:
        spec = StressSpec.model_validate(data)
    except ValidationError as e:
        raise Invalid("invalid stress spec", split_problems(validation_problems(e))) from None
    problems = []
    if not spec.network.live:
        problems.append(("network.scenario", "the service reads no files: use 'live: true'"))
    if spec.compare is not None:
        problems.append(("compare", "comparison runs from the command line only"))
    if spec.draws > settings.max_draws:
        problems.append(("draws", f"at most {settings.max_draws} in the service"))
    if problems:
        raise Invalid("invalid stress spec", problems)
    return spec


def live_network(
    session: Session, settings: Settings, stress: StressSettings, who: Principal, job: str
) -> Scenario:
    """The active shelters with the places committed placements and holds leave, from today
    for ``stress.horizon_days`` nights. Reading the shelters' locations is audited."""
    start = date.today()
    rows = store.active_shelters(session)
    committed = store.committed_stays(session, [r.id for r in rows])
    committed += held_stays(store.active_holds(session, utcnow()))
    shelters = remaining(
        [r.shelter for r in rows], committed, start, stress.horizon_days, settings.geography
    )
    audit.record(session, who, "read", "shelter", sorted(r.id for r in rows), f"stress job {job}")
    session.commit()
    return Scenario(
        name="live network",
        start=start,
        horizon_days=stress.horizon_days,
        geography=settings.geography,
        shelters=tuple(sorted(shelters, key=lambda s: s.id)),
        arrivals=(),
    )


def check_fits(spec: StressSpec, network: Scenario) -> None:
    """``Invalid`` naming each field of ``spec`` that does not fit the live network."""
    problems = network_problems(spec, network)
    if problems:
        raise Invalid("the stress spec does not fit the live network", split_problems(problems))
