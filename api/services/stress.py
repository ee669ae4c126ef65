"""Stress jobs in the service: a sweep of the live network, started by a coordinator or an
analyst, watched while it runs, stopped on request.

The sweep is :func:`stress.run.run_stress`, on a local Dask cluster or on the one
``PLACEMENT_STRESS_CLUSTER`` names, in a thread of the API process that accepted the job.
The job is a row of ``stress_jobs``: its progress, a heartbeat and, once done, its report,
so every API process sees it, a ``DELETE`` handled by another process stops it (the running
thread reads the row), and a restart keeps the finished ones. A job whose heartbeat stopped
(its process is gone) reads as failed. The row holds aggregates only: no case (there is none
in a report) and no shelter's location (the shelters' départements are put back from the
shelters' table when a coordinator reads it; analysts never see them).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import date, timedelta
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import func, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api import audit, store
from api.auth import Principal
from api.config import Settings
from api.db import begin_write, reading, write
from api.domain_errors import Conflict, Invalid, NotFound
from api.services.capacity import held_stays, remaining
from api.tables import ShelterRow, StressJobRow, aware, utcnow
from placement.i18n import N_, Translator
from placement.models import Scenario
from placement.problems import validation_problems as problem_messages
from placement.text import Text, message, render
from stress.report import StressReport
from stress.spec import StressSpec, network_problems
from stress.sweep import ClusterOptions, SweepError, SweepProgress

log = logging.getLogger(__name__)

#: seconds between two writes of a running job's progress (and reads of its stop request)
WRITE_SECONDS = 1.0
#: seconds between two heartbeats of a running job
HEARTBEAT_SECONDS = 5.0
#: a running job without a heartbeat for this long belongs to a process that is gone
STALE_SECONDS = 60.0
#: why a job failed (``api`` catalogue; a cluster's failure is the ``stress`` catalogue's
#: ``SweepError`` message), kept as a message read in each reader's language
INTERRUPTED = N_("interrupted: the service stopped while it ran")
INTERNAL = N_("internal error (see the service log)")
MAX_ERROR = 2000
#: PostgreSQL advisory lock key held while a stress job is admitted (any 64-bit integer no
#: other lock of the service uses: "stress" in ASCII)
START_LOCK = 0x737472657373


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


def _serialise_starts(session: Session) -> None:
    """Make this write transaction the only one admitting a stress job until it ends.

    SQLite: nothing to do (a write transaction holds the database's write lock, ``api.db``).
    PostgreSQL: a transaction-level advisory lock on ``START_LOCK``, released at the commit
    or rollback; a second start waits for it (at most ``db_wait_seconds``, the connection's
    ``lock_timeout``) and then counts the first one's committed row."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": START_LOCK})


class _Stopped(Exception):
    """Raised from the progress callback to stop a sweep."""


def stored_report(report: StressReport) -> dict[str, Any]:
    """The report as stored: aggregates, without the shelters' départements."""
    data = report.model_dump(mode="json")
    for row in data["shelters_saturated"]:
        row["department"] = ""
    return data


def _stale(row: StressJobRow) -> bool:
    return row.status == "running" and aware(row.heartbeat_at) < utcnow() - timedelta(
        seconds=STALE_SECONDS
    )


def view(session: Session, row: StressJobRow, who: Principal, reader: Translator) -> dict[str, Any]:
    """What ``who`` may see of a job: coordinators the shelters' départements (read from
    the shelters' table, audited) and the départements saturated; others neither."""
    status, error = row.status, row.error
    if row.error_message is not None:
        error = Text.model_validate(row.error_message).render(reader)
    if _stale(row):
        status, error = "failed", message(INTERRUPTED).render(reader)
    out: dict[str, Any] = {
        "id": row.id,
        "status": status,
        "progress": {
            "phase": row.phase,
            "done": row.done,
            "total": row.total,
            "seconds_left": None if row.seconds_left is None else round(row.seconds_left),
        },
        "started": aware(row.started_at).isoformat(),
        "error": error,
        "report": None,
    }
    if row.report is not None:
        out["report"] = _aggregates_for(session, row, who)
    return out


def _aggregates_for(session: Session, row: StressJobRow, who: Principal) -> dict[str, Any]:
    assert row.report is not None
    data = {**row.report, "shelters_saturated": [dict(s) for s in row.report["shelters_saturated"]]}
    if who.role != "coordinator":
        data["departments_saturated"] = []
        return data
    ids = [s["shelter"] for s in data["shelters_saturated"]]
    where = {
        r.id: r.shelter.department
        for r in session.exec(select(ShelterRow).where(col(ShelterRow.id).in_(ids))).all()
    }
    for s in data["shelters_saturated"]:
        s["department"] = where.get(s["shelter"], "")
    audit.record_reads(session, who, "shelter", sorted(where), f"stress job {row.id}")
    return data


class StressJobs:
    """The stress jobs of the service, in the database; the sweeps this process runs."""

    def __init__(self, settings: StressSettings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    def running(self, session: Session) -> int:
        """Jobs running now (whose process is alive), in any API process."""
        cutoff = utcnow() - timedelta(seconds=STALE_SECONDS)
        query = (
            select(func.count())
            .select_from(StressJobRow)
            .where(col(StressJobRow.status) == "running", col(StressJobRow.heartbeat_at) >= cutoff)
        )
        return int(session.exec(query).one())

    def check_room(self, session: Session) -> None:
        """``Conflict`` when as many jobs run as the settings allow (a quick refusal before
        the live network is read; ``admit`` decides)."""
        if self.running(session) >= self.settings.max_running:
            most = str(self.settings.max_running)
            raise Conflict(
                message("too many stress jobs running"),
                [("jobs", message("at most {most} at once; stop one or wait", most=most))],
            )

    def admit(self, session: Session, job_id: str, who: Principal) -> StressJobRow:
        """Store a running job if there is room, else ``Conflict``: the count and the insert
        in one write transaction, serialised with every other start in any API process
        (``_serialise_starts``), so two starts at once never both pass the limit."""

        def work(tx: Session) -> StressJobRow:
            _serialise_starts(tx)
            self.check_room(tx)
            row = StressJobRow(id=job_id, owner_id=who.id)
            tx.add(row)
            return row

        row = write(session, work)
        session.refresh(row)
        return row

    def start_live(
        self, session: Session, settings: Settings, data: Any, who: Principal
    ) -> StressJobRow:
        """A stress test of the live network from the document ``data`` (a request's body, an
        uploaded file): checked, admitted and started; ``Invalid`` naming each field that
        does not fit, ``Conflict`` when too many jobs run."""
        spec = spec_for_service(data, self.settings)
        self.check_room(session)
        job_id = new_job_id()
        network = live_network(session, settings, self.settings, who, job_id)
        check_fits(spec, network)
        return self.start(session, job_id, spec, network, who)

    def start(
        self, session: Session, job_id: str, spec: StressSpec, network: Scenario, who: Principal
    ) -> StressJobRow:
        """Store the job (``admit``) and start its sweep in a thread."""
        row = self.admit(session, job_id, who)
        thread = threading.Thread(
            target=self._run, args=(job_id, spec, network), name=f"stress-{job_id}", daemon=True
        )
        thread.start()
        return row

    def get(self, session: Session, job_id: str, who: Principal) -> StressJobRow:
        row = session.get(StressJobRow, job_id)
        if row is None or not (who.role == "coordinator" or who.id == row.owner_id):
            raise NotFound("stress job")
        return row

    def stop(self, session: Session, job_id: str, who: Principal) -> StressJobRow:
        """Ask the job to stop (the process running it reads the request)."""
        self.get(session, job_id, who)
        begin_write(session)
        session.execute(
            update(StressJobRow)
            .where(col(StressJobRow.id) == job_id, col(StressJobRow.status) == "running")
            .values(stop_requested=True)
        )
        session.commit()
        row = session.get(StressJobRow, job_id)
        assert row is not None
        session.refresh(row)
        return row

    # --- the sweep, in its thread ---------------------------------------------------------
    def _write(self, job_id: str, **values: Any) -> bool:
        """Set ``values`` on the running job; whether a stop was asked for."""
        with Session(self.engine) as session:
            session.execute(
                update(StressJobRow)
                .where(col(StressJobRow.id) == job_id, col(StressJobRow.status) == "running")
                .values(heartbeat_at=utcnow(), **values)
            )
            session.commit()
        with Session(reading(self.engine)) as session:
            row = session.get(StressJobRow, job_id)
            return row is None or row.stop_requested

    def _run(self, job_id: str, spec: StressSpec, network: Scenario) -> None:
        from stress.run import Networks, run_stress

        watch = _Watch(self, job_id)
        options = ClusterOptions(self.settings.cluster, self.settings.workers)
        values: dict[str, Any]
        try:
            report = run_stress(spec, Networks(network), options, watch.on_progress)
            values = {"status": "done", "report": stored_report(report)}
        except (SweepError, _Stopped) as e:
            stopped = watch.stop.is_set()
            values = {"status": "stopped" if stopped else "failed"}
            if not stopped:
                values |= _failure(
                    message(e.msgid, **e.params) if isinstance(e, SweepError) else message(INTERNAL)
                )
        except Exception:  # a job's failure must not take the service down
            log.exception("stress job %s failed", job_id)
            values = {"status": "failed", **_failure(message(INTERNAL))}
        finally:
            watch.close()
        try:
            self._write(job_id, finished_at=utcnow(), seconds_left=None, **values)
        except Exception:
            log.exception("stress job %s: its result could not be stored", job_id)


def _failure(why: Text) -> dict[str, Any]:
    """A failed job's columns: why, in English and as a message for every reader."""
    return {"error": render(why)[:MAX_ERROR], "error_message": why.model_dump(mode="json")}


class _Watch:
    """A running job's link to its row: progress written at most every ``WRITE_SECONDS``,
    a heartbeat every ``HEARTBEAT_SECONDS``, and the stop request read back."""

    def __init__(self, jobs: StressJobs, job_id: str) -> None:
        self.jobs = jobs
        self.job_id = job_id
        self.stop = threading.Event()
        self.last_write = 0.0
        self._done = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True, name=f"beat-{job_id}")
        self._beat.start()

    def _heartbeat(self) -> None:
        while not self._done.wait(HEARTBEAT_SECONDS):
            try:
                if self.jobs._write(self.job_id):
                    self.stop.set()
            except Exception:
                log.exception("stress job %s: heartbeat failed", self.job_id)

    def on_progress(self, event: SweepProgress) -> None:
        if self.stop.is_set():
            raise _Stopped
        now = time.monotonic()
        if now - self.last_write < WRITE_SECONDS and event.done < event.total:
            return
        self.last_write = now
        left = event.seconds_left
        if self.jobs._write(
            self.job_id,
            phase=event.phase[:80],
            done=event.done,
            total=event.total,
            seconds_left=left,
        ):
            self.stop.set()
            raise _Stopped

    def close(self) -> None:
        self._done.set()


#: the live network's name in a stress report
LIVE_NETWORK = "live network"


def new_job_id() -> str:
    return uuid.uuid4().hex


INVALID_SPEC = message("invalid stress spec")


def spec_for_service(data: Any, settings: StressSettings) -> StressSpec:
    """The spec of a request body: a live network, within the service's bounds."""
    if not isinstance(data, dict):
        raise Invalid(INVALID_SPEC, [("body", message("expected a stress spec document"))])
    try:
        spec = StressSpec.model_validate(data)
    except ValidationError as e:
        raise Invalid(INVALID_SPEC, problem_messages(e)) from None
    problems = []
    if not spec.network.live:
        live = message("the service reads no files: use 'live: true'")
        problems.append(("network.scenario", live))
    if spec.compare is not None:
        problems.append(("compare", message("comparison runs from the command line only")))
    if spec.draws > settings.max_draws:
        most = message("at most {most} in the service", most=str(settings.max_draws))
        problems.append(("draws", most))
    if problems:
        raise Invalid(INVALID_SPEC, problems)
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
        name=LIVE_NETWORK,
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
        raise Invalid(message("the stress spec does not fit the live network"), problems)
