"""The shelter list is answered from a per-process cache keyed by the shelters' version
(``api.read_cache``): a change committed by one worker is seen at once by another worker's
cached list, each reader keeps the fields it may see, and every read is still audited.

Two applications on one database stand for two worker processes (each has its own cache).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, func, select

from api.config import Settings
from api.main import create_app
from api.read_cache import Entry, ReadCache
from api.services.planning import job_plan
from api.tables import AuditRecord, PlanJob, ShelterRow, utcnow
from placement.i18n import translator
from tests.api.builders import CANARY_LAT, World


@pytest.fixture
def second_worker(settings: Settings) -> Iterator[TestClient]:
    """Another application on the same database: its own cache, as another process has."""
    with TestClient(create_app(settings, run_migrations=False)) as c:
        yield c


def _shelters(client: TestClient, world: World, who: str) -> dict[str, Any]:
    r = client.get("/shelters", headers=world.as_(who))
    assert r.status_code == 200, r.text
    return {s["id"]: s for s in r.json()}


def _list_reads(world: World) -> int:
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        query = select(func.count()).where(
            col(AuditRecord.object_type) == "shelter_location", col(AuditRecord.action) == "read"
        )
        return int(session.exec(query).one())


def test_a_change_through_one_worker_is_seen_at_once_by_the_others_cached_list(
    world: World, second_worker: TestClient
) -> None:
    before = _shelters(second_worker, world, "coord")  # cached by the second worker
    assert before == _shelters(second_worker, world, "coord")
    r = world.call("mgr_lyon", "PUT", "/shelters/S-LYON/availability", json={"capacity": 7})
    assert r.status_code == 200, r.text
    after = _shelters(second_worker, world, "coord")
    assert (before["S-LYON"]["capacity"], after["S-LYON"]["capacity"]) == (3, 7)
    assert after["S-LYON"]["freshness"]["version"] == before["S-LYON"]["freshness"]["version"] + 1


def test_a_compromise_record_reaches_a_cached_list(world: World, second_worker: TestClient) -> None:
    assert _shelters(second_worker, world, "coord")["S-LYON"]["compromised"] == []
    r = world.call("coord", "POST", "/shelters/S-LYON/compromised", json={"scope": "everyone"})
    assert r.status_code == 200, r.text
    lyon = _shelters(second_worker, world, "coord")["S-LYON"]
    assert [n["scope"] for n in lyon["compromised"]] == ["everyone"]
    assert lyon["active"] is False


def test_places_turning_stale_with_time_reach_a_cached_list(
    world: World, second_worker: TestClient
) -> None:
    assert not _shelters(second_worker, world, "coord")["S-BREST"]["freshness"]["stale"]
    # time passing, written as it would look after it: no version changes
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    long_ago = utcnow() - timedelta(days=30)
    with Session(engine) as session:
        session.exec(  # type: ignore[call-overload]
            update(ShelterRow)
            .where(col(ShelterRow.id) == "S-BREST")
            .values(capacity_updated_at=long_ago)
        )
        session.commit()
    assert _shelters(second_worker, world, "coord")["S-BREST"]["freshness"]["stale"]


def test_each_reader_keeps_its_own_fields_and_every_cached_read_is_audited(
    world: World,
) -> None:
    reads = _list_reads(world)
    coordinator = _shelters(world.client, world, "coord")
    assert coordinator["S-BREST"]["location"]["lat"] == CANARY_LAT
    for _ in range(2):  # the second answer comes from the cache: audited all the same
        assert _shelters(world.client, world, "coord") == coordinator
    assert _list_reads(world) == reads + 3
    analyst = _shelters(world.client, world, "analyst")
    assert "location" not in analyst["S-BREST"] and "department" not in analyst["S-BREST"]
    manager = _shelters(world.client, world, "mgr_lyon")
    assert list(manager) == ["S-LYON"] and manager["S-LYON"]["compromised"] is None
    assert list(_shelters(world.client, world, "mgr_brest")) == ["S-BREST"]


def test_stats_seen_by_another_worker_follow_a_change_of_places_at_once(
    world: World, second_worker: TestClient
) -> None:
    def stats(who: str) -> dict[str, Any]:
        r = second_worker.get("/stats", headers=world.as_(who))
        assert r.status_code == 200, r.text
        return dict(r.json())

    before = stats("analyst")  # S-BREST 2 places, S-LYON 3
    assert (before["shelters"], before["places_tonight"], before["free_places_tonight"]) == (
        2,
        5,
        5,
    )
    assert stats("mgr_lyon")["places_tonight"] == 3  # a manager's figures: their own shelter
    r = world.call("mgr_lyon", "PUT", "/shelters/S-LYON/availability", json={"capacity": 7})
    assert r.status_code == 200, r.text
    assert stats("analyst")["places_tonight"] == 9
    assert stats("mgr_lyon")["places_tonight"] == 7
    r = world.call("coord", "PATCH", "/shelters/S-BREST", json={"active": False})
    assert r.status_code == 200, r.text
    assert (stats("analyst")["shelters"], stats("analyst")["places_tonight"]) == (1, 7)


def test_the_cache_answers_only_the_version_an_entry_was_computed_from() -> None:
    cache = ReadCache(size=2)
    cache.put("a", Entry(version=(1,), body=b"one"))
    assert cache.get("a", (1,)) == Entry(version=(1,), body=b"one")
    assert cache.get("a", (2,)) is None
    cache.put("b", Entry(version=(1,), body=b"b"))
    cache.put("c", Entry(version=(1,), body=b"c"))  # over the size: "a" goes
    assert cache.get("a", (1,)) is None and cache.get("c", (1,)) is not None
    with pytest.raises(ValueError, match="size"):
        ReadCache(size=0)


def test_a_list_assembled_from_kept_views_is_the_list_built_afresh(
    world: World, second_worker: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    readers = ("coord", "analyst", "mgr_lyon")
    for who in readers:  # each reader's views kept by the second worker
        _shelters(second_worker, world, who)
    views: ReadCache = second_worker.app.state.shelter_caches.per_shelter  # type: ignore[attr-defined]
    built: list[Any] = []
    real_put = views.put
    monkeypatch.setattr(views, "put", lambda key, entry: (built.append(key), real_put(key, entry)))
    r = world.call("mgr_lyon", "PUT", "/shelters/S-LYON/availability", json={"capacity": 7})
    assert r.status_code == 200, r.text
    with TestClient(create_app(settings, run_migrations=False)) as fresh:
        for who in readers:
            kept = second_worker.get("/shelters", headers=world.as_(who))
            afresh = fresh.get("/shelters", headers=world.as_(who))
            assert kept.status_code == afresh.status_code == 200
            assert kept.content == afresh.content  # the same bytes
            assert b'"capacity":7' in kept.content
    assert {shelter for _reader, shelter in built} == {"S-LYON"}  # only the changed one rebuilt


def test_a_done_plan_is_parsed_once_per_language_and_again_when_its_job_changes() -> None:

    plan = {
        "scenario": "s",
        "solver": "cpsat",
        "status": "optimal",
        "solve_seconds": 0.1,
        "placed_persons_by_priority": {},
        "requested_persons_by_priority": {},
        "secondary_cost": 0,
        "placements": [],
        "unplaced": [],
    }
    done = datetime(2033, 11, 22, tzinfo=UTC)
    job = PlanJob(
        id="job-parsed-once", operation_id=1, status="done", result=plan, finished_at=done
    )
    english, french = translator("en"), translator("fr")
    first = job_plan(job, english)
    assert first is not None and job_plan(job, english) is first  # kept
    assert job_plan(job, french) is not first  # another language, its own copy
    assert job_plan(PlanJob(id="job-queued", operation_id=1, status="queued"), english) is None
    job.result, job.finished_at = {**plan, "secondary_cost": 7}, datetime(2033, 11, 23, tzinfo=UTC)
    again = job_plan(job, english)
    assert again is not None and again.secondary_cost == 7  # a job finished again: read again
