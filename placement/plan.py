"""The result of a solve: a plan, with a status that callers check."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["optimal", "feasible"]


class Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Placement(Out):
    """One arrival in one shelter for the whole stay."""

    arrival: str
    shelter: str
    first_night: date
    last_night: date
    persons: int = Field(description="the person and accompanying children")
    distance_km: float = Field(description="to the nearest danger location")
    shared_language: str | None
    language_match: Literal["shared", "close", "interpreter"] = Field(
        description="shared language; a close one (e.g. Nigerian Pidgin and English); or none"
    )
    cost: int = Field(description="weighted secondary cost of this placement")


class Relaxation(Out):
    """A change that a re-solve has shown would place the person, keeping everyone else placed."""

    kind: Literal[
        "add_places", "safety_distance", "drop_language_requirement", "drop_need", "shelter_change"
    ]
    text: str
    shelter: str | None = None
    first_night: date | None = None
    last_night: date | None = None
    places: int | None = None
    safety_distance_km: float | None = None
    need: str | None = None


class Unplaced(Out):
    """An arrival the plan could not place, why, and what would change that."""

    arrival: str
    priority: int
    persons: int
    reasons: list[str]
    relaxations: list[Relaxation] = []


class Plan(Out):
    """A full plan. Every arrival is in exactly one of ``placements`` and ``unplaced``."""

    scenario: str
    solver: str
    status: Status
    solve_seconds: float
    placed_persons_by_priority: dict[str, int]
    requested_persons_by_priority: dict[str, int]
    secondary_cost: int
    placements: list[Placement]
    unplaced: list[Unplaced]
    upper_bound_persons_at_or_above: dict[str, int] | None = Field(
        default=None,
        description="for each priority p, an upper bound (flow relaxation) on the persons any "
        "plan can place at priority >= p; where the plan reaches it, that level is optimal",
    )

    def assignment(self) -> dict[str, str]:
        return {p.arrival: p.shelter for p in self.placements}
