"""The placement service: a FastAPI application over the placement engine.

``create_app(settings)`` builds it (tests make one per database); ``app`` is the one
``uvicorn api.main:app`` serves, configured from the environment.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors, openapi
from api.config import Settings
from api.db import make_engine, migrate
from api.plan_jobs import JobRunner
from api.read_cache import ShelterCaches
from api.routes import (
    alerts,
    arrivals,
    audit,
    compromised,
    holds,
    me,
    operations,
    placements,
    plans,
    reports,
    shelters,
    stats,
    stress,
    waitlist,
    whatif,
)
from api.services.waitlist import Retries
from api.solve_slots import SolveRate
from api.timing import ServerTiming
from api.web.app import install as install_web

log = logging.getLogger(__name__)

DESCRIPTION = """
Live shelter capacity, arrivals, plans and placements for the national mechanism.

Authenticate with `Authorization: Bearer <token>` (tokens from `placement users add`).
Every 4xx answer is JSON: `{"detail": ..., "errors": [{"field": ..., "problem": ...}]}`.
"""


def create_app(settings: Settings | None = None, run_migrations: bool = True) -> FastAPI:
    """The application, bound to the database the settings name."""
    settings = settings or Settings()
    if run_migrations:
        migrate(settings.url())
    if settings.start_method == "forkserver":
        # solver children start from a server that has already imported the solver
        multiprocessing.get_context("forkserver").set_forkserver_preload(["solver.engine"])
    engine = make_engine(settings)
    runner = JobRunner(engine, settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runner.recover()
        yield
        runner.shutdown()
        engine.dispose()

    app = FastAPI(
        title="Placement service", version="0.1.0", description=DESCRIPTION, lifespan=lifespan
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.runner = runner
    app.state.solve_rate = SolveRate(settings.solve_requests_per_minute)
    app.state.waitlist_retries = Retries(settings.waitlist_after_change_seconds)
    app.state.shelter_caches = ShelterCaches.new()
    errors.install(app)
    app.openapi = lambda: openapi.document(app)  # type: ignore[method-assign]
    app.add_middleware(errors.BodyLimit, limit=settings.max_body_bytes)
    for module in (  # one router per URL prefix
        me,
        stats,
        alerts,
        waitlist,
        reports,
        holds,
        shelters,
        compromised,
        operations,
        arrivals,
        plans,
        placements,
        whatif,
        audit,
        stress,
    ):
        app.include_router(module.router)
    install_web(app)  # the web pages, under /app/
    app.add_middleware(ServerTiming)  # added last, so outermost: the whole of the service's time
    return app


def app_from_env() -> FastAPI:
    """The application configured from ``PLACEMENT_*`` (for ``uvicorn --factory``).

    The objects made so far (modules, the routes' models and validators, about 170,000
    objects) live as long as the process: frozen, the garbage collector no longer walks them
    on each full collection, which had stopped every request of the worker for 80-160 ms
    about once a second under load (``benchmarks/load/bench_load.py``)."""
    app = create_app(Settings())
    gc.collect()
    gc.freeze()
    return app
