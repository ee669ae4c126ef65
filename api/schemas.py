"""What a client may send (``...In``) and what it may see (``...Out``), as distinct types.

Request models reuse the engine's models (``placement.models``) so the fields, their checks
and the refusal of unknown fields are the scenario format's own. Response models are chosen
per role: a type without a ``location`` field cannot leak one.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.config import JsonDict

from api.config import LONGEST_SOLVE_SECONDS
from api.plan_options import JobOptions
from placement.models import (
    MAX_ITEMS,
    ONE_CALENDAR,
    WHOLE,
    Age,
    Arrival,
    Availability,
    Children,
    Danger,
    Day,
    Flag,
    Gender,
    Identifier,
    Languages,
    Location,
    Nights,
    Places,
    Policy,
    Services,
    Shelter,
    json_given,
)
from placement.plan import Plan
from placement.problems import TextError
from placement.text import message
from solver.names import SolverName

#: the id of a row a client names (a number: not ``true``, but 3.0 is 3)
RowRef = Annotated[int, Field(ge=1, le=2**31 - 1, strict=True), WHOLE]
#: a solver time limit in seconds (the settings' ``max_solve_seconds`` may lower it)
TimeLimit = Annotated[float, Field(gt=0, le=LONGEST_SOLVE_SECONDS, allow_inf_nan=False)]


class In(BaseModel):
    """Base of request models: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


class Out(BaseModel):
    """Base of response models; ``extra="forbid"`` keeps the per-role views distinct."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")


# --- shelters ---------------------------------------------------------------------------
class ShelterIn(Shelter):
    """A new shelter, in the scenario format (``capacity`` or an ``availability`` calendar)."""


class Change(In):
    """A partial change: a field left out is unchanged. A field given is not null, except
    those in ``NULLABLE``, where null is a value (no location, no upper age); the document
    says so (no null, no null default)."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @staticmethod
    def _schema(schema: JsonDict, model: type[BaseModel]) -> None:
        nullable: frozenset[str] = getattr(model, "NULLABLE", frozenset())
        properties = schema.get("properties")
        for name, prop in properties.items() if isinstance(properties, dict) else ():
            if name in nullable or not isinstance(prop, dict):
                continue
            prop.pop("default", None)
            variants = prop.pop("anyOf", None)
            if isinstance(variants, list):
                kept = [
                    v for v in variants if not (isinstance(v, dict) and v.get("type") == "null")
                ]
                prop.update(kept[0] if len(kept) == 1 else {"anyOf": kept})  # type: ignore[arg-type]

    model_config = ConfigDict(json_schema_extra=_schema)

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.NULLABLE:
            raise TextError(message("give a value, or leave the field out to keep it"))
        return value


class ShelterAttributesIn(Change):
    """What a shelter's manager may change: languages, services and who it accepts; absent
    fields are unchanged (``age_max`` null: no upper age)."""

    NULLABLE = frozenset({"age_max"})

    accepts: tuple[Gender, ...] | None = Field(default=None, min_length=1, max_length=3)
    trans_inclusive: Flag | None = None
    age_min: Age | None = None
    age_max: Age | None = None
    children: Flag | None = None
    languages: Languages | None = None
    services: Services | None = None


class ShelterEditIn(ShelterAttributesIn):
    """A coordinator's edit of a shelter, any attribute; absent fields are unchanged
    (``location`` null: no location)."""

    NULLABLE = frozenset({"age_max", "location"})

    department: str | None = Field(default=None, max_length=3)
    location: Location | None = None
    active: Flag | None = None


class CalendarIn(In):
    """The places a shelter offers: a constant ``capacity`` or dated ``availability`` ranges.

    Places are the shelter's total places for this mechanism; committed placements use them.
    """

    model_config = ConfigDict(json_schema_extra=ONE_CALENDAR)

    capacity: Places | None = None
    availability: tuple[Availability, ...] | None = Field(default=None, max_length=MAX_ITEMS)


