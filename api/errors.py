"""Every 4xx is JSON: ``{"detail": "...", "errors": [{"field": "...", "problem": "..."}]}``.

Bad input never produces a 500: request validation errors, scenario errors and the service's
own refusals are all mapped here, with the path of the field in the scenario notation
(``arrivals[3].gender``). The services' domain errors (``api.domain_errors``) get their
status here, in one place (``STATUS``); ``ApiError`` is left for the HTTP layer's own
refusals (authentication, roles).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.db import is_busy
from api.domain_errors import (
    NOT_FOUND,
    Conflict,
    Invalid,
    NotFound,
    ServiceError,
    TooLarge,
    TooMany,
)
from api.openapi import allowed_methods
from placement.i18n import N_, SOURCE_LOCALE, Translator, negotiate, translator
from placement.loading import format_location
from placement.problems import NO_NAMES, UNKNOWN_FIELD, error_problems
from placement.text import ENGLISH, Text, message, render

log = logging.getLogger(__name__)


def reader_translator(request: Request) -> Translator:
    """The language of the engine's texts in an answer: ``?lang=fr``, else the first language
    of ``Accept-Language`` that the product speaks, else English (the JSON API's default, so
    that clients written against it keep reading what they read)."""
    return translator(
        negotiate(
            request.query_params.get("lang"),
            request.headers.get("accept-language"),
            default=SOURCE_LOCALE,
        )
    )


class ApiError(Exception):
    """A refusal with a status code, a message and the fields concerned (catalogue messages,
    rendered in the reader's language, as a domain error's)."""

    def __init__(
        self,
        status: int,
        detail: Text | str,
        errors: Iterable[tuple[str, Text | str]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers


#: the HTTP status of each kind of domain error
STATUS: dict[type[ServiceError], int] = {
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    TooLarge: 413,
    TooMany: 429,
}


def refusal(exc: ServiceError, t: Translator = ENGLISH) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of a domain error (the engine's problems in ``t``'s
    language)."""
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    if isinstance(exc, NotFound):
        # the same answer whether the object is missing or not the caller's to see
        errors: list[tuple[str, str | Text]] = [(f"path.{exc.kind}_id", message(NOT_FOUND))]
    else:
        errors = exc.errors
    return status, body(render(exc.detail, t), [(f, render(p, t)) for f, p in errors])


TOO_DEEP = N_("nested too deeply (arrays or objects within one another)")
#: seconds a client is told to wait before it tries again (``Retry-After``)
RETRY_AFTER_SECONDS = 2
BUSY = N_("the database is busy; try again shortly")
RETRY_AFTER = N_("retry after {seconds} s")
INVALID_REQUEST = N_("invalid request")
INVALID_VALUE = N_("invalid value")
NOT_STORABLE = N_("a value cannot be stored")
INTERNAL = N_("internal error")
MALFORMED_JSON = N_("malformed JSON: {error}")
BODY_TOO_LARGE = N_("request body too large")
SPLIT_IT = N_("more than {limit} bytes; split it (e.g. several batches)")


