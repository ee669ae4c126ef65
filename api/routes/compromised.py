"""``/compromised-shelters``: the shelters marked compromised (``POST
/shelters/{id}/compromised``), for coordinators."""

from __future__ import annotations

from typing import cast

from fastapi import APIRouter

from api.deps import Coordinator, SessionDep
from api.schemas import CompromisedScope, CompromisedShelterOut
from api.services import compromised

router = APIRouter(prefix="/compromised-shelters")


@router.get("", response_model=list[CompromisedShelterOut], tags=["live operations"])
def list_compromised(who: Coordinator, session: SessionDep) -> list[CompromisedShelterOut]:
    """Shelters marked compromised, newest first, with their scope and whether the shelter is
    still out of every plan (coordinators)."""
    return [
        CompromisedShelterOut(
            id=c.id or 0,
            shelter_id=c.shelter_id,
            scope=cast(CompromisedScope, c.scope),
            network=c.network,
            operation_id=c.operation_id,
            at=c.at,
            by=c.by,
            shelter_active=active,
        )
        for c, active in compromised.compromised_list(session, who)
    ]
