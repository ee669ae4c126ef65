"""Run a solve in a child process that can be stopped.

OR-Tools does not always honour its time limit inside presolve, and a service must be able
to cancel a job. So the solve runs in a child process that streams every improved plan back;
the parent waits until a hard deadline (time limit + explanation budget + grace) or a
cancellation, then kills the child and returns the best plan received, marked ``feasible``.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from placement.context import Context
from placement.models import Scenario
from placement.plan import Plan
from solver.allocation import Allocation, to_assignment
from solver.engine import Bound, EngineOptions, Progress, finish_plan, plan_assignment
from solver.greedy import greedy_allocation
from solver.units import Units, build_units

log = logging.getLogger(__name__)

GRACE_SECONDS = 5.0


def _child(
    scenario: Scenario,
    options: EngineOptions,
    out: Connection,
    prepared: tuple[Context, Units, Allocation] | None,
) -> None:
    started = time.perf_counter()
    ctx = Context(scenario) if prepared is None else prepared[0]

    def progress(
        stage: str, assignment: dict[str, str], proven: bool, bound: Bound | None = None
    ) -> None:
        out.send(("progress", stage, assignment, proven, time.perf_counter() - started, bound))

    units_seed = None if prepared is None else (prepared[1], prepared[2])
    assignment, status, bound = plan_assignment(ctx, options, progress, units_seed)
    seconds = time.perf_counter() - started
    out.send(("solved", assignment, status, seconds, bound))
    plan = finish_plan(ctx, assignment, status, seconds, options, upper_bound=bound)
    out.send(("plan", plan.model_dump_json()))
    out.close()


class Cancelled(Exception):
    """The solve was cancelled before any plan was available."""


def solve_in_subprocess(
    scenario: Scenario,
    options: EngineOptions = EngineOptions(),
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    hard_timeout: float | None = None,
    start_method: str = "fork",
    prepared: tuple[Context, Units, Allocation] | None = None,
) -> Plan:
    """Solve in a child process; never take longer than the hard timeout.

    ``progress`` gets (stage, assignment, proven, bound) as plans improve. Setting ``cancel``
    stops the child at once; the best plan received so far is returned (status ``feasible``).
    ``prepared`` (context, units, first plan) is handed to a forked child as it is.
    """
    limit = hard_timeout
    if limit is None:
        limit = options.solve.time_limit + (options.explain_time_budget if options.explain else 0)
        limit += GRACE_SECONDS
    ctx_mp: Any = mp.get_context(start_method)
    receiver, sender = ctx_mp.Pipe(duplex=False)
    if prepared is not None and start_method != "fork":
        prepared = None  # would be pickled: cheaper to rebuild in the child
    child = ctx_mp.Process(target=_child, args=(scenario, options, sender, prepared), daemon=True)
    started = time.perf_counter()
    child.start()
    sender.close()
    deadline = time.monotonic() + limit
    best: dict[str, str] | None = None
    if prepared is not None:
        best = to_assignment(prepared[1], prepared[2])
    solved: tuple[dict[str, str], str, float, dict[int, int] | None] | None = None
    try:
        while True:
            if cancel is not None and cancel.is_set():
                log.info("solve cancelled")
                break
            wait = min(0.1, deadline - time.monotonic())
            if wait <= 0:
                log.warning("hard time limit of %.1fs reached; stopping the solver", limit)
                break
            if not receiver.poll(wait):
                if not child.is_alive() and not receiver.poll(0):
                    log.error("solver process exited with code %s", child.exitcode)
                    break
                continue
            try:
                message: tuple[Any, ...] = receiver.recv()
            except EOFError:
                break
            kind = message[0]
            if kind == "progress":
                _, stage, assignment, proven, _secs, bound = message
                best = assignment or best
                if progress is not None:
                    progress(stage, assignment, proven, bound)
            elif kind == "solved":
                solved = (message[1], message[2], message[3], message[4])
            elif kind == "plan":
                return Plan.model_validate_json(message[1])
    finally:
        if child.is_alive():
            child.kill()
        child.join(timeout=5)
        receiver.close()
    # Stopped early: return the best plan we have, explained without re-solves.
    ctx = Context(scenario)
    if solved is not None:
        assignment, status, seconds, bound = solved
        return finish_plan(
            ctx,
            assignment,
            status,  # type: ignore[arg-type]
            seconds,
            options,
            explain=False,
            upper_bound=bound,
        )
    if best is None:
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled before the first plan")
        best = to_assignment(units := build_units(ctx), greedy_allocation(ctx, units))
    seconds = time.perf_counter() - started
    return finish_plan(ctx, best, "feasible", seconds, options, explain=False)
