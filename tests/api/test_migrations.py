"""The Alembic migrations go down and up again, and match the tables, on both databases."""

from __future__ import annotations

import json
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

import api.db
from api.config import Settings
from api.db import make_engine


def _config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(api.db.__file__).parent / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def test_downgrade_and_upgrade_again(settings: Settings) -> None:
    cfg = _config(settings.url())
    command.downgrade(cfg, "base")
    engine = make_engine(settings)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    command.upgrade(cfg, "head")
    command.check(cfg)  # the models and the migrated schema agree
    engine = make_engine(settings)
    assert {"shelters", "arrivals", "placements", "audit_log", "plan_jobs"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


LEGACY_RELAXATION = {
    "kind": "add_places",
    "text": "more places in S-lyon: 1 on 2026-12-01 to 2026-12-05",
    "shelter": "S-lyon",
    "first_night": "2026-12-01",
    "last_night": "2026-12-05",
    "places": 1,
}


def test_plans_stored_before_exact_relaxations_still_read(settings: Settings) -> None:
    # A plan job stored by the previous release (relaxations with a "would allow" shelter)
    # must still be read after the upgrade: its old relaxations are taken out, said so.
    from sqlalchemy import text

    from placement.plan import Plan

    cfg = _config(settings.url())
    command.downgrade(cfg, "0005")
    plan = {
        "scenario": "tiny",
        "solver": "cpsat",
        "status": "optimal",
        "solve_seconds": 0.1,
        "placed_persons_by_priority": {"5": 0, "4": 0, "3": 0, "2": 0, "1": 0},
        "requested_persons_by_priority": {"5": 0, "4": 0, "3": 0, "2": 0, "1": 1},
        "secondary_cost": 0,
        "placements": [],
        "unplaced": [
            {
                "arrival": "A1",
                "priority": 1,
                "persons": 1,
                "reasons": ["S-lyon: full"],
                "relaxations": [LEGACY_RELAXATION],
            }
        ],
    }
    engine = make_engine(settings)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO plan_jobs (id, status, created_at, options, scenario, "
                "shelter_versions, arrival_versions, result) VALUES ('old', 'succeeded', "
                "'2026-11-01 00:00:00', '{}', '{}', '{}', '{}', :result)"
            ),
            {"result": json.dumps(plan)},
        )
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT result FROM plan_jobs WHERE id = 'old'")).scalar_one()
    engine.dispose()
    result = json.loads(stored) if isinstance(stored, str) else stored
    read = Plan.model_validate(result)
    entry = read.unplaced[0]
    assert entry.relaxations == [] and entry.search == "not_searched"
    assert entry.reasons[0] == "S-lyon: full"
    assert "plan again" in entry.reasons[-1]


def test_stored_scenarios_become_plan_bases(settings: Settings) -> None:
    # Plan jobs stored their whole scenario; after the upgrade they keep its basis (policy,
    # stale and held shelters, counts), and a job still queued cannot run any more: failed.
    from sqlalchemy import text

    from api.plan_options import PlanBasis

    cfg = _config(settings.url())
    command.downgrade(cfg, "0009_stress2")
    scenario = {
        "policy": {"safety_distance_km": 150, "stale_capacity": "exclude"},
        "shelters": [{"id": "S1", "stale": True}, {"id": "S2", "held": True}, {"id": "S3"}],
        "arrivals": [{"id": "A1"}],
    }
    engine = make_engine(settings)
    with engine.begin() as conn:
        for job_id, status in (("done1", "done"), ("queued1", "queued")):
            conn.execute(
                text(
                    "INSERT INTO plan_jobs (id, status, created_at, options, scenario, "
                    "shelter_versions, arrival_versions) VALUES (:id, :status, "
                    "'2026-11-01 00:00:00', '{}', :scenario, '{}', '{}')"
                ),
                {"id": job_id, "status": status, "scenario": json.dumps(scenario)},
            )
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, status, basis, error FROM plan_jobs")).all()
    engine.dispose()
    stored = {r[0]: (r[1], json.loads(r[2]) if isinstance(r[2], str) else r[2], r[3]) for r in rows}
    basis = PlanBasis.model_validate(stored["done1"][1])
    assert basis.policy.safety_distance_km == 150
    assert basis.policy.stale_capacity == "exclude"
    assert (basis.stale_shelters, basis.held_shelters) == (["S1"], ["S2"])
    assert (basis.shelters, basis.arrivals) == (3, 1)
    assert stored["done1"][0] == "done"
    assert stored["queued1"][0] == "failed" and "upgraded" in stored["queued1"][2]
