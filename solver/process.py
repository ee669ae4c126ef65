"""The solver's entry point: :func:`solve` runs a solve in a child process that can be stopped.

OR-Tools does not always honour its time limit inside presolve, and a service must be able
to cancel a job. So the solve runs in a child process that streams every improved plan back
(:class:`solver.progress.ProgressEvent`); the parent waits until the time limit and a short
grace (:class:`Budget`, :class:`RunOptions`) or a cancellation, then kills the child and
returns the best plan received, marked ``feasible`` unless proven.

This module does not load OR-Tools itself: with ``first_plan_in_parent`` the first plan is
built and reported before anything imports it (the command line shows it at once).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from placement.context import Context
from placement.models import Scenario
from placement.plan import Plan
from solver.allocation import to_assignment
from solver.options import EngineOptions
from solver.progress import Progress, ProgressEvent, Start
from solver.units import build_units

if TYPE_CHECKING:
    # imported where a plan is finished here, not with the module: the command line shows
    # its first plan before they are loaded
    from placement.report import Solved

log = logging.getLogger(__name__)

#: seconds the parent waits for the child after the time limit before it kills it; the
#: child has sent a plan without relaxations by then (see :func:`_child`)
GRACE_SECONDS = 0.5
#: the shortest time limit a solve is given after the parent's own work
MIN_TIME_LIMIT = 0.1


@dataclass(frozen=True)
class RunOptions:
    """How a solve is run; they do not change the plan (that is :class:`EngineOptions`)."""

    #: build and report the first plan (packing) in this process before OR-Tools is loaded,
    #: and hand it to the forked child; for the cpsat solver (greedy does not start from it)
    first_plan_in_parent: bool = False
    #: set it to stop the child at once
    cancel: threading.Event | None = None
    #: seconds the parent waits for the child after the time limit
    grace: float = GRACE_SECONDS
    #: multiprocessing start method; only "fork" hands over a first plan built here
    start_method: str = "fork"
    #: ``time.monotonic()`` when the time limit started (the command line: when its process
    #: started, :func:`process_started`); None: when :func:`solve` is called
    started: float | None = None


class Cancelled(Exception):
    """The solve was cancelled before any plan was available."""


def solve(
    scenario: Scenario,
    options: EngineOptions,
    on_progress: Progress | None = None,
    run: RunOptions = RunOptions(),
) -> Plan:
    """Plan a scenario in a child process; never take longer than the hard limit.

    ``on_progress`` gets a :class:`ProgressEvent` as plans improve. Setting ``run.cancel``
    stops the child at once; the best plan received so far is returned (status
    ``feasible``), or :class:`Cancelled` is raised when there is none.

    The time limit covers everything from ``run.started`` (default: this call) to the plan,
    explanations included: the solve ends early enough for the reasons and the output
    (:meth:`EngineOptions.output_reserve`), relaxations are searched in what is left, and
    the child is killed ``run.grace`` seconds after the limit, its plan without relaxations
    (sent before they are searched) returned then.
    """
    ends = (time.monotonic() if run.started is None else run.started) + options.solve.time_limit
    watch = _Watch(on_progress)
    ctx: Context | None = None
    start: Start | None = None
    if run.first_plan_in_parent:
        # no garbage collection while the first plan is built (it makes no garbage cycles; at
        # 1,000 x 3,000 a full collection of the scenario's objects took 45-50 ms of it)
        with gc_paused():
            start = Start.build(ctx := Context(scenario), watch)
    if run.start_method == "fork":
        # Load the engine (and OR-Tools) here, once the first plan is shown: the forked child
        # starts with it, and the time it takes counts against the time limit.
        import solver.engine  # noqa: F401
    if run.start_method != "fork":
        start = None  # would be pickled: cheaper to rebuild in the child
    child = _ChildProcess(scenario, Budget(options, ends), start, run)
    plan = child.wait(watch)
    if plan is not None:
        return plan
    # Stopped early: return the best plan we have, explained without re-solves.
    return _best_received(ctx or Context(scenario), options, watch, child, run)


def process_started() -> float:
    """The ``time.monotonic()`` value when this process started (Linux), else now: the
    command line counts its time limit from there, interpreter start and imports included."""
    try:
        stat = Path("/proc/self/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic()
    return time.monotonic() - max(0.0, age)


class Output(NamedTuple):
    """What a plan's output will hold, as far as the first plan tells: the arrivals, the
    unplaced ones, and their admissible shelters summed (what the reasons cost)."""

    arrivals: int
    unplaced: int = 0
    pairs: int = 0

    @classmethod
    def of(cls, ctx: Context, start: Start | None) -> Output:
        """From the first plan (``start``); without one, the arrivals only."""
        arrivals = len(ctx.scenario.arrivals)
        if start is None:
            return cls(arrivals)
        unplaced = pairs = 0
        for unit in start.units.units:
            missing = (unit.count - sum(start.seed.get(unit.index, {}).values())) * len(
                unit.members
            )
            unplaced += missing
            pairs += missing * len(unit.shelter_index)
        return cls(arrivals, unplaced, pairs)


@dataclass(frozen=True)
class Budget:
    """The options of a solve and the ``time.monotonic()`` by which its plan is due."""

    options: EngineOptions
    ends: float

    def solve_options(self, output: Output) -> EngineOptions:
        """The options for the solve itself: its time limit is what is left until the end,
        less the reserve for the reasons and the output, and the explanations' share."""
        o = self.options
        left = self.ends - time.monotonic() - o.output_reserve(*output)
        left -= o.relaxations_reserve(output.unplaced, output.pairs)
        limit = max(min(MIN_TIME_LIMIT, o.solve.time_limit), left)
        return replace(o, solve=replace(o.solve, time_limit=limit))

    def explain_options(self, output: Output) -> EngineOptions | None:
        """The options for the relaxations, within what is left; None when nothing is."""
        o = self.options
        left = self.ends - time.monotonic() - o.relaxations_end_reserve(*output)
        if not o.explain or left <= 0:
            return None
        return replace(
            o,
            explain_time_budget=min(o.explain_time_budget, left),
            relaxation_time_limit=min(o.relaxation_time_limit, left),
        )

    def reasons_until(self, output: Output) -> float:
        """When the reasons stop (those not written are told the time limit came first):
        early enough for the plan to be sent, read and printed by the end."""
        return self.ends - self.options.sending_reserve(output.arrivals, output.unplaced)


