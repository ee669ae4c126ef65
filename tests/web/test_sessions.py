"""Log-ins and sessions without a browser: passwords, one-time links, CSRF, throttling,
expiry; the bearer tokens keep working beside them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from api.auth import UserError
from api.config import Settings
from api.demo import DEMO_PASSWORDS, seed_demo
from api.main import create_app
from api.tables import User, WebSession, utcnow
from api.web.sessions import MAX_FAILURES_PER_HANDLE, new_login_link, set_password


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(db_path=tmp_path / "web.db", session_idle_minutes=30))
    tokens = seed_demo(app.state.engine)
    with TestClient(app) as c:
        c.app_state_tokens = tokens  # type: ignore[attr-defined]
        yield c


def _csrf(client: TestClient) -> str:
    client.get("/app/login")
    token = client.cookies.get("placement_csrf")
    assert token
    return token


def _log_in(client: TestClient, handle: str, password: str) -> int:
    answer = client.post(
        "/app/login",
        data={"handle": handle, "password": password, "csrf_token": _csrf(client)},
        follow_redirects=False,
    )
    return answer.status_code


def test_password_log_in_sets_a_strict_http_only_cookie(client: TestClient) -> None:
    answer = client.post(
        "/app/login",
        data={
            "handle": "demo-coordinator",
            "password": DEMO_PASSWORDS["demo-coordinator"],
            "csrf_token": _csrf(client),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "placement_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/app/dashboard").status_code == 200


def test_secure_cookie_behind_https(tmp_path: Path) -> None:
    app = create_app(Settings(db_path=tmp_path / "s.db", secure_cookies=True))
    seed_demo(app.state.engine)
    with TestClient(app, base_url="https://testserver") as c:
        c.get("/app/login")
        answer = c.post(
            "/app/login",
            data={
                "handle": "demo-analyst",
                "password": DEMO_PASSWORDS["demo-analyst"],
                "csrf_token": c.cookies.get("placement_csrf") or "",
            },
            follow_redirects=False,
        )
        assert "secure" in answer.headers["set-cookie"].lower()


def test_a_form_without_its_csrf_token_is_refused_and_does_nothing(client: TestClient) -> None:
    answer = client.post(
        "/app/login",
        data={"handle": "demo-coordinator", "password": DEMO_PASSWORDS["demo-coordinator"]},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert client.get("/app/dashboard", follow_redirects=False).status_code == 303
    # logged in, a log-out without the session's token does not log out
    assert _log_in(client, "demo-coordinator", DEMO_PASSWORDS["demo-coordinator"]) == 303
    assert client.post("/app/logout", data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/app/dashboard").status_code == 200


def test_failed_log_ins_are_throttled_per_user(client: TestClient) -> None:
    for _ in range(MAX_FAILURES_PER_HANDLE):
        assert _log_in(client, "demo-manager", "wrong password!") == 401
    # now even the right password waits: the handle is throttled
    assert _log_in(client, "demo-manager", DEMO_PASSWORDS["demo-manager"]) == 429
    # another user from another address is not
    assert _log_in(client, "demo-analyst", DEMO_PASSWORDS["demo-analyst"]) == 303


def test_a_login_link_works_once(client: TestClient) -> None:
    app = client.app
    token = new_login_link(app.state.engine, app.state.settings, "demo-analyst")  # type: ignore[attr-defined]
    assert client.get(f"/app/login/link/{token}").status_code == 200  # a preview spends nothing
    pre = client.cookies.get("placement_csrf") or ""
    first = client.post(
        f"/app/login/link/{token}", data={"csrf_token": pre}, follow_redirects=False
    )
    assert first.status_code == 303
    client.cookies.delete("placement_session")
    client.get(f"/app/login/link/{token}")
    pre = client.cookies.get("placement_csrf") or ""
    again = client.post(f"/app/login/link/{token}", data={"csrf_token": pre})
    assert again.status_code == 401


def test_idle_and_absolute_expiry_end_a_session(client: TestClient) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    assert _log_in(client, "demo-coordinator", DEMO_PASSWORDS["demo-coordinator"]) == 303
    with Session(engine) as s:
        s.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
        s.commit()
    assert client.get("/app/dashboard", follow_redirects=False).status_code == 303
    assert _log_in(client, "demo-coordinator", DEMO_PASSWORDS["demo-coordinator"]) == 303
    with Session(engine) as s:
        s.execute(
            update(WebSession)
            .where(col(WebSession.ended_at).is_(None))
            .values(created_at=utcnow() - timedelta(hours=13))
        )
        s.commit()
    assert client.get("/app/dashboard", follow_redirects=False).status_code == 303


def test_passwords_are_stored_as_argon2_and_short_ones_refused(client: TestClient) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with pytest.raises(UserError, match="password: at least"):
        set_password(engine, "demo-analyst", "short")
    with Session(engine) as s:
        stored = s.exec(select(User.password_hash).where(User.handle == "demo-analyst")).one()
    assert stored and stored.startswith("$argon2id$")


def test_bearer_tokens_keep_working_and_roles_hold_on_pages(client: TestClient) -> None:
    tokens = client.app_state_tokens  # type: ignore[attr-defined]
    me = client.get("/me", headers={"Authorization": f"Bearer {tokens['demo-analyst']}"})
    assert me.status_code == 200 and me.json()["role"] == "analyst"
    # an analyst's session does not open a coordinator's page
    assert _log_in(client, "demo-analyst", DEMO_PASSWORDS["demo-analyst"]) == 303
    assert client.get("/app/dashboard").status_code == 403


def test_pages_are_not_stored_and_forbid_third_party_origins(client: TestClient) -> None:
    answer = client.get("/app/login")
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-security-policy"].startswith("default-src 'self'")
    assert "cache-control" not in client.get("/me").headers  # the JSON API is unchanged


def test_admin_commands_set_a_password_and_print_a_one_time_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cli.main import app as cli

    monkeypatch.setenv("PLACEMENT_DB_PATH", str(tmp_path / "cli.db"))
    monkeypatch.setenv("PLACEMENT_PORT", "8123")
    runner = CliRunner()
    assert runner.invoke(cli, ["users", "add", "web-admin", "--role", "coordinator"]).exit_code == 0
    short = runner.invoke(
        cli, ["users", "set-password", "web-admin", "--password-stdin"], "short\n"
    )
    assert short.exit_code == 2 and "at least" in short.output
    done = runner.invoke(
        cli, ["users", "set-password", "web-admin", "--password-stdin"], "a long enough one\n"
    )
    assert done.exit_code == 0, done.output
    link = runner.invoke(cli, ["users", "login-link", "web-admin"])
    assert link.exit_code == 0
    assert link.output.startswith("http://127.0.0.1:8123/app/login/link/")
    unknown = runner.invoke(cli, ["users", "login-link", "nobody"])
    assert unknown.exit_code == 2 and "no user" in unknown.output
