"""``/me``: who the token belongs to."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser
from api.schemas import MeOut

router = APIRouter(prefix="/me", tags=["me"])


@router.get("")
def me(who: CurrentUser) -> MeOut:
    """Who the token belongs to."""
    return MeOut(handle=who.handle, role=who.role, shelters=sorted(who.shelters))
