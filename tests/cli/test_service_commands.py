"""The service's commands as a newcomer runs them: ``make serve`` and ``placement users``
on one database, a server that stops with ``make``, the help texts, the scheduler."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from api.demo import SHELTER_IDS
from tests.api.builders import free_port

REPO = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLACEMENT_")}
    return {**env, "PLACEMENT_START_METHOD": "fork", **extra}


def _get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            json.load(r)
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code


def _wait_up(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "make serve ended before the server was up"
        try:
            urllib.request.urlopen(url + "/openapi.json", timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the server did not start")


def _is_up(url: str) -> bool:
    try:
        urllib.request.urlopen(url + "/openapi.json", timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.slow
def test_make_serve_and_users_add_share_the_database_and_make_stops_the_server(
    tmp_path: Path,
) -> None:
    """The docs' first hour: `make serve`, then `placement users add` from the same directory
    with no PLACEMENT_DB_PATH; the token works and the demo shelter exists for the manager.
    Then a SIGTERM to the make process stops the server."""
    port = free_port()
    env = _env(PLACEMENT_PORT=str(port))
    make = subprocess.Popen(
        ["make", "-s", "-f", str(REPO / "Makefile"), "serve", f"VENV={REPO / '.venv'}", "STAMP="],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, make)
        added = subprocess.run(
            [sys.executable, "-m", "cli", "users", "add", "mgr-first-hour"]
            + ["--role", "shelter_manager", "--shelter", SHELTER_IDS[0]],
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert added.returncode == 0, added.stderr
        assert _get(f"{url}/shelters/{SHELTER_IDS[0]}", added.stdout.strip()) == 200
        assert (tmp_path / "placement.db").exists()
        make.send_signal(signal.SIGTERM)
        make.wait(timeout=20)
        deadline = time.monotonic() + 10
        while _is_up(url) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _is_up(url), "the server outlived make"
    finally:
        if make.poll() is None:
            make.kill()


@pytest.mark.parametrize(
    "command",
    [[], ["solve"], ["serve"], ["scheduler"], ["users"], ["users", "add"], ["backup"], ["purge"]],
)
def test_help_is_for_users_and_shows_no_bool_metavar(command: list[str]) -> None:
    from typer.testing import CliRunner

    from cli.main import HELP, app

    result = CliRunner().invoke(app, [*command, "--help"], prog_name="placement")
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "only place that prints" not in result.output
    if not command:
        assert " ".join(result.output.split()).startswith("Usage: placement [OPTIONS] COMMAND")
        assert " ".join(HELP.split()) in " ".join(result.output.split())


def _placement(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=tmp_path,
        env={**_env(), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )


QUIET_LIBRARIES = ("alembic", "apscheduler", "sqlalchemy")


def _library_lines(stderr: str) -> list[str]:
    """Debug and info lines (``LEVEL logger: message``) of the libraries ``-v`` keeps quiet
    (their warnings may show)."""
    loggers = [line.split(" ")[:2] for line in stderr.splitlines()]
    return [
        " ".join(words)
        for words in loggers
        if len(words) == 2
        and words[0] in ("DEBUG", "INFO")
        and words[1].split(".")[0].rstrip(":").lower() in QUIET_LIBRARIES
    ]


@pytest.mark.slow
def test_scheduler_once_says_what_it_does_and_runs_the_due_jobs_once(tmp_path: Path) -> None:
    first = _placement(tmp_path, "-v", "scheduler", "--once")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert str(tmp_path / "placement.db") in lines[0]
    for job in ("escalate", "replan", "hold-expire", "waitlist", "purge", "every 30s"):
        assert job in lines[0]
    assert lines[1] == "ran waitlist, purge"
    assert not _library_lines(first.stderr), first.stderr
    again = _placement(tmp_path, "scheduler", "--once")
    assert again.stdout.splitlines()[1] == "ran nothing (no job was due)"


@pytest.mark.slow
def test_the_running_scheduler_says_it_started_and_verbose_keeps_libraries_quiet(
    tmp_path: Path,
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "-v", "scheduler"],
        cwd=tmp_path,
        env={**_env(PLACEMENT_SCHEDULER_TICK_SECONDS="0.2"), "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        started = proc.stdout.readline()
        assert started.startswith("scheduler started"), started
        assert str(tmp_path / "placement.db") in started and "every 0.2s" in started
        assert proc.stdout.readline().endswith("ran waitlist, purge\n")
        time.sleep(1)  # several ticks
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert not _library_lines(err), err
