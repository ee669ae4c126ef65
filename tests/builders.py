"""Test builders: tiny scenarios built in code, and a solve that always validates its plan.

Imported by the tests (``from tests.builders import ...``); fixtures stay in conftest.py.
"""

from __future__ import annotations

from typing import Any

from placement.loading import scenario_from_data
from placement.models import Scenario
from placement.plan import Plan
from placement.validation import validate_plan
from solver.engine import solve_scenario
from solver.names import SolverName
from solver.options import EngineOptions, SolveOptions

START = "2026-12-01"


def shelter(id: str, department: str = "69", **kw: Any) -> dict[str, Any]:
    """A women's shelter with 1 place by default; override anything."""
    base: dict[str, Any] = {"id": id, "department": department, "accepts": ["woman"], "capacity": 1}
    base.update(kw)
    if "availability" in kw:
        base.pop("capacity")
    return base


def arrival(id: str, **kw: Any) -> dict[str, Any]:
    """A woman endangered in Seine-Saint-Denis (93), English-speaking, priority 1."""
    base: dict[str, Any] = {
        "id": id,
        "gender": "woman",
        "languages": ["en"],
        "danger": [{"department": "93"}],
        "priority": 1,
    }
    base.update(kw)
    return base


def scenario(shelters: list[dict[str, Any]], arrivals: list[dict[str, Any]], **kw: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": "test",
        "start": START,
        "horizon_days": 10,
        "shelters": shelters,
        "arrivals": arrivals,
    }
    data.update(kw)
    return scenario_from_data(data, "test")


def solve(sc: Scenario, solver: SolverName = "cpsat", explain: bool = True) -> Plan:
    """Solve in-process and check the plan with the solver-independent validator."""
    plan = solve_scenario(
        sc,
        EngineOptions(
            solver=solver,
            solve=SolveOptions(time_limit=20, workers=1),
            explain=explain,
            relaxation_time_limit=5,
        ),
    )
    assert validate_plan(sc, plan) == []
    if solver == "cpsat":
        assert plan.status == "optimal"
    return plan


def placed(plan: Plan) -> dict[str, str]:
    return plan.assignment()


def mixed_scenario() -> Scenario:
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
