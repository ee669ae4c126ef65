"""``/operations``: operations (a dismantling, a date, shared danger locations), their
arrivals and their holds (coordinators)."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlmodel import Session

from api.deps import (
    Coordinator,
    EngineDep,
    PageDep,
    ReaderDep,
    RowId,
    SessionDep,
    SettingsDep,
    SolveSlot,
    WriteSessionDep,
)
from api.schemas import (
    ArrivalBatchIn,
    ArrivalIn,
    ArrivalOut,
    HoldIn,
    HoldOut,
    OperationIn,
    OperationOut,
)
from api.services import holds
from api.services import operations as service
from api.store import FIRST_PAGE
from api.tables import Operation
from api.views import arrival_out, hold_out, operation_out

router = APIRouter(prefix="/operations")


def _out(session: Session, op: Operation) -> OperationOut:
    return operation_out(op, service.arrival_counts(session, op.id))


@router.post("", status_code=status.HTTP_201_CREATED, tags=["operations"])
def create_operation(
    body: OperationIn, who: Coordinator, session: WriteSessionDep, settings: SettingsDep
) -> OperationOut:
    """Record an operation (coordinators)."""
    return _out(session, service.create_operation(session, settings, body, who))


@router.get("", tags=["operations"])
def list_operations(
    who: Coordinator, session: SessionDep, page: PageDep = FIRST_PAGE
) -> list[OperationOut]:
    """Operations, oldest first, with their arrivals by status (coordinators)."""
    ops = service.operations(session, who, page)
    counts = service.counts_by_operation(session, [op.id for op in ops if op.id is not None])
    return [operation_out(op, counts.get(op.id or 0, {})) for op in ops]


@router.get("/{operation_id}", tags=["operations"])
def read_operation(operation_id: RowId, who: Coordinator, session: SessionDep) -> OperationOut:
    """One operation, with its danger locations (coordinators)."""
    return _out(session, service.read_operation(session, operation_id, who))


@router.post("/{operation_id}/arrivals", status_code=status.HTTP_201_CREATED, tags=["operations"])
def add_arrival(
    operation_id: RowId,
    body: ArrivalIn,
    who: Coordinator,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> ArrivalOut:
    """Add one arrival; its ``danger`` defaults to the operation's."""
    return arrival_out(service.add_arrival(session, settings, operation_id, body, who))


@router.post(
    "/{operation_id}/arrivals/batch", status_code=status.HTTP_201_CREATED, tags=["operations"]
)
def add_arrivals(
    operation_id: RowId,
    body: ArrivalBatchIn,
    who: Coordinator,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> list[ArrivalOut]:
    """Add several arrivals, all or none."""
    rows = service.add_batch(session, settings, operation_id, body.arrivals, who)
    return [arrival_out(r) for r in rows]


@router.get("/{operation_id}/arrivals", tags=["operations"])
def operation_arrivals(
    operation_id: RowId, who: Coordinator, session: SessionDep, t: ReaderDep
) -> list[ArrivalOut]:
    """The arrivals of an operation (coordinators)."""
    return [arrival_out(r, t) for r in service.operation_arrivals(session, operation_id, who)]


@router.post("/{operation_id}/holds", status_code=status.HTTP_201_CREATED, tags=["holds"])
def create_holds(
    operation_id: RowId,
    body: HoldIn,
    who: Coordinator,
    engine: EngineDep,
    settings: SettingsDep,
    slot: SolveSlot,
) -> list[HoldOut]:
    """Hold places for the operation until they expire: at a named shelter, or ``places``
    matching a ``profile`` in shelters the engine picks (all or nothing). Other plans do not
    see held places; the operation's own plans do."""
    return [hold_out(h) for h in holds.create_holds(engine, settings, operation_id, body, who)]


@router.get("/{operation_id}/holds", tags=["holds"])
def list_holds(operation_id: RowId, who: Coordinator, session: SessionDep) -> list[HoldOut]:
    """The operation's holds, every status."""
    return [hold_out(h) for h in holds.operation_holds(session, operation_id, who)]
