"""The OpenAPI document states the validators' rules (``api.openapi``): schema keywords only
(no pydantic-only keys), the deployment's limits, the bodies the routes read themselves,
and the rules no schema can state in ``x-rules``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from api.config import Settings
from api.openapi import BODY_RULES

NOT_JSON_SCHEMA = {"ge", "le", "gt", "lt", "strict"}


def _keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "properties":  # property names are the API's, not keywords
                yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from _keys(value)


def test_the_document_states_limits_bodies_and_rules(
    client: TestClient, settings: Settings
) -> None:
    doc = client.get("/openapi.json").json()
    assert not NOT_JSON_SCHEMA & set(_keys(doc))
    schemas, paths = doc["components"]["schemas"], doc["paths"]
    assert schemas["PlanIn"]["properties"]["horizon_days"]["maximum"] == settings.max_horizon_days
    time_limit = schemas["PlanIn"]["properties"]["time_limit"]["anyOf"][0]
    assert time_limit["maximum"] == settings.max_solve_seconds
    whatif = paths["/whatif"]["post"]["requestBody"]["content"]
    assert {c["schema"]["$ref"] for c in whatif.values()} == {"#/components/schemas/Scenario"}
    stress = schemas["StressSpec"]["properties"]
    assert stress["network"]["properties"]["live"] == {"const": True} and "compare" not in stress
    put = paths["/shelters/{shelter_id}/availability"]["put"]
    assert put["x-rules"] and "Rules the schema cannot state" in put["description"]
    assert "oneOf" in schemas["CalendarIn"] and "oneOf" in schemas["HoldIn"]
    lang = next(p for p in paths["/arrivals"]["get"]["parameters"] if p["name"] == "lang")
    assert lang["schema"]["enum"] == ["fr", "en"]


def test_a_stress_rule_covers_a_map_key_with_a_line_break() -> None:
    # schemathesis drew a priority key with a line break; the refusal names the field with
    # the key in it, and the documented rule must still cover it (it did not: `.` stops there)
    (rule,) = [field for field, _ in BODY_RULES["StressSpec"]]
    assert re.search(rule, "profiles[1].composition.priorities.i\nx.[key]")
    assert re.search(rule, "advice.candidates[0].id")
    assert not re.search(rule, "draws")
