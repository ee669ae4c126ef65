"""A canary shelter location and a canary danger location, planted by the test, never appear
in anything a shelter manager of another shelter, or an analyst, receives: the HTML, the
scripts, the JSON the pages fetch, whatever pages they reach or try (the coordinator's
included)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from tests.web.harness import (
    SeenResponses,
    Service,
    add_user,
    crawl,
    log_in,
    number_forms,
    watch_responses,
)

#: the canary shelter's location (in Aveyron) and the canary danger point (in Indre-et-Loire)
CANARY_SHELTER = (44.35917, 2.57431)
CANARY_DANGER = (47.38653, 0.68941)
#: bodies that cannot carry data planted at run time: the package's own static files
STATIC = "/app/static/"


@pytest.fixture(scope="module")
def planted(service: Service) -> dict[str, Any]:
    """A canary shelter, an operation with a canary danger point whose plan is committed."""
    tag = uuid.uuid4().hex[:4].upper()
    coordinator = service.token("demo-coordinator")
    shelter_id = f"CANARY-{tag}"
    service.api(
        "POST",
        "/shelters",
        coordinator,
        {
            "id": shelter_id,
            "department": "12",
            "location": {"lat": CANARY_SHELTER[0], "lon": CANARY_SHELTER[1]},
            "accepts": ["woman"],
            "children": True,
            "languages": ["fr", "en"],
            "capacity": 6,
        },
    )
    op = service.api(
        "POST",
        "/operations",
        coordinator,
        {
            "reference": f"OP-CANARY-{tag}",
            "date": date.today().isoformat(),
            "danger": [
                {"department": "93"},
                {"lat": CANARY_DANGER[0], "lon": CANARY_DANGER[1]},
            ],
        },
    )
    arrivals = [
        {"id": f"CAN{tag}-{n}", "gender": "woman", "languages": ["en"], "priority": 5, "nights": 10}
        for n in range(12)
    ]
    service.api(
        "POST", f"/operations/{op['id']}/arrivals/batch", coordinator, {"arrivals": arrivals}
    )
    job = service.api("POST", "/plans", coordinator, {"operation_id": op["id"]})
    import time

    deadline = time.monotonic() + 120
    while service.api("GET", f"/plans/{job['id']}", coordinator)["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    committed = service.api("POST", f"/plans/{job['id']}/commit", coordinator)["placements"]
    assert any(p["shelter_id"] == shelter_id for p in committed)  # the canary is in use
    other = next(p["shelter_id"] for p in committed if p["shelter_id"] != shelter_id)
    return {
        "shelter": shelter_id,
        "other": other,
        "operation": op["id"],
        "plan": job["id"],
        "placement": committed[0]["id"],
    }


def _tried_paths(planted: dict[str, Any]) -> list[str]:
    """Where a curious user might go: their start page and every coordinator page of the
    canary operation, its plan, its map and the canary shelter."""
    op, plan, sid = planted["operation"], planted["plan"], planted["shelter"]
    return [
        "/app/",
        "/app/dashboard",
        f"/app/operations/{op}",
        f"/app/operations/{op}/proposals",
        f"/app/operations/{op}/proposals.json",
        f"/app/plans/{plan}",
        f"/app/plans/{plan}/progress.json",
        f"/app/plans/{plan}/map",
        "/app/shelters",
        f"/app/shelters/{sid}",
        f"/app/shelters/{sid}/edit",
        "/app/audit",
        "/app/whatif",
        "/app/shelter",
        "/app/shelter/proposals",
        f"/shelters/{sid}",
    ]


@pytest.mark.parametrize("role", ["shelter_manager", "analyst"])
def test_canary_locations_never_reach_another_shelters_manager_or_an_analyst(
    page: Any, service: Service, planted: dict[str, Any], role: str
) -> None:
    handle = f"canary-{role[:7]}-{uuid.uuid4().hex[:4]}"
    shelters = [planted["other"]] if role == "shelter_manager" else []
    add_user(service, handle, role, shelters)
    seen = watch_responses(page)
    log_in(page, service, role, handle=handle)
    visited = crawl(page, service, _tried_paths(planted))
    assert len(visited) >= len(_tried_paths(planted))
    assert len(seen.bodies) > len(visited)  # documents and what they loaded were recorded
    received = _dynamic(seen) + page.content()
    for value in (*CANARY_SHELTER, *CANARY_DANGER):
        for form in number_forms(value):
            assert form not in received, f"{form} reached the {role}"
    # the sanity check of the canaries: a coordinator does see them
    coordinator = service.token("demo-coordinator")
    shelter = service.api("GET", f"/shelters/{planted['shelter']}", coordinator)
    assert shelter["location"]["lat"] == CANARY_SHELTER[0]


def _dynamic(seen: SeenResponses) -> str:
    """What the responses carried, but the package's static files (the same for everyone;
    the geography's polygons hold thousands of coordinates)."""
    return "\n".join(body for url, body in seen.bodies if STATIC not in url)


def test_a_coordinator_sees_the_canaries_on_the_plan_page(
    page: Any, service: Service, planted: dict[str, Any]
) -> None:
    """The check works: the same search finds the canaries where they belong."""
    seen = watch_responses(page)
    log_in(page, service, "coordinator")
    crawl(page, service, [f"/app/plans/{planted['plan']}"], limit=1)
    dynamic = _dynamic(seen)
    assert any(form in dynamic for form in number_forms(CANARY_DANGER[0]))
    assert any(form in dynamic for form in number_forms(CANARY_SHELTER[0]))
