"""The OpenAPI document tells the truth: the error body the service really sends
(``ErrorOut``: ``{detail, errors: [{field, problem}]}``, not FastAPI's default 422 body) and
every error status each operation can answer, read from what the operation depends on:

- 401 for every operation that authenticates (``WWW-Authenticate``), 503 with
  ``Retry-After`` for each of them (they all use the database);
- 403 where a role check applies; 404 where the path (or a written body) names an object;
- 400 and 413 where there is a body; 422 where anything is validated;
- 409 for every operation that writes; 429 with ``Retry-After`` where a solve is limited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

MEANING = {
    400: "the body is not valid JSON",
    401: "no bearer token, or one that is unknown, revoked or expired, or its user deactivated",
    403: "the caller's role may not use this operation",
    404: "no such object, or not the caller's to see (the same answer)",
    409: "the current state does not allow it (the problems say why)",
    413: "the body, or the solve it asks for, is over a configured limit",
    422: "a value is invalid: each problem names its field",
    429: "too many solves at once or this minute: retry after Retry-After seconds",
    503: "the database was busy for longer than the configured wait: retry after Retry-After",
}
RETRY_AFTER = {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}
HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: {"Retry-After": RETRY_AFTER},
    503: {"Retry-After": RETRY_AFTER},
}
WRITES = {"post", "put", "patch", "delete"}
WHAT_IF = "/whatif"


class Problem(BaseModel):
    """One problem, with the field it concerns (``arrivals[3].gender``, ``query.limit``)."""

    field: str
    problem: str


class ErrorOut(BaseModel):
    """Every 4xx and 503 body."""

    detail: str
    errors: list[Problem]


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every operation, also those of included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _params(dependant: Dependant) -> tuple[bool, bool, bool]:
    """Whether the operation (its dependencies included) reads path, query, body values."""
    path, query, body = (
        bool(dependant.path_params),
        bool(dependant.query_params),
        bool(dependant.body_params),
    )
    for sub in dependant.dependencies:
        p, q, b = _params(sub)
        path, query, body = path or p, query or q, body or b
    return path, query, body


def _statuses(route: APIRoute, method: str) -> set[int]:
    names = {getattr(c, "__qualname__", "") for c in _calls(route.dependant)}
    codes = set()
    if "current_user" in names:
        codes |= {401, 503}
    if "require.<locals>.check" in names:
        codes.add(403)
    if {"counted_solve", "solve_slot"} & names:
        codes.add(429)
    path, query, body = _params(route.dependant)
    solve_only = route.path == WHAT_IF  # reads its body itself; writes nothing
    if path:
        codes |= {404, 422}
    if query or body or solve_only:
        codes.add(422)
    if body or solve_only:
        codes |= {400, 413}
    if method in WRITES and not solve_only:
        codes.add(409)
        if body:  # the body may name an object (an operation, a shelter) that is not there
            codes.add(404)
    return codes


def _error_response(code: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": MEANING[code],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }
    if code in HEADERS:
        answer["headers"] = HEADERS[code]
    return answer


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """The methods of every operation on the request's path (``Allow`` of a 405): the
    routers are separate, so the framework's own answer lists only one router's. Routes
    outside the document are left out (the web pages: an included router's own routes keep
    their paths without the ``/app`` prefix)."""
    methods: set[str] = set()
    for route in _api_routes(app.routes):
        if not route.include_in_schema:
            continue
        match, _ = route.matches({**scope, "method": "GET"})
        if match != Match.NONE or route.path_regex.match(scope.get("path", "")):
            methods |= set(route.methods or ())
    return sorted(methods)


def document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of ``app`` with the real error bodies and statuses (cached)."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    defs = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(defs.pop("$defs"))
    schemas["ErrorOut"] = defs
    for route in _api_routes(app.routes):
        if not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = doc["paths"][route.path_format][method.lower()]
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for code in sorted(_statuses(route, method.lower())):
                responses[str(code)] = _error_response(code)
    app.openapi_schema = doc
    return doc