class Freshness(Out):
    """When the shelter and its places were last confirmed, and by whom."""

    version: int
    updated_at: dt.datetime
    updated_by: str | None
    capacity_updated_at: dt.datetime
    capacity_updated_by: str | None
    stale: bool = Field(
        description="places not updated within PLACEMENT_STALE_AFTER_HOURS; plans treat them "
        "as the policy's stale_capacity says"
    )


CompromisedScope = Literal["everyone", "operation", "network"]


class CompromiseNote(Out):
    """A shelter was marked compromised: for whom (its scope), when, and whether it is still
    out of every plan."""

    shelter_id: str
    scope: CompromisedScope
    network: str | None
    operation_id: int | None
    at: dt.datetime
    shelter_active: bool


class ShelterPublicOut(Out):
    """A shelter without anything that says where it is (analysts)."""

    id: str
    active: bool
    accepts: tuple[Gender, ...]
    trans_inclusive: bool
    age_min: int
    age_max: int | None
    children: bool
    languages: tuple[str, ...]
    services: tuple[str, ...]
    capacity: int | None
    availability: tuple[Availability, ...] | None
    freshness: Freshness


class ShelterOut(ShelterPublicOut):
    """A shelter with its département and location (coordinators and its own managers)."""

    department: str
    location: Location | None
    compromised: list[CompromiseNote] | None = Field(
        default=None,
        description="coordinators: every time the shelter was marked compromised (empty: "
        "never); absent for its managers",
    )


class ShelterUpdateOut(Out):
    """One recorded change to a shelter."""

    at: dt.datetime
    by: str | None
    kind: str
    fields: list[str]


# --- operations and arrivals ------------------------------------------------------------
class OperationIn(In):
    """A dismantling: a pseudonymous reference, a date, the danger locations it shares."""

    reference: Identifier
    date: Day
    danger: tuple[Danger, ...] = Field(min_length=1, max_length=MAX_ITEMS)


class OperationOut(Out):
    """An operation, with counts of its arrivals (coordinators only)."""

    id: int
    reference: str
    date: dt.date
    danger: tuple[Danger, ...]
    created_at: dt.datetime
    arrivals_waiting: int
    arrivals_placed: int


class ArrivalIn(Arrival):
    """An arrival in the scenario format; ``danger`` defaults to the operation's."""

    danger: tuple[Danger, ...] | None = Field(  # type: ignore[assignment]
        default=None, min_length=1, max_length=MAX_ITEMS
    )


class ArrivalBatchIn(In):
    """Several arrivals at once, all or none."""

    arrivals: list[ArrivalIn] = Field(min_length=1)


class ArrivalOut(Arrival):
    """An arrival as coordinators see it, with its danger locations and status."""

    operation_id: int
    status: str
    created_at: dt.datetime
    waitlisted_at: dt.datetime | None = Field(
        default=None, description="on the waiting list since (retried when places free up)"
    )
    waiting_reasons: list[str] | None = Field(
        default=None, description="why the last re-plan found no place"
    )


# --- placements -------------------------------------------------------------------------
class PlacementOut(Out):
    """A committed placement as coordinators see it."""

    id: int
    arrival_id: str
    shelter_id: str
    plan_id: str | None
    first_night: dt.date
    last_night: dt.date
    persons: int
    active: bool
    committed_at: dt.datetime
    released_at: dt.datetime | None
    status: str = Field(description="proposed, accepted or declined (or compromised)")
    answer_reason: str | None
    answered_at: dt.datetime | None
    answer_due_at: dt.datetime | None
    escalated_at: dt.datetime | None
    compromised: list[CompromiseNote] = Field(
        default_factory=list,
        description="the shelter was marked compromised (empty: never); not in the answers "
        "of a commit or a free",
    )


class ManagerPlacementOut(Out):
    """A placement as the receiving shelter's manager sees it: nothing else about the case."""

    id: int
    shelter_id: str
    arrival_id: str = Field(description="pseudonymous id")
    first_night: dt.date
    last_night: dt.date
    children: int
    needs: tuple[str, ...]
    languages: tuple[str, ...]
    active: bool
    status: str = Field(description="proposed, accepted or declined")
    answer_reason: str | None
    answer_due_at: dt.datetime | None = Field(description="answer before this")


