"""The PostgreSQL test server survives what other pytest sessions do to the temp root."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.builders import pg_admin


def test_server_survives_a_reset_of_the_pytest_temp_root(
    pg_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    def run(sql: str) -> None:
        pg_admin(pg_server, sql)

    run("SELECT 1")
    # any pytest session that starts resets its temp root to 0700 (no access for "postgres")
    tmp_path_factory.getbasetemp().parent.chmod(0o700)
    run("CHECKPOINT")  # the checkpointer opens files by absolute path
    run("DROP DATABASE IF EXISTS survives_chmod")
    run("CREATE DATABASE survives_chmod")
