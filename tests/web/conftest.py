"""Fixtures of the browser tests: the real service (``placement serve --seed-demo`` on a
free port, a SQLite file in a temporary directory), Chromium driven by Playwright, and a
page per test in French or English. The tools themselves are in ``tests/web/harness.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.harness import CHROMIUM, CHROMIUM_ARGS, Service, running_service

#: the viewports of the journeys: a coordinator's laptop, a manager's phone
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
#: the browser's language for each journey language
BROWSER_LOCALES = {"fr": "fr-FR", "en": "en-GB"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every browser test is slow and marked ``browser``."""
    for item in items:
        if "tests/web/" in str(item.fspath) and "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The service under test, one per test module: a module's journeys fill the demo
    network's places, and the next module starts from a fresh one."""
    with running_service(tmp_path_factory.mktemp("web-service")) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, driven by Playwright (it cannot download its own browser here)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make chromium` installs it (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(params=["fr", "en"])
def lang(request: pytest.FixtureRequest) -> str:
    """The journey's language (tests that take it run in French and in English)."""
    return str(request.param)


def new_page(browser: Any, lang: str = "fr", viewport: dict[str, int] = LAPTOP) -> Any:
    """A page in a fresh browser context (no cookies) whose browser asks for ``lang``."""
    context = browser.new_context(
        locale=BROWSER_LOCALES[lang], viewport=viewport, accept_downloads=False
    )
    context.set_default_timeout(float(os.environ.get("PLAYWRIGHT_TIMEOUT_MS", "20000")))
    return context.new_page()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A laptop-sized page, in the test's ``lang`` when it has one (else French)."""
    lang = request.getfixturevalue("lang") if "lang" in request.fixturenames else "fr"
    opened = new_page(browser, lang)
    yield opened
    opened.context.close()


@pytest.fixture
def phone(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A 390 x 844 page (a manager's phone), in the test's ``lang`` when it has one."""
    lang = request.getfixturevalue("lang") if "lang" in request.fixturenames else "fr"
    opened = new_page(browser, lang, PHONE)
    yield opened
    opened.context.close()
