"""``/arrivals``: arrivals across operations (coordinators)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from api.deps import Coordinator, PageDep, ReaderDep, SessionDep, WriteSessionDep
from api.schemas import ArrivalOut
from api.services import arrivals as service
from api.store import FIRST_PAGE
from api.views import arrival_out

router = APIRouter(prefix="/arrivals", tags=["arrivals"])


@router.get("")
def list_arrivals(
    who: Coordinator,
    session: SessionDep,
    t: ReaderDep,
    status: Literal["waiting", "placed", "withdrawn"] | None = None,
    page: PageDep = FIRST_PAGE,
) -> list[ArrivalOut]:
    """Arrivals, optionally by status (why one waits: in the language of ``?lang=`` or
    ``Accept-Language``, English by default)."""
    return [arrival_out(r, t) for r in service.arrivals(session, who, status, page)]


@router.get("/{arrival_id}")
def read_arrival(
    arrival_id: str, who: Coordinator, session: SessionDep, t: ReaderDep
) -> ArrivalOut:
    """One arrival, with its danger locations."""
    return arrival_out(service.read_arrival(session, arrival_id, who), t)


@router.delete("/{arrival_id}")
def withdraw_arrival(arrival_id: str, who: Coordinator, session: WriteSessionDep) -> ArrivalOut:
    """Withdraw a waiting arrival (it will not be planned). A placed one must be freed first."""
    return arrival_out(service.withdraw_arrival(session, arrival_id, who))
