"""Deadline and periodic jobs, run once per due time however many schedulers run.

``run_due_jobs(engine, settings, now)`` does everything that is due at ``now`` (time is a
parameter: tests move the clock instead of sleeping):

- ``escalate``: a proposal unanswered at its deadline raises an ``escalation`` alert;
- ``replan``: still unanswered at the second deadline, it is re-planned as if declined;
- ``hold-expire``: a hold past its expiry ends, its places return (and the waiting list
  is retried);
- ``waitlist``: every ``waitlist_retry_minutes``, the waiting list is retried;
- ``purge``: once a day, case data past the retention period are removed.

Each run claims its ``(job, due time)`` row in ``job_runs`` in the same transaction as its
work: the primary key lets exactly one scheduler commit it, and a second one that tries
gets a conflict and skips. ``placement scheduler`` runs this every few seconds (APScheduler 3,
in its own process); several of them over one database are safe.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.config import Settings
from api.db import transaction
from api.domain_errors import Conflict
from api.services.alerts import new_alert
from api.services.holds import expire_hold
from api.services.proposals import decline_and_replan
from api.services.replanning import Tx
from api.services.waitlist import retry_waitlist
from api.tables import Hold, JobRun, PlacementRow, aware, utcnow
from placement.text import Text, message

log = logging.getLogger(__name__)

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def slot(now: datetime, every: timedelta) -> datetime:
    """The latest due time of a job that runs every ``every``, at or before ``now``."""
    return EPOCH + ((now - EPOCH) // every) * every


@dataclass
class Ran:
    """What one call of ``run_due_jobs`` ran (job name, due time)."""

    jobs: list[tuple[str, datetime]] = field(default_factory=list)


def _claimed(
    engine: Engine, job: str, due: datetime, runner: str, work: Callable[[Session], None]
) -> bool:
    """Run ``work`` with the claim of (job, due) in one transaction; False if already run.

    A job that fails is logged and left unclaimed (retried at the next tick); the other jobs
    of the tick still run.
    """
    try:
        return _claim_and_run(engine, job, due, runner, work)
    except Exception:
        log.exception("job %s due %s failed; it will be retried", job, due.isoformat())
        return False


def _claim_and_run(
    engine: Engine, job: str, due: datetime, runner: str, work: Callable[[Session], None]
) -> bool:

    def claim_and_work(session: Session) -> bool:
        if session.get(JobRun, (job, due)) is not None:
            return False
        session.add(JobRun(job=job, due_at=due, ran_at=utcnow(), runner=runner[:64]))
        session.flush()  # a concurrent claim waits here, then conflicts
        work(session)
        return True

    try:
        return transaction(engine, claim_and_work)
    except IntegrityError:  # another scheduler claimed it first (at the flush or the commit)
        return False


def run_due_jobs(
    engine: Engine, settings: Settings, now: datetime, runner: str | None = None
) -> Ran:
    """Run every job due at ``now`` that no scheduler has run yet."""
    runner = runner or f"{socket.gethostname()}:{os.getpid()}"
    ran = Ran()
    with Session(engine) as session:
        proposals = session.exec(
            select(PlacementRow).where(col(PlacementRow.active), PlacementRow.status == "proposed")
        ).all()
        due = [
            (p.id, aware(p.answer_due_at), aware(p.replan_due_at) if p.replan_due_at else None)
            for p in proposals
            if p.id is not None and p.answer_due_at is not None
        ]

    for pid, answer_due, replan_due in due:
        if answer_due <= now and _claimed(
            engine, f"escalate:{pid}", answer_due, runner, _escalate(pid, now)
        ):
            ran.jobs.append((f"escalate:{pid}", answer_due))
        if (
            replan_due is not None
            and replan_due <= now
            and _claimed(engine, f"replan:{pid}", replan_due, runner, _replan(settings, pid, now))
        ):
            ran.jobs.append((f"replan:{pid}", replan_due))

    with Session(engine) as session:
        ending = [
            (h.id, aware(h.expires_at))
            for h in session.exec(select(Hold).where(Hold.status == "active")).all()
            if h.id is not None and aware(h.expires_at) <= now
        ]
    for hid, expires in ending:
        if _claimed(engine, f"hold-expire:{hid}", expires, runner, _expire(settings, hid, now)):
            ran.jobs.append((f"hold-expire:{hid}", expires))

    every = timedelta(minutes=settings.waitlist_retry_minutes)
    waitlist_due = slot(now, every)
    if _claimed(engine, "waitlist", waitlist_due, runner, _waitlist(settings, now)):
        ran.jobs.append(("waitlist", waitlist_due))

    day = slot(now, timedelta(days=1))
    if _claimed(engine, "purge", day, runner, lambda _s: None):
        from api.retention import purge

        purge(engine, settings.retention_days, now)
        ran.jobs.append(("purge", day))
    return ran


def _escalate(pid: int, now: datetime) -> Callable[[Session], None]:
    def work(session: Session) -> None:
        p = session.get(PlacementRow, pid, with_for_update=True)
        if p is None or not p.active or p.status != "proposed" or p.escalated_at is not None:
            return
        p.escalated_at = now
        session.add(p)
        at = aware(p.replan_due_at).isoformat() if p.replan_due_at else "-"
        detail = message(
            "no answer from {shelter} by the deadline; re-planned as if declined at {at}",
            shelter=p.shelter_id,
            at=at,
        )
        session.add(new_alert(now, "escalation", detail, pid, p.arrival_id, p.shelter_id))
        log.info("escalated proposal %s", pid)

    return work


def _replan(settings: Settings, pid: int, now: datetime) -> Callable[[Session], None]:
    def work(session: Session) -> None:
        p = session.get(PlacementRow, pid)
        if p is None or not p.active or p.status != "proposed":
            return
        try:
            tx = Tx.lock(session, settings, None, now)
            outcome = decline_and_replan(
                tx, p, "declined", "no answer by the second deadline", unanswered=True
            )
        except Conflict:  # answered meanwhile
            return
        where = outcome.shelter_id or message("nowhere (waiting list)")
        detail = message(
            "unanswered by {shelter}: re-planned to {where}", shelter=p.shelter_id, where=where
        )
        session.add(new_alert(now, "replanned", detail, pid, p.arrival_id, p.shelter_id))

    return work


def _expire(settings: Settings, hid: int, now: datetime) -> Callable[[Session], None]:
    def work(session: Session) -> None:
        expire_hold(session, settings, hid, now)

    return work


def _waitlist(settings: Settings, now: datetime) -> Callable[[Session], None]:
    def work(session: Session) -> None:
        retry_waitlist(session, settings, None, now)

    return work


def describe(settings: Settings) -> Text:
    """What a scheduler over these settings does, for the operator who starts it (the jobs'
    names are their identifiers, as in ``ran_line`` and the job records)."""
    return message(
        "database: {database}; looks for due jobs every {tick}s: escalate (a proposal "
        "unanswered {answer} h), replan (still unanswered {replan} h later), hold-expire, "
        "waitlist (every {waitlist} min), purge (daily, after {days} days)",
        database=settings.describe(),
        tick=format(settings.scheduler_tick_seconds, "g"),
        answer=format(settings.answer_deadline_hours, "g"),
        replan=format(settings.replan_after_hours, "g"),
        waitlist=format(settings.waitlist_retry_minutes, "g"),
        days=str(settings.retention_days),
    )


def ran_line(ran: Ran) -> Text:
    """One line saying which jobs one tick ran."""
    if not ran.jobs:
        return message("ran nothing (no job was due)")
    return message("ran {jobs}", jobs=", ".join(j for j, _ in ran.jobs))


def serve(settings: Settings, engine: Engine, on_tick: Callable[[Ran], None] | None = None) -> None:
    """Run the jobs every ``scheduler_tick_seconds`` until interrupted (APScheduler 3);
    ``on_tick`` is told what each tick ran."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="UTC")

    def tick() -> None:
        ran = run_due_jobs(engine, settings, utcnow())
        if ran.jobs:
            log.info(ran_line(ran))
        if on_tick is not None:
            on_tick(ran)

    scheduler.add_job(
        tick,
        "interval",
        seconds=settings.scheduler_tick_seconds,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    log.info("scheduler: every %gs", settings.scheduler_tick_seconds)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
