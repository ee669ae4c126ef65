"""Where plan jobs run: each solve in a killable child process, with a hard time limit.

A job is a row in ``plan_jobs``; a thread pool in the API process drives the child process
(``solver.process.solve``). The scenario goes to the job in memory, from the request that
built it: the row keeps only what reading the plan later needs (``PlanBasis``), and, once
the plan is made, the versions of the shelters it places people in. A job left queued by a
process that stopped is failed by ``recover``. Cancellation is a status in the database, so a
``DELETE`` handled by another API worker process still stops the solve: the thread that
drives it watches the row.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.config import Settings
from api.db import reading
from api.domain_errors import AT_FIELD
from api.plan_options import JobOptions
from api.solve_slots import SolveSlots
from api.tables import PlanJob, utcnow
from placement.i18n import N_
from placement.models import Scenario
from placement.plan import Plan
from placement.problems import validation_problems
from placement.text import Param, Text, listed, message
from placement.validation import plan_problems
from solver.options import EngineOptions, SolveOptions
from solver.process import Cancelled, RunOptions, solve
from solver.progress import ProgressEvent

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running", "cancelling")
# Why a job failed: a message of the ``api`` domain (the job's ``error_message``, read in
# each reader's language), and its English text (``error``, cut at ``MAX_ERROR``).
SOLVER_FAILED = N_("the solver failed: {error}")
INVALID_PLAN = N_("the solver returned a plan that breaks rules: {problems}")
INVALID_SCENARIO = N_("the stored scenario is invalid: {problems}")
INTERRUPTED = N_("interrupted: the service stopped during the solve")
MAX_ERROR = 2000
#: the problems a failed job's message keeps (the first ones: enough to find the fault)
MAX_PROBLEMS = 50


def invalid_scenario(error: ValidationError, scenario: dict[str, Any]) -> Text:
    """Why the job's scenario was refused, naming shelters and arrivals by id
    (``shelters[SH-221].capacity: ...``) rather than by position."""
    problems: list[Param] = []
    for path, problem in validation_problems(error)[:MAX_PROBLEMS]:
        for key in ("shelters", "arrivals"):
            items = scenario.get(key) or []
            for i, item in enumerate(items):
                path = path.replace(f"{key}[{i}]", f"{key}[{item.get('id', i)}]")
        problems.append(message(AT_FIELD, field=path, problem=problem) if path else problem)
    return message(INVALID_SCENARIO, problems=listed(problems, "semicolon"))


WATCH_SECONDS = 0.3


def engine_options(options: JobOptions, settings: Settings) -> EngineOptions:
    """Engine options from a job's options."""
    return EngineOptions(
        solver=options.solver,
        solve=SolveOptions(time_limit=options.time_limit, workers=1),
        explain=options.explain,
        explain_time_budget=settings.explain_seconds,
        relaxation_time_limit=min(2.0, options.time_limit),
    )


