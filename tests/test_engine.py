"""The engine as a whole: determinism, time limits, the child process, the CLI output."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

import solver.engine as engine
import solver.process as process
from placement.validation import validate_plan
from solver.options import EngineOptions, SolveOptions
from solver.progress import ProgressEvent
from tests.conftest import arrival, scenario, shelter


def _mixed():
    shelters = [
        shelter(f"s{i}", d, capacity=1 + i % 3, children=i % 2 == 0)
        for i, d in enumerate(["69", "29", "59", "13", "33", "67", "31", "35"])
    ]
    arrivals = [
        arrival(
            f"a{i}",
            priority=1 + i % 5,
            children=i % 3 == 0 and 1 or 0,
            languages=["en"] if i % 2 else ["ro"],
        )
        for i in range(20)
    ]
    return scenario(shelters, arrivals)


def test_same_input_same_plan():
    sc = _mixed()
    opts = EngineOptions(solve=SolveOptions(time_limit=20, workers=1))
    first = process.solve(sc, opts)
    second = process.solve(sc, opts)
    assert validate_plan(sc, first) == []
    assert first.status == "optimal"
    strip = {"solve_seconds"}
    assert first.model_dump(exclude=strip) == second.model_dump(exclude=strip)


def test_stuck_solver_is_stopped_and_best_plan_returned(monkeypatch: pytest.MonkeyPatch):
    # A solver that reports a first plan, then hangs (as presolve sometimes does).
    def stuck(ctx, options, progress=None, start=None):
        a = ctx.scenario.arrivals[1]  # no children: fits the 1-place shelter s0
        progress(ProgressEvent.of(ctx, "greedy", {a.id: ctx.scenario.shelters[0].id}))
        progress(ProgressEvent.of(ctx, "upper bound", {}, bound={p: 9 for p in range(1, 6)}))
        time.sleep(600)

    monkeypatch.setattr(engine, "plan_assignment", stuck)  # inherited by the forked child
    sc = _mixed()
    started = time.monotonic()
    # hard limit 1.5 s: time limit 1 + no explanations + grace 0.5
    opts = EngineOptions(solve=SolveOptions(time_limit=1.0), explain=False)
    plan = process.solve(sc, opts, run=process.RunOptions(grace=0.5))
    assert time.monotonic() - started < 10
    assert plan.status == "feasible"
    assert len(plan.placements) == 1
    assert validate_plan(sc, plan) == []


def test_cancel_stops_the_child(monkeypatch: pytest.MonkeyPatch):
    def stuck(ctx, options, progress=None, start=None):
        progress(ProgressEvent.of(ctx, "greedy", {}))
        time.sleep(600)

    monkeypatch.setattr(engine, "plan_assignment", stuck)
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(process.Cancelled):  # cancelled before any plan: nothing to return
        process.solve(_mixed(), EngineOptions(), run=process.RunOptions(cancel=cancel))
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


def _write(tmp_path: Path) -> Path:
    f = tmp_path / "s.yaml"
    sc = _mixed()
    f.write_text(yaml.safe_dump(sc.model_dump(mode="json", by_alias=True, exclude_none=True)))
    return f


def test_cli_json_is_the_only_thing_on_stdout(tmp_path: Path):
    f = _write(tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "cli", "solve", str(f), "--json", "--time-limit", "10"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    plan = json.loads(run.stdout)
    assert plan["status"] in ("optimal", "feasible")
    ids = [p["arrival"] for p in plan["placements"]] + [u["arrival"] for u in plan["unplaced"]]
    assert sorted(ids) == sorted(f"a{i}" for i in range(20))
    assert set(plan["placed_persons_by_priority"]) == {"5", "4", "3", "2", "1"}
    for p in plan["placements"]:
        assert {
            "arrival",
            "shelter",
            "first_night",
            "last_night",
            "distance_km",
            "shared_language",
        } <= set(p)
    for u in plan["unplaced"]:
        assert u["reasons"] and "relaxations" in u


def test_cli_table_shows_summary_placements_and_unplaced(tmp_path: Path):
    f = _write(tmp_path)
    run = subprocess.run(
        [sys.executable, "-m", "cli", "solve", str(f), "--solver", "greedy", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    first = run.stdout.splitlines()[0]
    assert "persons placed" in first and "greedy" in first
    assert "Placements" in run.stdout
    assert "Unplaced" in run.stdout
