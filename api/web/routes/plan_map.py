"""The map of a plan on a page of its own (coordinators, like ``/plans``); the plan page
embeds the same macro (``templates/_map.html``) with the same payload."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep
from api.services.plan_map import plan_map
from api.web.deps import PageCoordinator
from api.web.render import render

router = APIRouter()


@router.get("/plans/{plan_id}/map", response_class=HTMLResponse)
def plan_map_page(
    request: Request, plan_id: str, who: PageCoordinator, session: SessionDep
) -> HTMLResponse:
    """The plan's map: départements, danger circles, excluded départements, shelter loads."""
    payload = plan_map(session, plan_id, who)
    return render(request, "plan_map.html", plan_id=plan_id, payload=payload)
