"""The OpenAPI document tells the truth: the error body the service really sends
(``ErrorOut``: ``{detail, errors: [{field, problem}]}``, not FastAPI's default 422 body) and
every error status each operation can answer, read from what the operation depends on:

- 401 for every operation that authenticates (``WWW-Authenticate``), 503 with
  ``Retry-After`` for each of them (they all use the database);
- 403 where a role check applies; 404 where the path (or a written body) names an object;
- 400 and 413 where there is a body; 422 where anything is validated;
- 409 for every operation that writes; 429 with ``Retry-After`` where a solve is limited.

Its schemas match the validators: every time limit's maximum is the deployment's
(``PLACEMENT_MAX_SOLVE_SECONDS``), and so is a plan's horizon; the bodies the routes read
themselves (a scenario for ``/whatif``, a stress spec for ``/stress``) have their models'
schemas (``model_body``). The rules a JSON Schema cannot state (a registry, one field against
another) are listed in each operation's description and, for clients and tests, in its
``x-rules`` extension: ``{field, rule}``, the field a regular expression matching the
``errors[].field`` of the 422 that refuses a request breaking it.
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

from api.config import LONGEST_SOLVE_SECONDS, Settings

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
#: an arrival's references to shelters and to other arrivals (the refusals' fields)
REFERENCES = r"^(arrivals\[\d+\]\.)?(exclude_shelters|keep_apart)\[\d+\]$"
#: an arrival's date (the refusals' fields)
ARRIVES = r"^(arrivals\[\d+\]\.)?arrives$"
#: the rules no JSON Schema states, by the request body schema they constrain: (a regular
#: expression matching the ``errors[].field`` of the refusal, the rule)
BODY_RULES: dict[str, list[tuple[str, str]]] = {
    "*": [
        (r"(^|\.)department$", "a département is a known code of the network's geography"),
        (r"(^|\.)languages\[\d+\]$", "a language is a registered BCP-47 tag (format bcp47)"),
    ],
    "ArrivalIn": [
        (r"^body$", "age and minor agree (a minor is under 18)"),
        (ARRIVES, "an arrival arrives within the plan window: from the operation's date"),
        (REFERENCES, "exclude_shelters names shelters of the network, keep_apart arrivals"),
    ],
    "ArrivalBatchIn": [
        (r"^arrivals\[\d+\]$", "age and minor agree (a minor is under 18)"),
        (r"^arrivals(\[\d+\]\.id)?$", "arrival ids are unique"),
        (ARRIVES, "an arrival arrives within the plan window: from the operation's date"),
        (REFERENCES, "exclude_shelters names shelters of the network, keep_apart arrivals"),
    ],
    "Scenario": [
        (r"^(shelters|arrivals)\[\d+\]\.id$", "shelter ids are unique, and arrival ids"),
        (
            r"^shelters\[\d+\](\.availability(\[\d+\](\.from)?)?)?$",
            "a shelter's age_max is at least its age_min; its ranges are ordered, do not "
            "overlap and start within the horizon",
        ),
        (
            r"^arrivals\[\d+\](\.[a-z_]+(\[\d+\])?)?$",
            "an arrival's age agrees with minor; its household, keep_apart and "
            "exclude_shelters name arrivals and shelters of the document; it arrives within "
            "the horizon",
        ),
    ],
    "PlanIn": [
        (
            r"^arrivals\[[^\]]+\]\.arrives$",
            "the plan's nights (from start, horizon_days of them) hold every waiting arrival it "
            "plans: none arrives before the first night or after the last",
        ),
    ],
    "StressSpec": [
        (
            r"^(profiles|advice)([.\[][\s\S]*)?$",  # a map's key may hold a line break
            "profiles: each place gives a department or a location; ranges have min at most "
            "max and from before to; some gender and some priority weigh more than 0; stays "
            "are at least 1 night; names are unique. advice: one target (all_placed_share or "
            "mean_unplaced); each candidate adds places or a new shelter, with a unique id",
        ),
    ],
    "ShelterIn": [
        (r"^(body|age_max)?$", "age_max, when given, is at least age_min"),
        (r"^availability(\[\d+\])?$", "each range's to is after its from; ranges do not overlap"),
        (r"^department$", "a known code of the network's geography (INSEE for France)"),
    ],
    "ShelterEditIn": [
        (r"^(age_max)?$", "age_max is at least age_min, after the edit"),
        (r"^department$", "a known code of the network's geography"),
    ],
    "ShelterAttributesIn": [(r"^(age_max)?$", "age_max is at least age_min, after the change")],
    "CalendarIn": [
        (
            r"^(availability(\[\d+\])?)?$",
            "each range's to is after its from; ranges do not overlap",
        ),
    ],
}


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


def _deployment_limits(doc: dict[str, Any], settings: Settings) -> None:
    """The limits a deployment sets: the longest solve, the longest plan horizon."""
    _time_limits(doc, settings.max_solve_seconds)
    plan = doc["components"]["schemas"].get("PlanIn", {}).get("properties", {})
    if "horizon_days" in plan:
        plan["horizon_days"]["maximum"] = settings.max_horizon_days


def _time_limits(node: Any, maximum: float) -> None:
    """Every time limit's maximum in the document becomes the deployment's."""
    if isinstance(node, dict):
        if node.get("maximum") == LONGEST_SOLVE_SECONDS and "exclusiveMinimum" in node:
            node["maximum"] = maximum
        for value in node.values():
            _time_limits(value, maximum)
    elif isinstance(node, list):
        for value in node:
            _time_limits(value, maximum)


def _body_schemas(doc: dict[str, Any]) -> set[str]:
    """The component schemas an operation's body refers to."""
    refs = set()
    for content in doc.get("requestBody", {}).get("content", {}).values():
        ref = content.get("schema", {}).get("$ref", "")
        refs.add(ref.rsplit("/", 1)[-1])
    return refs


def _rules(operation: dict[str, Any]) -> None:
    """The rules of the operation's body that no schema states: in its description and in
    ``x-rules``."""
    names = _body_schemas(operation)
    if names - {""}:
        names.add("*")
    rules = [
        {"field": field, "rule": rule}
        for name in sorted(names)
        for field, rule in BODY_RULES.get(name, [])
    ]
    if not rules:
        return
    operation["x-rules"] = rules
    lines = "\n".join(f"- {r['rule']}" for r in rules)
    described = operation.get("description", "")
    operation["description"] = f"{described}\n\nRules the schema cannot state:\n{lines}".strip()


#: where an operation's ``openapi_extra`` carries the component schemas its body refers to
COMPONENTS = "x-components"


def model_body(
    model: type[BaseModel],
    description: str,
    media_types: tuple[str, ...] = ("application/json",),
    adjust: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """The ``openapi_extra`` of a route that reads its body itself: the body is ``model``
    (in each media type: a YAML body is the same document), its schema changed by
    ``adjust`` to what the route accepts; ``document`` moves the schemas to the components."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    defs: dict[str, Any] = schema.pop("$defs", {})
    if adjust is not None:
        adjust(schema)
    defs[model.__name__] = schema
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {media_type: {"schema": ref} for media_type in media_types},
        },
        COMPONENTS: defs,
    }


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
            for name, schema in operation.pop(COMPONENTS, {}).items():
                schemas.setdefault(name, schema)
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for code in sorted(_statuses(route, method.lower())):
                responses[str(code)] = _error_response(code)
            _rules(operation)
    settings = getattr(app.state, "settings", None)
    if settings is not None:
        _deployment_limits(doc, settings)
    app.openapi_schema = doc
    return doc
