"""The services behind the field pages: the plan map's payload (what each role may see), a
shelter's nights, tonight's free places and "still the same"."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.auth import Principal
from api.domain_errors import Invalid, NotFound
from api.services.capacity import nights, with_night_places
from api.services.plan_map import map_payload
from api.services.shelters import confirm_places, set_free_places, shelter_nights
from api.store import Stay
from api.tables import AuditRecord, ShelterRow, ShelterUpdate, User
from placement.context import Context
from placement.models import Arrival, Shelter
from placement.rules import NeighbouringDepartmentRule
from tests.api.builders import CANARY_LAT, CANARY_LON, World
from tests.builders import arrival, placed, scenario, shelter, solve

COORD = Principal(1, "coord", "coordinator", frozenset())
ANALYST = Principal(2, "analyst", "analyst", frozenset())
TONIGHT = date(2026, 12, 1)


def _shelter(**kw: object) -> Shelter:
    return Shelter.model_validate(shelter("S", **kw))


# --- with_night_places: one night changes, the others keep their places ----------------
def test_constant_capacity_becomes_ranges_with_one_night_changed() -> None:
    s = with_night_places(_shelter(capacity=3), TONIGHT, 1)
    end = TONIGHT + timedelta(days=30)
    # 3 places the night before and after, 1 tonight
    assert s.places_by_night(TONIGHT - timedelta(days=1), 3, end) == [3, 1, 3]
    assert s.capacity is None


def test_night_inside_a_range_splits_it_and_equal_neighbours_merge() -> None:
    ranges = [{"from": "2026-11-28", "to": "2026-12-05", "places": 2}]
    s = with_night_places(_shelter(availability=ranges), TONIGHT, 4)
    end = TONIGHT + timedelta(days=10)
    assert s.places_by_night(date(2026, 11, 27), 10, end) == [0, 2, 2, 2, 4, 2, 2, 2, 0, 0]
    back = with_night_places(s, TONIGHT, 2)  # back to 2: one range again
    assert [(r.from_, r.to, r.places) for r in back.availability or ()] == [
        (date(2026, 11, 28), date(2026, 12, 5), 2)
    ]


def test_night_outside_every_range_gets_its_own_range() -> None:
    ranges = [{"from": "2026-12-03", "places": 2}]
    s = with_night_places(_shelter(availability=ranges), TONIGHT, 1)
    end = TONIGHT + timedelta(days=5)
    assert s.places_by_night(TONIGHT, 4, end) == [1, 0, 2, 2]


def test_nights_count_what_committed_stays_take() -> None:
    # a mother and one child take 2 of the 3 places on nights 2 and 3 of the window
    mother = Arrival.model_validate(arrival("A", children=1))
    stays = [Stay(mother, "S", TONIGHT + timedelta(days=1), TONIGHT + timedelta(days=2))]
    got = nights(_shelter(capacity=3, children=True), stays, TONIGHT, 4, "fr")
    assert [(n.places, n.taken, n.free) for n in got] == [
        (3, 0, 3),
        (3, 2, 1),
        (3, 2, 1),
        (3, 0, 3),
    ]


# --- the map's payload: who sees what ---------------------------------------------------
@pytest.fixture
def planned():  # type: ignore[no-untyped-def]
    """Two shelters (Brest at the canary point, Lyon), one woman in danger in 93 at a point."""
    sc = scenario(
        [
            shelter("S-BREST", "29", location={"lat": CANARY_LAT, "lon": CANARY_LON}),
            shelter("S-LYON", "69", capacity=2),
        ],
        [arrival("A1", danger=[{"department": "93"}, {"lat": 48.91, "lon": 2.45}])],
    )
    return sc, solve(sc)


def test_coordinator_map_shows_dangers_circles_excluded_areas_and_loads(planned) -> None:  # type: ignore[no-untyped-def]
    sc, plan = planned
    payload = map_payload(sc, plan, COORD)
    ctx = Context(sc)
    # the danger département's chef-lieu and the point, each with the policy's 100 km
    assert {(d.lat, d.lon) for d in payload.dangers} == {
        (p.lat, p.lon) for p in ctx.danger_points(sc.arrivals[0])
    }
    assert {d.radius_km for d in payload.dangers} == {100.0}
    # 93 and its bordering départements (75, 77, 92, 94, 95): the rule's own answer
    assert payload.excluded_areas == ["75", "77", "92", "93", "94", "95"]
    loads = {m.id: (m.placed, m.places) for m in payload.shelters}
    where = placed(plan)["A1"]
    assert loads[where] == (1, 1 if where == "S-BREST" else 2)
    assert len(loads) == 2


def test_excluded_areas_are_exactly_where_the_rule_refuses_a_shelter(planned) -> None:  # type: ignore[no-untyped-def]
    sc, _ = planned
    ctx, rule, a = Context(sc), NeighbouringDepartmentRule(), sc.arrivals[0]
    excluded = rule.excluded_areas(ctx, a)
    for code in sc.geo.areas:
        s = Shelter.model_validate(shelter("X", code))
        assert rule.admits(ctx, a, s) == (code not in excluded), code


@pytest.mark.parametrize(
    "who",
    [
        ANALYST,
        Principal(3, "mgr_lyon", "shelter_manager", frozenset({"S-LYON"})),
    ],
    ids=["analyst", "manager of another shelter"],
)
def test_map_hides_canary_and_dangers_from_who_may_not_see_them(planned, who) -> None:  # type: ignore[no-untyped-def]
    sc, plan = planned
    payload = map_payload(sc, plan, who)
    text = json.dumps(payload.model_dump())
    assert str(CANARY_LAT) not in text and str(CANARY_LON) not in text
    assert "48.91" not in text and payload.dangers == [] and payload.excluded_areas == []
    assert [m.id for m in payload.shelters] == (["S-LYON"] if who.role == "shelter_manager" else [])


# --- tonight's places and "still the same", through the database -----------------------
def _principal(client: TestClient, handle: str) -> Principal:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        user = session.exec(select(User).where(User.handle == handle)).one()
        assert user.id is not None
        shelters = {"mgr_lyon": {"S-LYON"}, "mgr_brest": {"S-BREST"}}.get(handle, set())
        return Principal(user.id, handle, user.role, frozenset(shelters))


def test_manager_sets_tonights_free_places_and_only_tonight_changes(world: World) -> None:
    client = world.client
    engine, settings = client.app.state.engine, client.app.state.settings  # type: ignore[attr-defined]
    mgr = _principal(client, "mgr_lyon")
    row = set_free_places(engine, settings, "S-LYON", mgr, TONIGHT, 1)
    assert row.shelter.places_by_night(TONIGHT - timedelta(days=1), 3, date(2027, 1, 1)) == [
        3,
        1,
        3,
    ]
    with Session(engine) as session:
        got = shelter_nights(session, settings, "S-LYON", mgr, TONIGHT, 2)
    assert [(n.free, n.taken) for n in got] == [(1, 0), (3, 0)]
    with pytest.raises(NotFound):
        set_free_places(engine, settings, "S-BREST", mgr, TONIGHT, 1)
    with pytest.raises(Invalid):
        set_free_places(engine, settings, "S-LYON", mgr, TONIGHT, -1)


def test_still_the_same_makes_places_fresh_without_a_new_version(world: World) -> None:
    client = world.client
    engine = client.app.state.engine  # type: ignore[attr-defined]
    mgr = _principal(client, "mgr_lyon")
    with Session(engine) as session:
        before = session.get(ShelterRow, "S-LYON")
        assert before is not None
        version, at = before.version, before.capacity_updated_at
    row = confirm_places(engine, "S-LYON", mgr)
    assert row.version == version and row.capacity_updated_at > at
    with Session(engine) as session:
        kinds = session.exec(
            select(ShelterUpdate.kind).where(ShelterUpdate.shelter_id == "S-LYON")
        ).all()
        audit = session.exec(
            select(AuditRecord).where(col(AuditRecord.object_id) == "S-LYON")
        ).all()
    assert kinds[-1] == "confirmed"
    assert [(r.action, r.detail) for r in audit if r.user_id == mgr.id] == [
        ("write", "places confirmed")
    ]
    with pytest.raises(NotFound):
        confirm_places(engine, "S-BREST", mgr)
