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
