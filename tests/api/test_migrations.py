"""The Alembic migrations go down and up again, and match the tables, on both databases."""

from __future__ import annotations

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