class _Watch:
    """What the parent has received: the best plan so far, and the solve's result."""

    def __init__(self, on_progress: Progress | None) -> None:
        self.on_progress = on_progress
        self.best: dict[str, str] | None = None
        self.solved: Solved | None = None
        self.last: ProgressEvent | None = None  # the last event with a plan

    def __call__(self, event: ProgressEvent) -> None:
        if event.is_plan:
            self.best = event.assignment
            self.last = event
        if self.on_progress is not None:
            self.on_progress(event)


def _child(scenario: Scenario, budget: Budget, out: Connection, start: Start | None) -> None:
    """In the child: solve, send each event, the result, the plan with reasons only, then
    (time allowing) the plan with verified relaxations."""
    from solver.engine import finish_plan, plan_assignment

    started = time.perf_counter()
    ctx = Context(scenario) if start is None else start.ctx

    def progress(event: ProgressEvent) -> None:
        out.send(("progress", event))

    if start is None and budget.options.solver == "cpsat":
        start = Start.build(ctx, progress)  # the solve starts from it: built once, here
    output = Output.of(ctx, start)  # the reserve for the reasons, from the first plan
    solved = plan_assignment(ctx, budget.solve_options(output), progress, start)
    solved = replace(solved, seconds=time.perf_counter() - started)
    out.send(("solved", solved))
    until = budget.reasons_until(output)
    with gc_paused():
        plan = finish_plan(ctx, solved, budget.options, explain=False, until=until)
    explain = budget.explain_options(output)
    if explain is not None and plan.unplaced:
        out.send(("reasons", plan.model_dump_json()))
        plan = finish_plan(ctx, solved, explain, until=until, earlier=plan.unplaced)
    out.send(("plan", plan.model_dump_json()))
    out.close()


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: the reasons of the unplaced and the plan read
    from JSON are thousands of small objects, and each collection they trigger walks the
    whole heap (the scenario, the linear model). At 3,000 x 6,000 hard (980 unplaced) the
    reasons took 0.98 s with it and 0.73 s without, reading the plan 0.65 s and 0.20 s."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _ChildProcess:
    """The child process of one solve, and the pipe it reports on."""

    def __init__(
        self, scenario: Scenario, budget: Budget, start: Start | None, run: RunOptions
    ) -> None:
        self.run = run
        self.deadline = budget.ends + run.grace
        mp_context: Any = mp.get_context(run.start_method)
        self.receiver, sender = mp_context.Pipe(duplex=False)
        self.process = mp_context.Process(
            target=_child, args=(scenario, budget, sender, start), daemon=True
        )
        self.started = time.perf_counter()
        self.process.start()
        sender.close()
        #: the plan with reasons but no relaxations, sent before they are searched
        self.reasons: str | None = None

    def wait(self, watch: _Watch) -> Plan | None:
        """The child's plan; None if it was stopped first (``watch`` has what came before)."""
        try:
            while (message := self._next()) is not None:
                kind, payload = message
                if kind == "progress":
                    watch(payload)
                elif kind == "solved":
                    watch.solved = payload
                elif kind == "reasons":
                    self.reasons = payload
                elif kind == "plan":
                    return _plan(payload)
            return None if self.reasons is None else _plan(self.reasons)
        finally:
            if self.process.is_alive():
                self.process.kill()
            self.process.join(timeout=5)
            self.receiver.close()

    def _next(self) -> tuple[str, Any] | None:
        """The next message; None on cancellation, at the hard limit, or if the child died."""
        cancel = self.run.cancel
        while True:
            if cancel is not None and cancel.is_set():
                log.info("solve cancelled")
                return None
            wait = min(0.1, self.deadline - time.monotonic())
            if wait <= 0:
                log.warning("time limit reached; stopping the solver")
                return None
            if self.receiver.poll(wait):
                try:
                    message: tuple[str, Any] = self.receiver.recv()
                except EOFError:
                    return None
                return message
            if not self.process.is_alive() and not self.receiver.poll(0):
                log.error("solver process exited with code %s", self.process.exitcode)
                return None


