"""Options of a solve, for plan jobs and what-if alike: the typed ``JobOptions`` a plan job
stores (the stored JSON keeps its shape), what a plan job keeps of its scenario
(``PlanBasis``), and the one check of time limit and size.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict

from api.config import Settings
from api.domain_errors import Invalid, TooLarge, over_limit
from placement.i18n import N_
from placement.models import Policy, Scenario
from placement.text import message
from solver.names import SolverName


class JobOptions(BaseModel):
    """How a plan job (or a what-if) is solved; stored as JSON with the job."""

    model_config = ConfigDict(frozen=True)

    solver: SolverName
    time_limit: float
    explain: bool
    #: plan jobs only: the first night, the nights planned, the holds the plan may use
    start: dt.date | None = None
    horizon_days: int | None = None
    holds: list[int] | None = None

    def stored(self) -> dict[str, object]:
        """The JSON stored with a job (and shown with it): only the options it has."""
        return self.model_dump(mode="json", exclude_none=True)


class PlanBasis(BaseModel):
    """What a plan job keeps of the scenario it was solved on, stored as JSON with it: what
    reading and explaining the plan later needs, not the scenario itself (the shelters and
    arrivals are the stored rows, at the versions the job records). The scenario goes to
    the solver in memory (``api.plan_jobs.JobRunner.submit``)."""

    model_config = ConfigDict(frozen=True)

    #: the plan's policy (its re-plans keep its safety distance, stale-capacity choice...)
    policy: Policy
    #: shelters whose places were not confirmed recently when it was solved
    stale_shelters: list[str]
    #: shelters holding places for this plan's operation
    held_shelters: list[str]
    #: how many shelters and arrivals the solve was given
    shelters: int
    arrivals: int

    @classmethod
    def of(cls, scenario: Scenario) -> PlanBasis:
        """The basis of a plan solved on ``scenario``."""
        return cls(
            policy=scenario.policy,
            stale_shelters=sorted(s.id for s in scenario.shelters if s.stale),
            held_shelters=sorted(s.id for s in scenario.shelters if s.held),
            shelters=len(scenario.shelters),
            arrivals=len(scenario.arrivals),
        )

    def stored(self) -> dict[str, Any]:
        """The JSON stored with the job."""
        return self.model_dump(mode="json", by_alias=True)


class TimeLimitOutOfRange(Invalid):
    """A requested time limit that is not in (0, maximum]."""

    def __init__(self, maximum: float) -> None:
        most = message("at most {most} seconds", most=format(maximum, "g"))
        super().__init__(message("time limit too long"), [("time_limit", most)])
        self.maximum = maximum


#: the refusal of a solve over a size limit, per kind of item
TOO_MANY_FOR_ONE_SOLVE = {
    "arrivals": N_("too many arrivals for one solve"),
    "shelters": N_("too many shelters for one solve"),
}


def time_limit(requested: float | None, settings: Settings) -> float:
    """The solver time limit: the requested one, or the default; ``TimeLimitOutOfRange``
    unless it is in (0, ``max_solve_seconds``]."""
    limit = requested or min(settings.default_solve_seconds, settings.max_solve_seconds)
    if not 0 < limit <= settings.max_solve_seconds:  # NaN is refused too
        raise TimeLimitOutOfRange(settings.max_solve_seconds)
    return limit


def check_size(settings: Settings, arrivals: int | None, shelters: int | None) -> None:
    """``TooLarge`` when one solve would hold more arrivals or shelters than allowed."""
    for key, count, cap in (
        ("arrivals", arrivals, settings.max_arrivals_per_solve),
        ("shelters", shelters, settings.max_shelters_per_solve),
    ):
        if count is not None and count > cap:
            raise TooLarge(message(TOO_MANY_FOR_ONE_SOLVE[key]), [(key, over_limit(count, cap))])
