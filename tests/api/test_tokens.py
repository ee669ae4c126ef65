"""Token and user lifecycle: a lost token can be cut off at once, on every API worker."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
from sqlmodel import Session, select

from api.auth import add_token, add_user, tokens
from api.config import Settings
from api.tables import Token, utcnow
from tests.api.builders import World, users_cli, wait_ready


def _me(urls: list[str], token: str) -> list[int]:
    return [
        httpx.get(f"{u}/me", headers={"Authorization": f"Bearer {token}"}).status_code for u in urls
    ]


@pytest.mark.slow
def test_revoked_token_and_deactivated_user_are_refused_by_both_workers(
    servers: list[str], world: World, settings: Settings
) -> None:
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    lost = add_token(engine, "coord")
    kept = add_token(engine, "coord")
    manager = add_user(engine, "mgr_extra", "shelter_manager", ["S-LYON"])[1]
    wait_ready(servers)
    assert _me(servers, lost) == [200, 200]
    assert _me(servers, manager) == [200, 200]

    ids = [t.id for t in tokens(engine, "coord")]
    lost_id = ids[-2]  # the older of the two tokens just made
    done = users_cli(settings, "revoke-token", "coord", "--id", str(lost_id))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "revoked 1 token of coord"
    assert _me(servers, lost) == [401, 401]  # at once, on both workers
    assert _me(servers, kept) == [200, 200]  # the user's other tokens still work

    done = users_cli(settings, "deactivate", "mgr_extra")
    assert done.returncode == 0, done.stderr
    assert _me(servers, manager) == [401, 401]
    refused = users_cli(settings, "token", "mgr_extra")
    assert refused.returncode == 2 and "deactivated" in refused.stderr

    listing = users_cli(settings, "tokens", "coord")
    line = next(r for r in listing.stdout.splitlines() if r.startswith(f"{lost_id}\t"))
    assert line.split("\t")[4] != "-"  # revoked at


def test_expired_token_is_refused(world: World) -> None:
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    token = add_token(engine, "analyst", days=1)
    headers = {"Authorization": f"Bearer {token}"}
    assert world.client.get("/me", headers=headers).status_code == 200
    with Session(engine) as session:
        row = session.exec(select(Token).where(Token.expires_at.is_not(None))).one()  # type: ignore[union-attr]
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
        session.commit()
    r = world.client.get("/me", headers=headers)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.slow
def test_cli_tokens_expire_after_the_default_days(world: World, settings: Settings) -> None:
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    done = users_cli(settings, "token", "analyst")
    assert done.returncode == 0, done.stderr
    newest = tokens(engine, "analyst")[-1]
    assert newest.expires_at is not None
    days = (newest.expires_at - newest.created_at).total_seconds() / 86400
    assert abs(days - settings.token_days) < 0.01
    done = users_cli(settings, "token", "analyst", "--days", "2")
    assert done.returncode == 0, done.stderr
    newest = tokens(engine, "analyst")[-1]
    assert newest.expires_at is not None
    assert abs((newest.expires_at - newest.created_at).total_seconds() - 2 * 86400) < 60


def test_last_used_time_is_recorded_at_most_every_few_minutes(world: World) -> None:
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    token = add_token(engine, "analyst")
    headers = {"Authorization": f"Bearer {token}"}
    assert tokens(engine, "analyst")[-1].last_used_at is None
    before = time.time()
    assert world.client.get("/stats", headers=headers).status_code == 200
    first = tokens(engine, "analyst")[-1].last_used_at
    assert first is not None and first.timestamp() >= before - 1
    assert world.client.get("/stats", headers=headers).status_code == 200
    assert tokens(engine, "analyst")[-1].last_used_at == first  # within LAST_USED_EVERY