def _plan(payload: str) -> Plan:
    """The child's plan, read (see :func:`gc_paused`)."""
    with gc_paused():
        return Plan.model_validate_json(payload)


def _best_received(
    ctx: Context, options: EngineOptions, watch: _Watch, child: _ChildProcess, run: RunOptions
) -> Plan:
    """The plan of a solve stopped early: its result if it had one, else its best plan
    (else the greedy baseline's), explained without re-solves when time is left."""
    from placement.report import Solved
    from solver.greedy import greedy_allocation

    if watch.solved is not None:
        return _reasons_only(ctx, watch.solved, options, child)
    best = watch.best
    if best is None:
        if run.cancel is not None and run.cancel.is_set():
            raise Cancelled("cancelled before the first plan")
        best = to_assignment(units := build_units(ctx), greedy_allocation(ctx, units))
    seconds = time.perf_counter() - child.started
    solved = Solved(best, "feasible", seconds)
    if watch.last is not None and watch.last.bound is not None:  # what its bound proves
        last = watch.last
        solved = replace(solved, bound=last.bound, proven_levels=tuple(last.proven_levels))
    return _reasons_only(ctx, solved, options, child)


def _reasons_only(
    ctx: Context, solved: Solved, options: EngineOptions, child: _ChildProcess
) -> Plan:
    """The plan with the reasons of the unplaced when they fit before the child's deadline
    (a child that died early), else with :func:`placement.explain.not_explained` for each
    (the time limit is kept)."""
    from placement.explain import not_explained
    from placement.report import build_plan
    from solver.engine import finish_plan

    arrivals = ctx.scenario.arrivals
    output = Output(len(arrivals), len(arrivals) - len(solved.assignment))
    budget = Budget(options, child.deadline)  # what is left of the child's
    if time.monotonic() + options.output_reserve(*output) <= budget.ends:
        until = budget.reasons_until(output)
        return finish_plan(ctx, solved, options, explain=False, until=until)
    told = [
        not_explained(a)
        for a in sorted(arrivals, key=lambda a: (-a.priority, a.id))
        if a.id not in solved.assignment
    ]
    return build_plan(ctx, solved, options.solver, told)
