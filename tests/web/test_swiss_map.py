"""A Swiss network's plan map in a real browser: the cantons drawn from the polygons the
package ships (no request to any other origin), the danger canton and its neighbours shaded,
every shelter with its load, the text alternative; axe-core clean; in French and English."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.web.harness import Service, add_user, log_in, look, running_service, watch_responses

COORDINATOR = "ch-coordinator"
#: three shelters far from Bern, one in Bern's neighbour Fribourg (excluded), one empty
SHELTERS = [("CH-ZH", "ZH", 3), ("CH-TI", "TI", 2), ("CH-GE", "GE", 2), ("CH-FR", "FR", 2)]


@pytest.fixture(scope="module")
def swiss(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, dict[str, str]]]:
    """A Swiss service (``PLACEMENT_GEOGRAPHY=ch``) with four shelters and, per language, a
    done plan of an operation endangered in Bern."""
    with running_service(tmp_path_factory.mktemp("swiss"), geography="ch") as service:
        add_user(service, COORDINATOR, "coordinator")
        token = service.token(COORDINATOR)
        for sid, canton, places in SHELTERS:
            shelter = {"id": sid, "department": canton, "accepts": ["woman"], "capacity": places}
            service.api("POST", "/shelters", token, shelter)
        plans = {lang: _plan(service, token, lang) for lang in ("fr", "en")}
        yield service, plans


def _plan(service: Service, token: str, lang: str) -> str:
    today = datetime.now(UTC).date().isoformat()
    op = service.api(
        "POST",
        "/operations",
        token,
        {"reference": f"OP-CH-{lang}", "date": today, "danger": [{"department": "BE"}]},
    )
    arrivals = [
        {"id": f"CH-{lang}-{n}", "gender": "woman", "languages": ["fr"], "priority": 5}
        for n in range(2)
    ]
    service.api("POST", f"/operations/{op['id']}/arrivals/batch", token, {"arrivals": arrivals})
    job = service.api("POST", "/plans", token, {"operation_id": op["id"], "time_limit": 5})
    deadline = time.monotonic() + 60
    while service.api("GET", f"/plans/{job['id']}", token)["status"] != "done":
        assert time.monotonic() < deadline, "the plan did not finish"
        time.sleep(0.2)
    return str(job["id"])


def test_a_swiss_plans_map_draws_the_cantons(
    page: Any, swiss: tuple[Service, dict[str, str]], lang: str
) -> None:
    service, plans = swiss
    seen = watch_responses(page)
    log_in(page, service, "coordinator", handle=COORDINATOR)
    page.goto(service.url + f"/app/plans/{plans[lang]}/map")
    page.wait_for_selector("[data-plan-map][data-ready=true]")
    assert page.locator(".plan-map path").count() >= 26  # a path per canton, and more
    shaded = page.locator('.plan-map path[fill="#d9534f"]').count()
    payload = json.loads(page.locator("#plan-map-data").text_content() or "{}")
    assert "BE" in payload["excluded_areas"] and "FR" in payload["excluded_areas"]
    assert shaded == len(payload["excluded_areas"])  # Bern and its neighbours
    assert page.locator(".shelter-marker").count() == len(SHELTERS)
    assert page.locator("#plan-map-shelters tbody tr").count() == len(SHELTERS)
    assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()
    look(page, f"coordinator_swiss_map_{lang}")
    assert [u for u, _ in seen.bodies if not u.startswith(service.url)] == []
    assert any(u.endswith("/geo/ch_cantons.geojson") for u, _ in seen.bodies)