class AnswerIn(In):
    """A shelter manager's answer to a proposed placement."""

    reason: str | None = Field(default=None, max_length=200, description="optional; no names")


class ReplanOut(Out):
    """A re-plan of one person or household: the new proposal, or why there is no place."""

    arrival_ids: list[str]
    shelter_id: str | None = Field(description="None: no place; on the waiting list")
    placement_ids: list[int]
    admissible: int = Field(description="shelters every rule admits, excluded ones aside")
    with_room: int = Field(description="of those, shelters with room for the whole stay")
    reasons: list[str] = Field(description="why there is no place (the engine's explanation)")


class AnswerOut(Out):
    """The answered placement; coordinators also see the re-plan a decline started."""

    placement_id: int
    status: str
    answer_reason: str | None
    replan: ReplanOut | None = None


class AlertOut(Out):
    """Something coordinators must act on."""

    id: int
    at: dt.datetime
    kind: str = Field(description="escalation, no_place, replanned")
    placement_id: int | None
    arrival_id: str | None
    shelter_id: str | None
    detail: str
    resolved_at: dt.datetime | None


def _scope_needs(scope: str, field: str, schema: JsonDict) -> JsonDict:
    """JSON Schema: with this ``scope``, ``field`` is given (the service's rule)."""
    return {
        "anyOf": [{"properties": {"scope": {"not": {"const": scope}}}}, json_given(field, schema)]
    }


SCOPE_NEEDS: JsonDict = {
    "allOf": [
        _scope_needs("network", "network", {"type": "string"}),
        _scope_needs("operation", "operation_id", {"type": "integer"}),
    ]
}


class CompromisedIn(In):
    """A shelter the network found, and who must never be placed there."""

    model_config = ConfigDict(json_schema_extra=SCOPE_NEEDS)

    scope: CompromisedScope = Field(
        default="everyone",
        description=(
            "everyone (the default): the shelter is set inactive, out of every plan until a "
            "coordinator sets it active again; operation: the operation's arrivals never go "
            "there; network: the network's arrivals never go there"
        ),
    )
    network: Identifier | None = Field(
        default=None, description="the network; its arrivals never go there again (any scope)"
    )
    operation_id: RowRef | None = Field(
        default=None, description="the operation (required for the operation scope)"
    )


class CompromisedOut(Out):
    """The shelter, the scope and the re-plans of the people who were placed there."""

    shelter_id: str
    scope: CompromisedScope
    network: str | None
    operation_id: int | None
    replans: list[ReplanOut]


class CompromisedShelterOut(Out):
    """A shelter marked compromised: when, by whom, for whom, and whether it is still out of
    every plan (``shelter_active`` false)."""

    id: int
    shelter_id: str
    scope: CompromisedScope
    network: str | None
    operation_id: int | None
    at: dt.datetime
    by: int | None
    shelter_active: bool


class HoldProfile(In):
    """Who the places are for; the engine picks shelters that fit (operation's danger too)."""

    gender: Gender = "woman"
    children: Children = Field(default=0, description="per person")
    languages: Languages = Field(default=("fr",), min_length=1)


#: places held at one named shelter (one stand-in carries at most 20 children)
MAX_HOLD_PLACES = 20


class HoldIn(In):
    """Hold places for an operation: at a named shelter, or matching a profile."""

    model_config = ConfigDict(
        json_schema_extra={  # the service's rules (``api.services.holds``), in the document
            "oneOf": [
                {
                    **json_given("shelter_id", {"type": "string"}),
                    "properties": {
                        "shelter_id": {"type": "string"},
                        "places": {"maximum": MAX_HOLD_PLACES},
                        "profile": {"type": "null"},
                    },
                },
                {
                    "required": ["profile"],
                    "properties": {"profile": {"type": "object"}, "shelter_id": {"type": "null"}},
                },
            ]
        }
    )

    shelter_id: Identifier | None = Field(default=None, description="a named shelter")
    profile: HoldProfile | None = Field(
        default=None, description="instead of a shelter: the engine picks shelters that fit"
    )
    places: Annotated[int, Field(strict=True), WHOLE] = Field(
        ge=1,
        le=60,
        description="places at the named shelter (at most 20); with a profile, the number of "
        "people of that profile (each with their children)",
    )
    first_night: Day | None = Field(default=None, description="default: the operation date")
    nights: Nights = 30
    expires_in_hours: Annotated[float, Field(strict=True)] = Field(default=12.0, gt=0, le=24 * 14)


