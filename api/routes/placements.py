"""``/placements``: committed placements; coordinators see and free them, managers see and
answer (accept, decline) the proposals into their own shelters."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import (
    Coordinator,
    CoordinatorOrManager,
    PageDep,
    RowId,
    SessionDep,
    SettingsDep,
    SolveSlot,
)
from api.schemas import AnswerIn, AnswerOut, ManagerPlacementOut, PlacementOut
from api.services import placements as service
from api.services import proposals
from api.store import FIRST_PAGE
from api.views import manager_placement_out, placement_out, placements_out, replan_out

router = APIRouter(prefix="/placements")


@router.get("", response_model=list[PlacementOut] | list[ManagerPlacementOut], tags=["placements"])
def list_placements(
    who: CoordinatorOrManager, session: SessionDep, active: bool = True, page: PageDep = FIRST_PAGE
) -> list[PlacementOut] | list[ManagerPlacementOut]:
    """Placements: all for coordinators; for a manager, those into their own shelters."""
    return placements_out(who, service.placements(session, who, active, page))


@router.get(
    "/{placement_id}",
    response_model=PlacementOut | ManagerPlacementOut,
    tags=["placements"],
)
def read_placement(
    placement_id: RowId, who: CoordinatorOrManager, session: SessionDep
) -> PlacementOut | ManagerPlacementOut:
    """One placement (managers: only into their own shelter)."""
    row, arrival = service.read_placement(session, placement_id, who)
    if who.role == "coordinator":
        return placement_out(row)
    return manager_placement_out(row, arrival)


@router.delete("/{placement_id}", tags=["placements"])
def free_placement(
    placement_id: RowId,
    who: Coordinator,
    session: SessionDep,
    settings: SettingsDep,
    slot: SolveSlot,
) -> PlacementOut:
    """Free a committed placement: its places return, its arrival waits again."""
    return placement_out(service.free(session, settings, placement_id, who))


@router.post("/{placement_id}/accept", tags=["live operations"])
def accept(
    placement_id: RowId,
    who: CoordinatorOrManager,
    session: SessionDep,
    body: AnswerIn | None = None,
) -> AnswerOut:
    """The shelter accepts a proposed placement (its managers; coordinators on their behalf)."""
    answer = proposals.accept(session, placement_id, who, body.reason if body else None)
    return AnswerOut(
        placement_id=answer.placement_id, status=answer.status, answer_reason=answer.answer_reason
    )


@router.post("/{placement_id}/decline", tags=["live operations"])
def decline(
    placement_id: RowId,
    who: CoordinatorOrManager,
    session: SessionDep,
    settings: SettingsDep,
    slot: SolveSlot,
    body: AnswerIn | None = None,
) -> AnswerOut:
    """Decline a proposed placement: the place is freed and the person re-planned elsewhere.

    The re-plan excludes the declining shelter and moves no one else; when nothing fits the
    person goes on the waiting list with the engine's reasons. Freed places are then offered
    to the waiting list.
    """
    answer = proposals.decline(session, settings, placement_id, who, body.reason if body else None)
    # where the person goes is for coordinators only
    shown = answer.replan if who.role == "coordinator" else None
    return AnswerOut(
        placement_id=answer.placement_id,
        status=answer.status,
        answer_reason=answer.answer_reason,
        replan=replan_out(shown) if shown is not None else None,
    )
