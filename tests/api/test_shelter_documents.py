"""Shelter documents are parsed once per version and process (``api.tables.SHELTER_DOCUMENTS``)
and never served stale: a change made through the service, or by another worker process
straight in the database, is what the next list and ``/stats`` show."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from api.tables import ShelterRow
from tests.api.builders import World


def _lyon(world: World) -> dict[str, Any]:
    shelters = world.call("coord", "GET", "/shelters").json()
    return next(s for s in shelters if s["id"] == "S-LYON")


def test_a_change_through_the_service_is_listed_at_once(world: World) -> None:
    assert _lyon(world)["capacity"] == 3  # parsed and kept
    places = world.call("analyst", "GET", "/stats").json()["places_tonight"]
    r = world.call("coord", "PUT", "/shelters/S-LYON/availability", json={"capacity": 7})
    assert r.status_code == 200, r.text
    assert _lyon(world)["capacity"] == 7
    assert world.call("analyst", "GET", "/stats").json()["places_tonight"] == places + 4


def test_a_change_by_another_process_is_listed_at_once(world: World) -> None:
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    assert _lyon(world)["capacity"] == 3
    with Session(engine) as session:  # as another worker would: straight in the database
        row = session.get(ShelterRow, "S-LYON")
        assert row is not None
        data = {**row.data, "capacity": 9}
        session.execute(
            update(ShelterRow)
            .where(ShelterRow.id == "S-LYON")  # type: ignore[arg-type]
            .values(data=data, version=row.version + 1, updated_at=datetime.now(UTC))
        )
        session.commit()
    assert _lyon(world)["capacity"] == 9
