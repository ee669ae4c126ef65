"""Names shared by the solver and its callers, importable without loading OR-Tools."""

from __future__ import annotations

from typing import Literal

SolverName = Literal["cpsat", "greedy"]
