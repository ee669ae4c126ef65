"""The foundation in a real browser: log in, the headers every page carries, the language
switch, log out; axe-core on each page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.demo import DEMO_PASSWORDS
from tests.web.harness import Service, log_in, look


def test_coordinator_logs_in_in_the_browsers_language_and_out_again(
    page: Any, service: Service, lang: str
) -> None:
    page.goto(service.url + "/app/")
    page.wait_for_url(re.compile(r".*/app/login.*"))
    look(page, f"login_{lang}")
    assert page.locator("html").get_attribute("lang") == lang
    log_in(page, service, "coordinator")
    assert page.url.endswith("/app/dashboard")
    heading = {"fr": "Tableau de bord", "en": "Dashboard"}[lang]
    assert page.get_by_role("heading", name=heading, level=1).is_visible()
    look(page, f"dashboard_{lang}")
    page.get_by_role("button", name=re.compile("^(Log out|Se déconnecter)$")).click()
    page.wait_for_url(re.compile(r".*/app/login"))
    page.goto(service.url + "/app/dashboard")
    assert "/app/login" in page.url  # the session ended


def test_wrong_password_is_said_next_to_the_form_and_nothing_opens(
    page: Any, service: Service
) -> None:
    page.goto(service.url + "/app/login")
    page.get_by_label("Identifiant").fill("demo-analyst")
    page.get_by_label("Mot de passe").fill("not the password")
    page.get_by_role("button", name="Se connecter").click()
    assert page.get_by_role("alert").inner_text() == "Identifiant inconnu ou mot de passe erroné."
    look(page, "login_refused_fr")
    page.goto(service.url + "/app/dashboard")
    assert "/app/login" in page.url


def test_the_language_switch_is_kept_as_the_users_setting(
    browser: Any, page: Any, service: Service
) -> None:
    from tests.web.conftest import new_page
    from tests.web.harness import add_user

    add_user(service, "web-switcher", "coordinator")
    log_in(page, service, "coordinator", handle="web-switcher")
    page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", name="Dashboard", level=1).is_visible()
    # another browser, asking for French: the user's setting wins
    other = new_page(browser, "fr")
    log_in(other, service, "coordinator", handle="web-switcher")
    assert other.locator("html").get_attribute("lang") == "en"
    other.context.close()


def test_pages_carry_the_security_headers(page: Any, service: Service) -> None:
    answer = page.goto(service.url + "/app/login")
    headers = answer.headers
    assert headers["cache-control"] == "no-store"
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "http" not in csp  # no third-party origin


@pytest.mark.slow
def test_serve_prints_the_address_and_the_demo_log_ins(service: Service) -> None:
    printed = service.log.read_text()
    assert f"web app: {service.url}/app/" in printed
    for handle, password in DEMO_PASSWORDS.items():
        assert f"{handle} / {password}" in printed
