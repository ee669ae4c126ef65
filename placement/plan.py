"""The result of a solve: a plan, with a status that callers check."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from placement.i18n import N_, Translator
from placement.text import Text

Status = Literal["optimal", "feasible"]

#: each status and language match as a reader sees it (catalogue message ids)
STATUS_LABELS: dict[str, str] = {"optimal": N_("optimal"), "feasible": N_("feasible")}
LANGUAGE_MATCH_LABELS: dict[str, str] = {
    "shared": N_("shared language"),
    "close": N_("close language"),
    "interpreter": N_("interpreter"),
}


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


class NightPlaces(Out):
    """A number of places on a run of consecutive nights (both nights included, as in a
    placement's ``first_night`` and ``last_night``)."""

    first_night: date
    last_night: date
    places: int = Field(ge=1)


class Move(Out):
    """Someone already in the plan whom the re-solve moves to make room. Only planned
    placements move: accepted ones (fixed) never do."""

    arrival: str
    from_shelter: str
    to_shelter: str


class MemberChange(Out):
    """One arrival's own parameter that a relaxation changes: the unplaced person's, or a
    named member of her household's."""

    arrival: str
    safety_distance_km: float | None = Field(default=None, description="the new distance")
    previous_safety_distance_km: float | None = None
    language_required: bool | None = Field(
        default=None, description="false: an interpreter instead of a shared language"
    )
    drop_need: str | None = Field(default=None, description="the need done without")


class ShelterChange(Out):
    """What changes in one shelter: places added on given nights, or one attribute."""

    shelter: str
    add_places: list[NightPlaces] = Field(
        default=[], description="places to add to those the shelter has, per run of nights"
    )
    trans_inclusive: bool | None = None
    children: bool | None = None
    stale: bool | None = None


class Relaxation(Out):
    """A change that a re-solve has shown would place the person, with everyone else placed.

    Exact: applying ``members`` and ``shelter_change`` to the scenario, the ``moves`` to the
    plan and the person (with her household) to ``placed_in`` gives a valid plan.
    ``message`` is stated from these fields (:func:`placement.explain.relaxation_message`);
    ``text`` is that message rendered (in English unless the plan was localized).
    """

    kind: Literal[
        "add_places", "safety_distance", "drop_language_requirement", "drop_need", "shelter_change"
    ]
    text: str
    message: Text | None = Field(
        default=None, description="``text`` as a catalogue message, to render in any language"
    )
    arrival: str = Field(description="the unplaced person this change places")
    placed_in: str = Field(description="where the re-solve placed her (and her household)")
    members: list[MemberChange] = Field(
        default=[], description="whose own parameters change: hers or a household member's"
    )
    shelter_change: ShelterChange | None = None
    moves: list[Move] = Field(default=[], description="people already planned who move")
    below_floor_km: float | None = Field(
        default=None,
        description="the policy's safety distance floor, when the new distance is below it: "
        "not advised",
    )


#: how far the search for relaxations went for one person
Search = Literal["complete", "stopped", "not_searched", "off"]


class Unplaced(Out):
    """An arrival the plan could not place, why, and what would change that."""

    arrival: str
    priority: int
    persons: int
    reasons: list[str]
    reason_messages: list[Text] = Field(
        default=[], description="``reasons`` as catalogue messages, to render in any language"
    )
    relaxations: list[Relaxation] = []
    search: Search = Field(
        default="off",
        description="complete: every change considered was re-solved; stopped: the time "
        "budget ran out during her search; not_searched: it ran out before; off: no re-solves "
        "were asked for",
    )
    unverified: int = Field(
        default=0,
        description="changes considered that no re-solve confirmed or refuted (time limit, "
        "size, or the per-person limit): they may work",
    )


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
        description="for each priority p, the best proven upper bound on the persons the "
        "lexicographically best plan places at priority >= p: the flow relaxation's, or, "
        "where every level above p is proven, the persons placed above p plus the LP's or "
        "CP-SAT's bound for level p, whichever is lower",
    )
    proven_levels: list[int] = Field(
        default=[],
        description="the priority levels proven at their optimum, most urgent first; a level "
        "is proven only when every level above it is (e.g. [5, 4, 3])",
    )
    secondary_cost_lower_bound: int | None = Field(
        default=None,
        description="a proven lower bound on the secondary cost of any plan that places at "
        "least as many persons at every priority level as this one (with every level "
        "proven: of the lexicographically best plans)",
    )

    def assignment(self) -> dict[str, str]:
        return {p.arrival: p.shelter for p in self.placements}

    def localized(self, t: Translator) -> Plan:
        """The plan with its texts (reasons, relaxations) in ``t``'s language."""
        return self.model_copy(update={"unplaced": [localized(u, t) for u in self.unplaced]})


def localized(u: Unplaced, t: Translator) -> Unplaced:
    """``u`` with its reasons and relaxations rendered in ``t``'s language (texts stored
    without their messages, by an older version, stay as they are)."""
    reasons = [m.render(t) for m in u.reason_messages] if u.reason_messages else u.reasons
    relaxations = [
        r.model_copy(update={"text": r.message.render(t)}) if r.message is not None else r
        for r in u.relaxations
    ]
    return u.model_copy(update={"reasons": reasons, "relaxations": relaxations})
