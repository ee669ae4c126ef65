"""The browser tests' tools: the real service in a subprocess, log-in as a role, axe-core on
a page, screenshots, and every response body a page saw (for the canary tests).

Used by ``tests/web/conftest.py``'s fixtures; importable by any browser test.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.demo import DEMO_PASSWORDS

HERE = Path(__file__).parent
#: where screenshots go: $PLAYWRIGHT_ARTIFACTS, else tests/web/artifacts (git-ignored)
ARTIFACTS = Path(os.environ.get("PLAYWRIGHT_ARTIFACTS") or HERE / "artifacts")
CHROMIUM = "/usr/bin/chromium"
#: the console script of this environment (as `make serve` runs it)
PLACEMENT = str(Path(sys.executable).parent / "placement")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: the demo users, by role (``api.demo``)
DEMO_USERS = {
    "coordinator": "demo-coordinator",
    "shelter_manager": "demo-manager",
    "analyst": "demo-analyst",
}
#: seconds the service may take to start (migrations, demo network)
START_SECONDS = 60
#: axe-core impacts that fail a test
FAILING_IMPACTS = ("serious", "critical")
#: the test service's settings: plans quick, solve requests not rate-limited in the tests
SERVICE_ENV = {
    "PLACEMENT_DEFAULT_SOLVE_SECONDS": "5",
    "PLACEMENT_EXPLAIN_SECONDS": "5",
    "PLACEMENT_SOLVE_REQUESTS_PER_MINUTE": "1000",
    "PLACEMENT_START_METHOD": "fork",
}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    """The service under test: its address, its database file, its environment."""

    url: str
    db_path: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def placement(self, *args: str, stdin: str | None = None) -> str:
        """Run a ``placement`` command on the service's database; its standard output."""
        done = subprocess.run(
            [PLACEMENT, *args],
            env=self.env,
            input=stdin.encode() if stdin is not None else None,
            capture_output=True,
            check=True,
            timeout=120,
        )
        return done.stdout.decode()

    def token(self, handle: str) -> str:
        """A new bearer token of ``handle`` (for driving the JSON API beside the pages)."""
        return self.placement("users", "token", handle).strip()

    def api(self, method: str, path: str, token: str, body: Any = None) -> Any:
        """Call the JSON API as the token's owner; the decoded answer."""
        import json

        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read() or b"null")


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/app/login", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the service did not start in {START_SECONDS} s: {log.read_text()[-3000:]}")


