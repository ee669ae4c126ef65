"""Mount the web app on the service's FastAPI application: the pages under ``/app/``, the
static assets under ``/app/static/``, the security headers of every page, and the pages'
own answers to errors (HTML, in the reader's language), leaving the JSON API's unchanged.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.domain_errors import NotFound, ServiceError
from api.errors import ApiError, refusal
from api.web import HERE
from api.web.deps import FormExpired, LoginRequired, PageError
from api.web.engine_texts import engine_text
from api.web.render import render, web_translator
from api.web.routes import (  # the field pages
    auth,
    dashboard,
    operations,
    plan_map,
    plans,
    shelter,
    shelters,
    stress,
    whatif,
)
from placement.i18n import N_, Translator

log = logging.getLogger(__name__)

PREFIX = "/app"
STATIC = f"{PREFIX}/static"
#: only this origin: no third-party script, style, image, font or connection, no inline script
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # a log-in link in the address bar must not leak to another page through Referer
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
#: pages hold case data: never stored by the browser or a proxy
NO_STORE = "no-store"

NOT_FOUND = N_("This page does not exist, or it is not yours to see.")
FORBIDDEN = N_("Your role does not give access to this page.")
FORM_EXPIRED = N_("This form has expired. Reload the page and try again.")
BAD_ADDRESS = N_("This address is not valid.")
UNEXPECTED = N_("Something went wrong on our side. The team has been told; try again shortly.")

Handler = Callable[[Request, Any], Any]


def is_page(request: Request) -> bool:
    """True for a web page (its errors are pages too), not for the JSON API."""
    return is_page_path(request.url.path)


def is_page_path(path: str) -> bool:
    """True for the path of a web page or of its assets."""
    return path == PREFIX or path.startswith(PREFIX + "/")


class PageHeaders:
    """ASGI middleware: the pages' security headers, and no caching of a page (its assets
    may be cached); the JSON API's answers pass untouched. A plain ASGI middleware, not
    Starlette's ``BaseHTTPMiddleware``, which cost every request of the API a task and a
    stream of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_page_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        asset = scope["path"].startswith(STATIC + "/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not asset:
                    headers["Cache-Control"] = NO_STORE
            await send(message)

        await self.app(scope, receive, with_headers)


def _error_page(request: Request, status: int, message: str) -> Response:
    return render(request, "error.html", status=status, message=message)


def _page_refusal(request: Request, exc: Exception) -> Response:
    """The page answering ``exc`` on a page (the JSON API keeps its own handlers)."""
    t = web_translator(request)
    if isinstance(exc, LoginRequired):
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"{PREFIX}/login?next={target}", status_code=303)
    if isinstance(exc, PageError):
        return _error_page(request, exc.status, exc.message)
    if isinstance(exc, FormExpired):
        return _error_page(request, 403, t.gettext(FORM_EXPIRED))
    if isinstance(exc, NotFound):
        return _error_page(request, 404, t.gettext(NOT_FOUND))
    if isinstance(exc, ApiError) and exc.status == 403:
        return _error_page(request, 403, t.gettext(FORBIDDEN))
    if isinstance(exc, RequestValidationError):
        return _error_page(request, 404, t.gettext(BAD_ADDRESS))
    if isinstance(exc, StarletteHTTPException) and exc.status_code in (404, 405):
        return _error_page(request, exc.status_code, t.gettext(NOT_FOUND))
    return _other_refusal(request, t, exc)


def _other_refusal(request: Request, t: Translator, exc: Exception) -> Response:
    """A refusal no page handled itself (a conflict, a limit...), or an unexpected error."""
    if isinstance(exc, ServiceError):
        status, _ = refusal(exc)
        problems = [exc.detail, *(p for _, p in exc.errors)]
        return _error_page(request, status, "; ".join(engine_text(t, p) for p in problems))
    if isinstance(exc, ApiError):
        return _error_page(request, exc.status, engine_text(t, exc.detail))
    if isinstance(exc, StarletteHTTPException) and exc.status_code < 500:
        return _error_page(request, exc.status_code, t.gettext(BAD_ADDRESS))
    log.error("page error", exc_info=exc)
    return _error_page(request, 500, t.gettext(UNEXPECTED))


def _wrap(previous: Handler | None) -> Handler:
    async def handle(request: Request, exc: Any) -> Response:
        if is_page(request) or previous is None:
            return _page_refusal(request, exc)
        assert previous is not None
        answer = previous(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    return handle


def _install_error_pages(app: FastAPI) -> None:
    for kind in (ServiceError, ApiError, RequestValidationError, StarletteHTTPException, Exception):
        app.exception_handlers[kind] = _wrap(app.exception_handlers.get(kind))
    for page_only in (LoginRequired, PageError, FormExpired):
        app.exception_handlers[page_only] = _wrap(None)


def install(app: FastAPI) -> None:
    """Add the pages, their assets, their headers and their error pages to ``app``."""
    _install_error_pages(app)
    app.mount(STATIC, StaticFiles(directory=HERE / "static"), name="web-static")
    for module in (auth, dashboard, operations, plans, plan_map, shelter, shelters, stress, whatif):
        for route in module.router.routes:  # pages are not part of the API's document
            if isinstance(route, APIRoute):
                route.include_in_schema = False
        app.include_router(module.router, prefix=PREFIX, include_in_schema=False)

    app.add_middleware(PageHeaders)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=303)