def busy_response(t: Translator = ENGLISH) -> JSONResponse:
    """503 with ``Retry-After``: the database could not be had within ``db_wait_seconds``."""
    retry = t.gettext(RETRY_AFTER, seconds=str(RETRY_AFTER_SECONDS))
    return JSONResponse(
        body(t.gettext(BUSY), [("request", retry)]),
        503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def body(detail: str, errors: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:
    """The JSON error body."""
    return {"detail": detail, "errors": [{"field": f, "problem": p} for f, p in errors]}


def _validation_errors(
    exc: RequestValidationError, t: Translator = ENGLISH
) -> list[tuple[str, str]]:
    out = []
    for e in exc.errors():
        loc = tuple(
            p for p in e.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-"))
        )
        where = loc[0] if loc else ""
        loc = loc[1:] if where in ("body", "query", "path", "header") else loc
        if e.get("type") == "json_invalid":
            loc = ()
        field = format_location(tuple(p for p in loc if isinstance(p, str | int)))
        if where in ("query", "path", "header") and field:
            field = f"{where}.{field}"
        # the engine's messages, in the reader's language
        out += [(f or "body", render(p, t)) for f, p in _request_problems(e, loc, field)]
    return out


def _request_problems(e: Any, loc: tuple[Any, ...], field: str) -> list[tuple[str, str | Text]]:
    """One error of a request's validation as problems: an unknown field (a ``name`` says
    this system stores none), malformed JSON, else the engine's mapping of pydantic's."""
    if e.get("type") == "extra_forbidden":
        return [(field, message(NO_NAMES if loc[-1:] == ("name",) else UNKNOWN_FIELD))]
    if e.get("type") == "json_invalid":
        cause = str(e.get("ctx", {}).get("error", e.get("msg", "")))
        return [(field, message(MALFORMED_JSON, error=cause))]
    return error_problems(e, field)


#: the framework's own refusals (Starlette's English details) as catalogue messages: the
#: detail, and the problem (the same in lower case)
HTTP_TEXTS = {
    "Not Found": (N_("Not Found"), NOT_FOUND),
    "Method Not Allowed": (N_("Method Not Allowed"), N_("method not allowed")),
    "There was an error parsing the body": (
        N_("There was an error parsing the body"),
        N_("there was an error parsing the body"),
    ),
}


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """The framework's own refusals (400 unparsable body, 404 no route, 405 method) in the
    service's error body; a 405 lists in ``Allow`` every method of the path."""
    field = {400: "body", 404: "path", 405: "method"}.get(exc.status_code, "request")
    detail, problem = str(exc.detail), str(exc.detail).lower()
    if detail in HTTP_TEXTS:
        t = reader_translator(request)
        detail, problem = (t.gettext(text) for text in HTTP_TEXTS[detail])
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
    return JSONResponse(body(detail, [(field, problem)]), exc.status_code, headers=headers)


def install(app: FastAPI) -> None:
    """Register the error handlers on ``app``."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        t = reader_translator(request)
        errors = [(f, render(p, t)) for f, p in exc.errors]
        return JSONResponse(body(render(exc.detail, t), errors), exc.status, headers=exc.headers)

    @app.exception_handler(ServiceError)
    async def _refused(request: Request, exc: ServiceError) -> JSONResponse:
        status, payload = refusal(exc, reader_translator(request))
        retry = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooMany) else None
        return JSONResponse(payload, status, headers=retry)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        t = reader_translator(request)
        errors = _validation_errors(exc, t)
        return JSONResponse(body(t.gettext(INVALID_REQUEST), errors), 422)

    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _busy(request: Request, exc: Exception) -> JSONResponse:
        if not is_busy(exc):
            return await _unexpected(request, exc)
        log.warning("database busy: %s", exc)
        return busy_response(reader_translator(request))

    @app.exception_handler(RecursionError)
    async def _too_deep(request: Request, _exc: RecursionError) -> JSONResponse:
        log.info("request refused: %s", TOO_DEEP)
        t = reader_translator(request)
        return JSONResponse(body(t.gettext(INVALID_REQUEST), [("body", t.gettext(TOO_DEEP))]), 422)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        log.info("value refused by the database: %s", exc.orig)
        t = reader_translator(request)
        return JSONResponse(
            body(t.gettext(INVALID_VALUE), [("body", t.gettext(NOT_STORABLE))]), 422
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse(body(reader_translator(request).gettext(INTERNAL)), 500)


class BodyLimit:
    """ASGI middleware: refuse a request body over ``limit`` bytes with 413, before parsing."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            received = await receive()
            if received["type"] != "http.request":
                break
            chunk = received.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, send)
                return
            chunks.append(chunk)
            more = received.get("more_body", False)
        data = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": data, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        request = Request(scope)  # only its headers and query string are read
        t = reader_translator(request)
        payload = json.dumps(
            body(t.gettext(BODY_TOO_LARGE), [("body", t.gettext(SPLIT_IT, limit=str(self.limit)))])
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