class HoldOut(Out):
    """A hold (coordinators only: holds are confidential)."""

    id: int
    operation_id: int
    shelter_id: str
    places: int
    first_night: dt.date
    last_night: dt.date
    expires_at: dt.datetime
    status: str = Field(description="active, used, expired or released")
    profile: dict[str, Any] | None


COUNTS = (
    "arrivals",
    "persons",
    "placed",
    "withdrawn",
    "proposals",
    "accepted",
    "declined",
    "compromised",
)


class ReportCountOut(Out):
    """Aggregates kept after case data were purged, for one month (end of the stays)."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")
    period: str = Field(description="YYYY-MM")
    arrivals: int = 0
    persons: int = 0
    placed: int = 0
    withdrawn: int = 0
    proposals: int = 0
    accepted: int = 0
    declined: int = 0
    compromised: int = 0


# --- plans ------------------------------------------------------------------------------
class PlanIn(In):
    """Ask for a plan: for one operation's waiting arrivals, or for every waiting arrival."""

    operation_id: RowRef | None = Field(
        default=None, description="an operation; omit to plan every waiting arrival"
    )
    start: Day | None = Field(
        default=None, description="first night; default: the operation date (or the earliest)"
    )
    horizon_days: Nights = 30
    solver: SolverName = "cpsat"
    time_limit: TimeLimit | None = Field(default=None, description="seconds")
    explain: bool = True
    policy: Policy = Policy()


class StaleNote(Out):
    """What the plan did with stale places (not confirmed for PLACEMENT_STALE_AFTER_HOURS)."""

    policy: str = Field(description="policy.stale_capacity: use, last_resort or exclude")
    stale_shelters: list[str] = Field(description="shelters flagged stale when it was solved")
    placed_in_stale: list[str] = Field(description="arrivals the plan puts in a stale shelter")


class PlanJobOut(Out):
    """A plan job: its status, then the plan with the engine's explanations."""

    id: str
    status: str
    operation_id: int | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    error: str | None
    options: JobOptions
    committed_at: dt.datetime | None
    result: Plan | None
    stale: StaleNote | None = None
    compromised_shelters: list[CompromiseNote] = Field(
        default_factory=list,
        description="shelters the plan places people in that were marked compromised (before "
        "or after the solve); a commit into an inactive one is refused",
    )
    progress: dict[str, Any] | None = Field(
        default=None,
        description="while solving: the stage, seconds, persons placed by priority so far, "
        "whether that is proven optimal, and the upper bound on persons placed at each "
        "priority or above once known",
    )


class CommitOut(Out):
    """The placements a commit created."""

    plan_id: str
    placements: list[PlacementOut]


# --- the rest ---------------------------------------------------------------------------
class MeOut(Out):
    """The caller."""

    handle: str
    role: str
    shelters: list[str]


class AuditOut(Out):
    """One audit record."""

    id: int
    at: dt.datetime
    user: str | None
    role: str
    action: str
    object_type: str
    object_id: str
    detail: str
    on_behalf_of: str | None = Field(
        default=None, description="the system's acts: the handle whose act started it"
    )
    trigger: str | None = Field(
        default=None,
        description="the system's acts: what started it (declined, unanswered, compromised, "
        "waiting list)",
    )


class StatsOut(Out):
    """Aggregates for analysts: counts, never a case or an address."""

    shelters: int
    places_tonight: int
    free_places_tonight: int
    arrivals_waiting: int
    arrivals_placed: int
    operations: int
    placements_active: int
