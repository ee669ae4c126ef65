"""The pages' dependencies: the visitor from the session cookie, the role check (the JSON
API's ``api.deps.admit``), and forms checked against CSRF.

The visitor's principal is the one ``api.auth`` builds for a bearer token: pages call the same
services with it. A page without a valid session redirects to the log-in page
(``LoginRequired``); a role that may not see it gets the 403 page.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from sqlmodel import Session
from starlette.datastructures import FormData

from api.auth import Principal
from api.config import Settings
from api.deps import (
    COORDINATORS,
    COORDINATORS_OR_ANALYSTS,
    COORDINATORS_OR_MANAGERS,
    EngineDep,
    SessionDep,
    SettingsDep,
    admit,
)
from api.web.sessions import Visitor, touch, visitor

#: the session cookie (HttpOnly, SameSite=Strict, Secure behind HTTPS)
SESSION_COOKIE = "placement_session"
#: before log-in, forms carry the value of this cookie as their CSRF token (double submit)
PRE_CSRF_COOKIE = "placement_csrf"
#: the name of the CSRF field of every form
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No valid session: the page redirects to the log-in page."""


class PageError(Exception):
    """A page refused with a status and a message (already in the reader's language)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class FormExpired(Exception):
    """A form whose CSRF token does not match: refused with 403 (nothing done)."""


def page_visitor(
    request: Request,
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    later: BackgroundTasks,
) -> Visitor:
    """The logged-in visitor, from the session cookie; ``LoginRequired`` otherwise."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise LoginRequired
    found, due = visitor(session, settings, cookie)
    session.commit()  # the read transaction ends here; the page begins its own
    if found is None:
        raise LoginRequired
    if due:
        later.add_task(touch, engine, found.session_id)
    request.state.visitor = found
    return found


VisitorDep = Annotated[Visitor, Depends(page_visitor)]


def page_role(*roles: str) -> Callable[[Visitor], Principal]:
    """A dependency admitting only ``roles``, with the JSON API's own check."""

    def check(who: VisitorDep) -> Principal:
        return admit(who.principal, roles)

    return check


PageCoordinator = Annotated[Principal, Depends(page_role(*COORDINATORS))]
PageCoordinatorOrManager = Annotated[Principal, Depends(page_role(*COORDINATORS_OR_MANAGERS))]
PageCoordinatorOrAnalyst = Annotated[Principal, Depends(page_role(*COORDINATORS_OR_ANALYSTS))]
PageUser = Annotated[Principal, Depends(page_role("coordinator", "shelter_manager", "analyst"))]


def same_token(sent: object, expected: str | None) -> bool:
    """True when a form's CSRF token is the expected one (constant-time comparison)."""
    if not isinstance(sent, str) or not expected:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


async def checked_form(request: Request, who: VisitorDep) -> FormData:
    """The posted form, after its CSRF token was checked against the session's."""
    form = await request.form()
    if not same_token(form.get(CSRF_FIELD), who.csrf):
        raise FormExpired
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


async def pre_login_form(request: Request) -> FormData:
    """A form posted before log-in: its token must equal the ``PRE_CSRF_COOKIE`` cookie."""
    form = await request.form()
    if not same_token(form.get(CSRF_FIELD), request.cookies.get(PRE_CSRF_COOKIE)):
        raise FormExpired
    return form


PreLoginForm = Annotated[FormData, Depends(pre_login_form)]


def new_pre_csrf(request: Request) -> str:
    """The browser's pre-log-in CSRF token (its cookie's value, or a new one to set)."""
    return request.cookies.get(PRE_CSRF_COOKIE) or secrets.token_urlsafe(32)


def client_address(request: Request) -> str:
    """The client's address, for throttling failed log-ins."""
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class CoordinatorPage:
    """What a coordinator's page handler works with: the request, the coordinator, the
    request's database session and the settings."""

    request: Request
    who: Principal
    session: Session
    settings: Settings


def coordinator_page(
    request: Request,
    who: PageCoordinator,
    session: SessionDep,
    settings: SettingsDep,
) -> CoordinatorPage:
    """A coordinator's page (``LoginRequired`` / 403 otherwise)."""
    return CoordinatorPage(request, who, session, settings)


CoordinatorPageDep = Annotated[CoordinatorPage, Depends(coordinator_page)]