class JobRunner:
    """Runs plan jobs in the background of one API process."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.pool = ThreadPoolExecutor(settings.concurrent_solves, thread_name_prefix="plan")
        #: the solver slots of this process, shared with what-ifs and re-plans
        self.slots = SolveSlots(settings.concurrent_solves, settings.default_solve_seconds)
        self._cancels: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def submit(self, job_id: str, scenario: dict[str, Any]) -> None:
        """Solve ``scenario`` (the scenario format's JSON) for the job when a slot is free."""
        self.pool.submit(self._run, job_id, scenario)

    def shutdown(self) -> None:
        """Stop every running solve and wait for the threads."""
        with self._lock:
            for event in self._cancels.values():
                event.set()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def recover(self) -> None:
        """Mark as failed the jobs left unfinished by a process that is gone."""
        longest = self.settings.max_solve_seconds + self.settings.explain_seconds + 60
        cutoff = utcnow() - timedelta(seconds=longest)
        with Session(self.engine) as session:
            stale = session.exec(
                select(PlanJob).where(
                    col(PlanJob.status).in_(ACTIVE), col(PlanJob.created_at) < cutoff
                )
            ).all()
            for job in stale:
                job.status = "failed"
                job.error = str(message(INTERRUPTED))
                job.error_message = message(INTERRUPTED).model_dump(mode="json")
                job.finished_at = utcnow()
                session.add(job)
            session.commit()

    # --- one job ----------------------------------------------------------------------
    def _run(self, job_id: str, scenario: dict[str, Any]) -> None:
        try:
            with self.slots.held(wait=None):
                self._solve(job_id, scenario)
        except ValidationError as e:
            log.warning("plan job %s: invalid scenario", job_id)
            self._finish(job_id, "failed", error=invalid_scenario(e, scenario))
        except Exception as e:
            log.exception("plan job %s failed", job_id)
            # the exception's own text is for whoever reads the log: as it is, in any language
            failed = message(SOLVER_FAILED, error=f"{type(e).__name__}: {e}")
            self._finish(job_id, "failed", error=failed)

    def _versions_used(self, job_id: str, plan: Plan | None) -> dict[str, int]:
        """The recorded versions of the shelters ``plan`` places people in (a commit checks
        only those; none without a plan)."""
        if plan is None:
            return {}
        used = {p.shelter for p in plan.placements}
        with Session(reading(self.engine)) as session:
            job = session.get(PlanJob, job_id)
            versions = {} if job is None else job.shelter_versions
        return {sid: v for sid, v in versions.items() if sid in used}

    def _status(self, job_id: str) -> str | None:
        with Session(reading(self.engine)) as session:
            job = session.get(PlanJob, job_id)
            return None if job is None else job.status

    def _transition(self, job_id: str, before: tuple[str, ...], **values: Any) -> bool:
        """Set ``values`` if the job's status is in ``before`` (one conditional UPDATE)."""
        with Session(self.engine) as session:
            result = session.execute(
                update(PlanJob)
                .where(col(PlanJob.id) == job_id, col(PlanJob.status).in_(before))
                .values(**values)
            )
            session.commit()
            return bool(getattr(result, "rowcount", 0))

    def _solve(self, job_id: str, document: dict[str, Any]) -> None:
        if not self._transition(job_id, ("queued",), status="running", started_at=utcnow()):
            # cancelled before it started (or unknown)
            self._transition(job_id, ("cancelling",), status="cancelled", finished_at=utcnow())
            return
        scenario = Scenario.model_validate(document)
        with Session(reading(self.engine)) as session:
            job = session.get(PlanJob, job_id)
            assert job is not None
            options = JobOptions.model_validate(job.options)
        cancel = threading.Event()
        with self._lock:
            self._cancels[job_id] = cancel
        stop_watching = self._watch(job_id, cancel)
        started = time.monotonic()

        last: dict[str, Any] = {}

        def progress(event: ProgressEvent) -> None:
            if event.is_plan:  # else a note or the bound alone: the last plan stands
                last.update(
                    stage=event.stage,
                    placed_persons_by_priority=dict(event.placed_by_priority),
                    proven=event.proven,
                    proven_levels=event.proven_levels,
                )
            if event.bound is not None:
                last["upper_bound_persons_at_or_above"] = {
                    str(p): v for p, v in event.bound.items()
                }
            if "placed_persons_by_priority" not in last:
                return
            last["seconds"] = round(time.monotonic() - started, 2)
            self._transition(job_id, ("running",), progress=dict(last))

        plan = None
        try:
            plan = solve(
                scenario,
                engine_options(options, self.settings),
                progress,
                RunOptions(
                    cancel=cancel,
                    grace=self.settings.solve_grace_seconds,
                    start_method=self.settings.start_method,
                ),
            )
        except Cancelled:
            plan = None
        finally:
            stop_watching()
            with self._lock:
                self._cancels.pop(job_id, None)
        self._conclude(job_id, scenario, None if cancel.is_set() else plan)

    def _watch(self, job_id: str, cancel: threading.Event) -> Callable[[], None]:
        """Watch the job's row for a cancellation (from any API process); return the stop."""
        done = threading.Event()

        def watch() -> None:
            while not done.wait(WATCH_SECONDS):
                if self._status(job_id) == "cancelling":
                    cancel.set()
                    return

        watcher = threading.Thread(target=watch, name=f"watch-{job_id}", daemon=True)
        watcher.start()

        def stop() -> None:
            done.set()
            watcher.join()

        return stop

    def _conclude(self, job_id: str, scenario: Scenario, plan: Plan | None) -> None:
        """The job's end: cancelled (no plan), failed (a plan that breaks rules), or done."""
        if plan is None:
            self._finish(job_id, "cancelled")
            return
        problems = plan_problems(scenario, plan)
        if problems:
            log.error("plan job %s: the plan breaks rules: %s", job_id, [str(p) for p in problems])
            broken = listed(problems[:MAX_PROBLEMS], "semicolon")
            self._finish(job_id, "failed", error=message(INVALID_PLAN, problems=broken))
            return
        self._finish(job_id, "done", result=plan.model_dump(mode="json"), plan=plan)

    def _finish(
        self,
        job_id: str,
        status: str,
        result: dict[str, Any] | None = None,
        error: Text | None = None,
        plan: Plan | None = None,
    ) -> None:
        now = utcnow()
        done = self._transition(
            job_id,
            ("running",),
            status=status,
            result=result,
            error=None if error is None else str(error)[:MAX_ERROR],
            error_message=None if error is None else error.model_dump(mode="json"),
            finished_at=now,
            shelter_versions=self._versions_used(job_id, plan),
        )
        if not done:  # a cancellation arrived meanwhile: it wins
            self._transition(job_id, ("cancelling", "queued"), status="cancelled", finished_at=now)
