"""The engine as a whole: determinism, time limits, the child process, the CLI output."""

from __future__ import annotations

import os
import threading
import time

import pytest

import solver.engine as engine
import solver.process as process
from placement.explain import NOT_EXPLAINED
from placement.validation import validate_plan
from solver.options import EngineOptions, SolveOptions
from solver.progress import ProgressEvent
from tests.builders import arrival, mixed_scenario, scenario, shelter


@pytest.mark.slow
def test_same_input_same_plan():
    sc = mixed_scenario()
    opts = EngineOptions(solve=SolveOptions(time_limit=20, workers=1))
    first = process.solve(sc, opts)
    second = process.solve(sc, opts)
    assert validate_plan(sc, first) == []
    assert first.status == "optimal"
    strip = {"solve_seconds"}
    assert first.model_dump(exclude=strip) == second.model_dump(exclude=strip)


@pytest.mark.slow
def test_stuck_solver_is_stopped_and_best_plan_returned(monkeypatch: pytest.MonkeyPatch):
    # A solver that reports a first plan, then hangs (as presolve sometimes does).
    def stuck(ctx, options, progress=None, start=None):
        a = ctx.scenario.arrivals[1]  # no children: fits the 1-place shelter s0
        progress(ProgressEvent.of(ctx, "greedy", {a.id: ctx.scenario.shelters[0].id}))
        progress(ProgressEvent.of(ctx, "upper bound", {}, bound={p: 9 for p in range(1, 6)}))
        time.sleep(600)

    monkeypatch.setattr(engine, "plan_assignment", stuck)  # inherited by the forked child
    sc = mixed_scenario()
    started = time.monotonic()
    # hard limit 1.5 s: time limit 1 + no explanations + grace 0.5
    opts = EngineOptions(solve=SolveOptions(time_limit=1.0), explain=False)
    plan = process.solve(sc, opts, run=process.RunOptions(grace=0.5))
    assert time.monotonic() - started < 10
    assert plan.status == "feasible"
    assert len(plan.placements) == 1
    assert validate_plan(sc, plan) == []
    # stopped at the hard limit: no time was left to explain the others, and they are told so
    assert plan.unplaced and all(u.reasons == [NOT_EXPLAINED] for u in plan.unplaced)


def test_a_child_that_dies_early_leaves_its_plan_explained(monkeypatch: pytest.MonkeyPatch):
    # The child reports a plan and dies long before the time limit: the parent explains the
    # others itself, with their real reasons.
    def dying(ctx, options, progress=None, start=None):
        a = ctx.scenario.arrivals[1]
        progress(ProgressEvent.of(ctx, "greedy", {a.id: ctx.scenario.shelters[0].id}))
        os._exit(3)

    monkeypatch.setattr(engine, "plan_assignment", dying)
    sc = mixed_scenario()
    opts = EngineOptions(solve=SolveOptions(time_limit=20.0), explain=False)
    started = time.monotonic()
    plan = process.solve(sc, opts)
    assert time.monotonic() - started < 10
    assert plan.status == "feasible" and len(plan.placements) == 1
    assert plan.unplaced and all(u.reasons != [NOT_EXPLAINED] for u in plan.unplaced)
    assert validate_plan(sc, plan) == []


def test_cancel_stops_the_child(monkeypatch: pytest.MonkeyPatch):
    def stuck(ctx, options, progress=None, start=None):
        progress(ProgressEvent.of(ctx, "greedy", {}))
        time.sleep(600)

    monkeypatch.setattr(engine, "plan_assignment", stuck)
    # the child builds the first plan before the solve: stuck there, no plan either
    monkeypatch.setattr(
        process.Start, "build", classmethod(lambda cls, ctx, p=None: stuck(ctx, 0, p))
    )
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(process.Cancelled):  # cancelled before any plan: nothing to return
        process.solve(mixed_scenario(), EngineOptions(), run=process.RunOptions(cancel=cancel))
    assert time.monotonic() - started < 5


def test_time_limit_gives_feasible_plan_quickly():
    # A limit far too short to prove anything on a bigger instance still returns a valid plan.
    shelters = [
        shelter(f"s{i}", d, capacity=2) for i, d in enumerate(["69", "29", "59", "13"] * 10)
    ]
    arrivals = [arrival(f"a{i}", priority=1 + i % 5, keep_apart=[f"a{i + 1}"]) for i in range(99)]
    arrivals.append(arrival("a99"))
    sc = scenario(shelters, arrivals)
    opts = EngineOptions(solve=SolveOptions(time_limit=0.1, workers=1), explain=False)
    started = time.monotonic()
    plan = process.solve(sc, opts)
    assert time.monotonic() - started < 8
    assert validate_plan(sc, plan) == []
