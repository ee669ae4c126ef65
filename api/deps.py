"""Annotated dependencies: settings, a database session, the caller and role checks.

Those that only read the application's state or the request are ``async``: FastAPI runs
them on the event loop, where a plain ``def`` would cost a hop to a worker thread each
(and, under load, a wait for the interpreter's lock on the way back)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.auth import Principal, authenticate, note_use
from api.config import Settings
from api.db import begin_write, request_session
from api.errors import ApiError, reader_translator
from api.plan_jobs import JobRunner
from api.read_cache import ShelterCaches
from api.services.waitlist import ClaimedRetry, Retries, retry_after_change
from api.solve_slots import SolveRate
from api.store import DEFAULT_PAGE, MAX_PAGE, Page
from placement.i18n import LOCALES, Translator
from placement.text import message

_bearer = HTTPBearer(auto_error=False, description="a token from `placement users add`")


async def get_settings(request: Request) -> Settings:
    """The application's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    """The application's database engine."""
    engine: Engine = request.app.state.engine
    return engine


async def get_runner(request: Request) -> JobRunner:
    """The plan job runner."""
    runner: JobRunner = request.app.state.runner
    return runner


async def get_reader(
    request: Request,
    lang: Annotated[
        str | None,
        Query(
            description="language of the engine's texts: fr or en (default: Accept-Language, "
            "else en)",
            json_schema_extra={"enum": list(LOCALES)},
        ),
    ] = None,
) -> Translator:
    """The reader's language for the engine's reasons, relaxations and problems
    (``?lang=``, else ``Accept-Language``, else English); 422 for a language not spoken."""
    if lang is not None and lang not in LOCALES:
        choices = message("one of {choices}", choices=", ".join(LOCALES))
        raise ApiError(422, message("invalid language"), [("query.lang", choices)])
    return reader_translator(request)


async def get_shelter_caches(request: Request) -> ShelterCaches:
    """This process's caches of what is read of the shelters (``api.read_cache``)."""
    caches: ShelterCaches = request.app.state.shelter_caches
    return caches


SettingsDep = Annotated[Settings, Depends(get_settings)]
ShelterCachesDep = Annotated[ShelterCaches, Depends(get_shelter_caches)]
ReaderDep = Annotated[Translator, Depends(get_reader)]
EngineDep = Annotated[Engine, Depends(get_engine)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]


def get_session(engine: EngineDep) -> Iterator[Session]:
    """The one session of a request, authentication included. It reads without the write
    lock (``api.db.request_session``); routes that write depend on ``WriteSessionDep``.
    Closed when the route returns, before the response is sent (``scope="function"``)."""
    with request_session(engine) as session:
        try:
            yield session
        finally:
            session.rollback()  # whatever is still open ends here, before the answer


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def current_user(
    session: SessionDep,
    engine: EngineDep,
    later: BackgroundTasks,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``; 401 otherwise."""
    unauthorized = ApiError(
        401,
        message("missing or invalid bearer token"),
        [("header.authorization", message("expected 'Bearer <token>' with a valid token"))],
        headers={"WWW-Authenticate": "Bearer"},
    )
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized
    found = authenticate(session, credentials.credentials)
    session.commit()  # the read transaction ends here; the route begins its own
    if found is None:
        raise unauthorized
    if found.note_use_of is not None:
        later.add_task(note_use, engine, found.note_use_of)
    return found.principal


CurrentUser = Annotated[Principal, Depends(current_user)]


def solve_slot(runner: RunnerDep, settings: SettingsDep) -> Iterator[None]:
    """A solver slot of this process for the route (what-ifs, re-plans), waited for
    ``solve_queue_seconds`` at most (else 429), given back when the route returns."""
    with runner.slots.held(settings.solve_queue_seconds):
        yield


async def counted_solve(request: Request, who: CurrentUser) -> Principal:
    """The caller, counted against the rate of solve requests (429 past it)."""
    rate: SolveRate = request.app.state.solve_rate
    rate.count(who.id)
    return who


@dataclass(frozen=True)
class WaitlistAfterChange:
    """Retries the waiting list once the answer is sent (``api.services.waitlist.Retries``
    decides whether one is due)."""

    tasks: BackgroundTasks
    engine: Engine
    settings: Settings
    runner: JobRunner
    retries: Retries

    def retry_waitlist(self, shelter_id: str) -> None:
        """``shelter_id`` changed: the waiting list is retried after the answer (or by the
        retry already under way in this process, ``every`` seconds after its last)."""
        if self.retries.claim(shelter_id):
            after = ClaimedRetry(self.engine, self.settings, self.runner.slots, self.retries)
            self.tasks.add_task(retry_after_change, after)


async def after_change(
    request: Request,
    tasks: BackgroundTasks,
    engine: EngineDep,
    settings: SettingsDep,
    runner: RunnerDep,
) -> WaitlistAfterChange:
    """What a shelter change starts once answered."""
    retries: Retries = request.app.state.waitlist_retries
    return WaitlistAfterChange(tasks, engine, settings, runner, retries)


AfterChange = Annotated[WaitlistAfterChange, Depends(after_change)]


#: a solver slot held while the route runs (declare it after the role check)
SolveSlot = Annotated[None, Depends(solve_slot, scope="function")]
#: the caller of a solve request (plans, what-ifs), rate-limited
SolveRequester = Annotated[Principal, Depends(counted_solve)]


def write_session(session: SessionDep, who: CurrentUser) -> Session:
    """The request's session, after authentication, in a write transaction
    (``api.db.begin_write``: on SQLite the write lock, waited for ``db_wait_seconds``)."""
    begin_write(session)
    return session


WriteSessionDep = Annotated[Session, Depends(write_session)]


def require(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only ``roles`` (403 for any other authenticated caller)."""

    async def check(who: CurrentUser) -> Principal:
        return admit(who, roles)

    return check


def admit(who: Principal, roles: tuple[str, ...]) -> Principal:
    """``who`` if their role is one of ``roles``, else a 403 ``ApiError``: the one role check
    of the JSON API and the web pages (``api.web.deps``)."""
    if who.role not in roles:
        raise ApiError(
            403,
            message("not allowed for the role {role}", role=who.role),
            [("role", message("{role} may not use this endpoint", role=who.role))],
        )
    return who


#: who may use what: the JSON API's dependencies below and the web pages' share these
COORDINATORS = ("coordinator",)
COORDINATORS_OR_MANAGERS = ("coordinator", "shelter_manager")
COORDINATORS_OR_ANALYSTS = ("coordinator", "analyst")

Coordinator = Annotated[Principal, Depends(require(*COORDINATORS))]
CoordinatorOrManager = Annotated[Principal, Depends(require(*COORDINATORS_OR_MANAGERS))]
CoordinatorOrAnalyst = Annotated[Principal, Depends(require(*COORDINATORS_OR_ANALYSTS))]


async def page(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="rows per page")] = DEFAULT_PAGE,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1, description="rows skipped")] = 0,
) -> Page:
    """The page of a list the caller asks for (``?limit=&offset=``)."""
    return Page(limit, offset)


PageDep = Annotated[Page, Depends(page)]


#: an integer id in a path: refused with 422 before it reaches the database if out of range
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