@contextmanager
def running_service(directory: Path, geography: str = "fr") -> Iterator[Service]:
    """``placement serve --seed-demo`` on a free port of 127.0.0.1 with a new SQLite file,
    as ``make serve`` runs it; stopped (by its process id) afterwards. Another ``geography``
    than France: an empty network (the demo network is French), users made by the test."""
    port = free_port()
    db_path = directory / "web.db"
    env = {
        **os.environ,
        **SERVICE_ENV,
        "PLACEMENT_DB_PATH": str(db_path),
        "PLACEMENT_HOST": "127.0.0.1",
        "PLACEMENT_PORT": str(port),
        "PLACEMENT_GEOGRAPHY": geography,
    }
    log = directory / "service.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [PLACEMENT, "serve", *(["--seed-demo"] if geography == "fr" else [])],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log)
        yield Service(url, db_path, env, process, log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def log_in(page: Any, service: Service, role: str, handle: str | None = None) -> None:
    """Log in through the form as the demo user of ``role`` (or ``handle``, whose password is
    then its demo one or set by the test), as a person would: by the fields' labels."""
    user = handle or DEMO_USERS[role]
    password = DEMO_PASSWORDS.get(user) or test_password(user)
    page.goto(service.url + "/app/login")
    page.get_by_label(re.compile("^(User name|Identifiant)$")).fill(user)
    page.get_by_label(re.compile("^(Password|Mot de passe)$")).fill(password)
    page.get_by_role("button", name=re.compile("^(Log in|Se connecter)$")).click()
    page.wait_for_url(re.compile(r".*/app/(?!login).*"))


def test_password(handle: str) -> str:
    """The password the tests give to a user they create (``Service.placement``)."""
    return f"{handle}-test-password"


def add_user(service: Service, handle: str, role: str, shelters: list[str] = ()) -> None:  # type: ignore[assignment]
    """Create a user with the command line, and give it ``test_password(handle)``."""
    args = ["users", "add", handle, "--role", role]
    for sid in shelters:
        args += ["--shelter", sid]
    service.placement(*args)
    service.placement(
        "users", "set-password", handle, "--password-stdin", stdin=test_password(handle) + "\n"
    )


class AccessibilityError(AssertionError):
    """axe-core found serious or critical violations."""


def check_accessibility(page: Any, name: str) -> None:
    """Run axe-core on the page; fail on a serious or critical violation, naming each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in FAILING_IMPACTS]
    if bad:
        lines = [
            f"{v['impact']}: {v['id']} ({v['help']}): "
            + "; ".join(n["target"][0] if n.get("target") else "?" for n in v["nodes"][:5])
            for v in bad
        ]
        raise AccessibilityError(f"{name}: " + "\n".join(lines))


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    """Save a screenshot (of the whole page, or of what the window shows) as
    ``ARTIFACTS/<name>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def look(page: Any, name: str) -> None:
    """A step of a journey: a screenshot of the page, then axe-core on it."""
    screenshot(page, name)
    check_accessibility(page, name)


@dataclass
class SeenResponses:
    """Every response a page received (documents, scripts, styles, JSON, images' URLs):
    what a person at that browser could read, for the canary tests."""

    bodies: list[tuple[str, str]] = field(default_factory=list)

    def record(self, response: Any) -> None:
        """Keep the response's URL and body (as text; binary bodies are decoded leniently)."""
        try:
            body = response.body()
        except Exception:  # a redirect or an aborted request has no body
            body = b""
        self.bodies.append((response.url, body.decode("utf-8", "replace")))

    def containing(self, needle: str) -> list[str]:
        """The URLs of the responses whose body contains ``needle``."""
        return [url for url, body in self.bodies if needle in body]


def watch_responses(page: Any) -> SeenResponses:
    """Start recording every response the page receives from now on."""
    seen = SeenResponses()
    page.on("response", seen.record)
    return seen


def everything_seen(page: Any, seen: SeenResponses) -> str:
    """The current DOM and every recorded response body, as one text to search."""
    return "\n".join([page.content(), *(body for _url, body in seen.bodies)])


#: links a crawl never follows (they change state or end the session)
NOT_CRAWLED = ("/app/logout", "/app/login")
#: the most pages one crawl visits
MAX_CRAWL = 80


def crawl(page: Any, service: Service, start: list[str], limit: int = MAX_CRAWL) -> list[str]:
    """Visit ``start`` (paths, reachable or not for this user) and every page of the app
    linked from what was visited (GET only); the paths visited."""
    queue = list(dict.fromkeys(start))
    visited: list[str] = []
    while queue and len(visited) < limit:
        path = queue.pop(0)
        if path in visited:
            continue
        visited.append(path)
        page.goto(service.url + path)
        if "text/html" not in (page.evaluate("document.contentType") or ""):
            continue
        for href in page.eval_on_selector_all(
            "a[href]", "els => els.map(e => e.getAttribute('href'))"
        ):
            target = href.split("#", 1)[0]
            if (
                target.startswith("/app/")
                and not target.startswith(NOT_CRAWLED)
                and not target.startswith("/app/static/")
                and target not in visited
            ):
                queue.append(target)
    return visited


def number_forms(value: float) -> list[str]:
    """The ways a coordinate may be written on a page: in full and to 3 and 4 decimals, with
    a decimal point or a decimal comma (French)."""
    forms = {repr(value), f"{value:.4f}", f"{value:.3f}"}
    return sorted(forms | {f.replace(".", ",") for f in forms})
