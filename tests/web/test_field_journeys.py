"""The field journeys in a real browser, in French and in English: the shelter manager on a
phone (tonight's places in at most three taps, "still the same" in one, any other night of
the calendar in three, a bad number refused next to its field, accept a proposal,
decline another with a reason), the analyst's what-if, the coordinator's plan map,
shelters and audit log; axe-core and a screenshot on every page; and the canaries: a shelter
location and a danger location planted by the test never reach an analyst's browser nor that
of a manager of another shelter (the coordinator's map, which must show them, proves the
search would find them)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.demo import SHELTER_IDS
from tests.web.harness import (
    Service,
    add_user,
    everything_seen,
    log_in,
    look,
    watch_responses,
)

#: the manager's shelter and its manager, made by the tests: a shelter for minors only, so
#: that no other test's waiting list fills it (the age rule keeps adults out)
MINE = "FIELD-HOME"
MANAGER = "field-manager"
#: planted by the tests: another shelter's location, and an operation's danger location
CANARY_SHELTER = "CANARY-56"
CANARY_LAT, CANARY_LON = 47.613579, -2.468024
DANGER_LAT, DANGER_LON = 43.123457, 5.987653
CANARIES = [str(CANARY_LAT), str(CANARY_LON), str(DANGER_LAT), str(DANGER_LON)]
#: at most this many taps from the manager's start page to change tonight's places
MAX_TAPS = 3


def _wait_plan(service: Service, token: str, plan_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = service.api("GET", f"/plans/{plan_id}", token)
        if job["status"] not in ("queued", "running", "cancelling"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"plan {plan_id} did not finish")


def plant(service: Service, lang: str) -> str:
    """The canary shelter (once), and an operation whose danger is the canary point with two
    women who can only go to the manager's shelter, planned and committed: two proposals.
    Returns the plan's id."""
    token = service.token("demo-coordinator")
    shelters = {s["id"] for s in service.api("GET", "/shelters?limit=500", token)}
    if MINE not in shelters:
        service.api(
            "POST",
            "/shelters",
            token,
            {
                "id": MINE,
                "department": "29",
                "accepts": ["woman"],
                "age_min": 0,
                "age_max": 17,
                "children": True,
                "languages": ["fr", "en"],
                "services": ["psychological"],
                "capacity": 8,
            },
        )
        shelters.add(MINE)
        add_user(service, MANAGER, "shelter_manager", [MINE])
    if CANARY_SHELTER not in shelters:
        service.api(
            "POST",
            "/shelters",
            token,
            {
                "id": CANARY_SHELTER,
                "department": "56",
                "location": {"lat": CANARY_LAT, "lon": CANARY_LON},
                "accepts": ["woman"],
                "capacity": 2,
            },
        )
        shelters.add(CANARY_SHELTER)
    today = datetime.now(UTC).date().isoformat()
    op = service.api(
        "POST",
        "/operations",
        token,
        {
            "reference": f"OP-FIELD-{lang}",
            "date": today,
            "danger": [{"lat": DANGER_LAT, "lon": DANGER_LON}],
        },
    )
    others = sorted(shelters - {MINE})
    arrivals = [
        {
            "id": f"FIELD-{lang}-{n}",
            "gender": "woman",
            "age": 16,
            "languages": ["pcm", "en"] if n == 1 else ["ro"],
            "children": 1 if n == 2 else 0,
            "needs": ["psychological"] if n == 1 else [],
            "priority": 5,
            "nights": 10,
            "exclude_shelters": others,
        }
        for n in (1, 2)
    ]
    service.api("POST", f"/operations/{op['id']}/arrivals/batch", token, {"arrivals": arrivals})
    job = service.api(
        "POST", "/plans", token, {"operation_id": op["id"], "solver": "greedy", "time_limit": 5}
    )
    done = _wait_plan(service, token, job["id"])
    assert done["status"] == "done", done
    assert len(done["result"]["placements"]) == 2, done["result"]["unplaced"]
    service.api("POST", f"/plans/{job['id']}/commit", token)
    return str(job["id"])


@pytest.fixture(scope="module")
def planted(service: Service) -> dict[str, str]:
    """The plan of each language's operation, planted once for the module."""
    return {lang: plant(service, lang) for lang in ("fr", "en")}


def _text(lang: str, fr: str, en: str) -> str:
    return fr if lang == "fr" else en


@pytest.mark.slow
def test_manager_changes_tonights_places_in_three_taps_and_answers_proposals(
    phone: Any, service: Service, planted: dict[str, str], lang: str
) -> None:
    seen = watch_responses(phone)
    log_in(phone, service, "shelter_manager", handle=MANAGER)
    assert phone.url.endswith(f"/app/shelter/{MINE}")
    look(phone, f"manager_start_{lang}")
    free = phone.get_by_label(_text(lang, "Places libres cette nuit", "Free places tonight"))
    before = int(free.input_value())

    # tonight's places: + then Save, counted
    taps = 0
    phone.get_by_role(
        "button", name=_text(lang, "Une place libre de plus", "One free place more")
    ).click()
    taps += 1
    phone.get_by_role(
        "button", name=_text(lang, "Enregistrer les places de cette nuit", "Save tonight's places")
    ).click()
    taps += 1
    assert taps <= MAX_TAPS
    assert phone.get_by_role("status").is_visible()
    assert int(free.input_value()) == before + 1  # read back from the service
    look(phone, f"manager_saved_{lang}")

    # "still the same": one tap
    phone.get_by_role("button", name=_text(lang, "Toujours les mêmes", "Still the same")).click()
    assert phone.get_by_role("status").inner_text() == _text(
        lang,
        "Merci : vos places sont confirmées sans changement.",
        "Thank you: your places are confirmed as unchanged.",
    )

    # another night of the calendar: tap it, one more free place, save (three taps)
    night = datetime.now(UTC).date() + timedelta(days=9)
    cell = phone.locator(f'a[href$="?night={night.isoformat()}#night-card"]')
    shown = cell.locator(".places").inner_text()  # "free/places"
    cell.click()
    phone.get_by_role(
        "button", name=_text(lang, "Une place libre de plus", "One free place more")
    ).click()
    phone.get_by_role(
        "button",
        name=_text(lang, "Enregistrer les places de cette nuit-là", "Save this night's places"),
    ).click()
    assert _text(lang, "sont à jour", "are updated") in phone.get_by_role("status").inner_text()
    free_then, places_then = (int(n) for n in shown.split("/"))
    assert cell.locator(".places").inner_text() == f"{free_then + 1}/{places_then + 1}"
    assert cell.get_attribute("aria-current") == "date"
    look(phone, f"manager_night_saved_{lang}")
    # a number that is not one: refused next to the field, in the page's language
    phone.get_by_label(_text(lang, "Places libres cette nuit-là", "Free places that night")).fill(
        "-2"
    )
    phone.get_by_role(
        "button",
        name=_text(lang, "Enregistrer les places de cette nuit-là", "Save this night's places"),
    ).click()
    assert (
        phone.locator("#error-free")
        .inner_text()
        .startswith(_text(lang, "Indiquez un nombre entier", "Give a whole number"))
    )
    assert cell.locator(".places").inner_text() == f"{free_then + 1}/{places_then + 1}"
    look(phone, f"manager_night_refused_{lang}")
    phone.get_by_role(
        "link", name=_text(lang, "Revenir à la nuit de ce soir", "Back to tonight")
    ).click()

    # the proposals: accept one, decline the other with a reason
    phone.get_by_role("link", name=re.compile(_text(lang, "proposition", "proposal"))).click()
    phone.wait_for_url(re.compile(r".*/proposals$"))
    first, second = f"FIELD-{lang}-1", f"FIELD-{lang}-2"
    card = phone.locator(f"article:has(h3:text-is('{first}'))")
    pidgin = _text(lang, "pidgin nigérian", "Nigerian Pidgin")
    assert pidgin in card.inner_text()
    look(phone, f"manager_proposals_{lang}")
    phone.get_by_role("button", name=_text(lang, f"Accepter {first}", f"Accept {first}")).click()
    assert phone.get_by_role("status").is_visible()
    reason = _text(lang, "Plus de place adaptée aux enfants", "No room suited to a child")
    phone.get_by_label(
        _text(lang, f"Motif du refus de {second}", f"Reason for declining {second}")
    ).fill(reason)
    phone.get_by_role("button", name=_text(lang, f"Refuser {second}", f"Decline {second}")).click()
    assert phone.get_by_role("status").inner_text() == _text(
        lang,
        "Vous avez refusé la proposition ; les coordinateurs replanifient.",
        "You declined the proposal; the coordinators are re-planning.",
    )
    accepted = phone.locator(f"article:has(h3:has-text('{first}'))")
    assert _text(lang, "acceptée", "accepted") in accepted.inner_text()
    assert phone.get_by_role("button", name=re.compile(second)).count() == 0
    look(phone, f"manager_answered_{lang}")

    token = service.token("demo-coordinator")
    answers = {
        p["arrival_id"]: (p["status"], p["answer_reason"])
        for p in service.api("GET", "/placements?active=false&limit=500", token)
        + service.api("GET", "/placements?limit=500", token)
    }
    assert answers[first] == ("accepted", None)
    assert answers[second] == ("declined", reason)

    # a manager of another shelter: neither canary reached this browser
    text = everything_seen(phone, seen)
    assert [c for c in CANARIES if c in text] == []


def _scenario_file(tmp_path: Path) -> Path:
    """A what-if scenario whose shelter and danger are at the canary points."""
    path = tmp_path / "whatif.yaml"
    path.write_text(
        f"""name: canary what-if
start: 2026-12-04
horizon_days: 10
shelters:
  - {{id: W-1, department: "56", location: {{lat: {CANARY_LAT}, lon: {CANARY_LON}}},
      accepts: [woman], capacity: 2}}
  - {{id: W-2, department: "69", accepts: [woman], capacity: 1}}
arrivals:
  - {{id: a1, gender: woman, languages: [en], priority: 5,
      danger: [{{lat: {DANGER_LAT}, lon: {DANGER_LON}}}]}}
  - {{id: a2, gender: woman, languages: [en], priority: 3,
      danger: [{{lat: {DANGER_LAT}, lon: {DANGER_LON}}}]}}
  - {{id: a3, gender: man, languages: [en], priority: 1, danger: [{{department: "13"}}]}}
""",
        encoding="utf-8",
    )
    return path


def test_analyst_what_if_shows_figures_and_no_location(
    page: Any, service: Service, planted: dict[str, str], lang: str, tmp_path: Path
) -> None:
    seen = watch_responses(page)
    log_in(page, service, "analyst")
    assert page.url.endswith("/app/whatif")
    look(page, f"analyst_whatif_{lang}")
    label = _text(lang, "Fichier de scénario (YAML ou JSON)", "Scenario file (YAML or JSON)")
    page.get_by_label(label).set_input_files(str(_scenario_file(tmp_path)))
    page.get_by_role(
        "button", name=_text(lang, "Planifier ce scénario", "Plan this scenario")
    ).click()
    figures = page.locator(".figures").inner_text()
    # two women and one man asked for; two women placed (no shelter takes men)
    assert "2 / 3" in figures
    chart = page.get_by_role("img", name=re.compile(_text(lang, "par priorité", "by priority")))
    assert chart.is_visible()
    look(page, f"analyst_figures_{lang}")
    # the pages an analyst may not open say so, and show nothing
    page.goto(service.url + "/app/shelters")
    page.goto(service.url + f"/app/plans/{planted[lang]}/map")
    text = everything_seen(page, seen)
    assert [c for c in CANARIES if c in text] == []


def test_coordinator_sees_the_plan_map_with_the_danger_circle(
    page: Any, service: Service, planted: dict[str, str], lang: str
) -> None:
    seen = watch_responses(page)
    log_in(page, service, "coordinator")
    page.goto(service.url + f"/app/plans/{planted[lang]}/map")
    page.wait_for_selector("[data-plan-map][data-ready=true]")
    assert page.locator(".shelter-marker").count() >= 1
    assert page.locator(".plan-map path").count() > 90  # the départements
    # every shelter of the network, not only the one the plan uses, in the map and its text
    rows = page.locator("#plan-map-shelters tbody tr")
    assert rows.count() >= len(SHELTER_IDS) + 2  # the demo network, MINE and the canary
    assert page.locator(".shelter-marker").count() == rows.count()
    summary = page.locator("#plan-map-summary").inner_text()
    assert _text(lang, f"La carte montre {rows.count()} hébergements", "The map shows") in summary
    described = page.get_by_role("region", name=_text(lang, "Carte du plan", "Map of the plan"))
    assert described.get_attribute("aria-describedby") == "plan-map-summary"
    # the shelter the plan uses is drawn above the empty one at the same point (both in
    # Finistère without a location of their own: the chef-lieu)
    used = page.locator(f'.shelter-marker[title^="{MINE} "]').element_handle()
    on_top = """m => { const b = m.firstElementChild.getBoundingClientRect();
        return m.contains(document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2)); }"""
    assert page.evaluate(on_top, used)
    page.get_by_text(_text(lang, "Ce que montre la carte", "What the map shows")).click()
    look(page, f"coordinator_map_{lang}")
    # the control of the canary searches: the coordinator must see the danger location
    assert str(DANGER_LAT) in everything_seen(page, seen)
    assert [r for r in seen.bodies if not r[0].startswith(service.url)] == []


def test_coordinator_shelters_list_edit_and_audit_log(
    page: Any, service: Service, planted: dict[str, str], lang: str
) -> None:
    log_in(page, service, "coordinator")
    page.goto(service.url + "/app/shelters")
    look(page, f"coordinator_shelters_{lang}")
    edited = SHELTER_IDS[2]  # a demo shelter for adults
    page.get_by_role("link", name=_text(lang, f"Modifier {edited}", f"Edit {edited}")).click()
    look(page, f"coordinator_shelter_edit_{lang}")
    age = page.get_by_label(_text(lang, "Âge minimum", "Minimum age"))
    age.fill("not a number")
    page.get_by_role("button", name=_text(lang, "Enregistrer", "Save")).click()
    assert page.get_by_role("alert").is_visible()
    assert page.locator(".field-error").count() == 1
    age.fill("18")
    page.get_by_role("button", name=_text(lang, "Enregistrer", "Save")).click()
    page.wait_for_url(re.compile(r".*/app/shelters\?done=1"))
    page.goto(service.url + "/app/audit")
    page.get_by_label(_text(lang, "Auteur (identifiant)", "Actor (user name)")).fill(
        "demo-coordinator"
    )
    page.get_by_label("Action", exact=True).select_option("write")
    # a date typed as the reader writes it (and as the field's hint shows it)
    page.get_by_label(_text(lang, "Du (date)", "From (date)")).fill(
        datetime.now(UTC).date().strftime("%d/%m/%Y")
    )
    page.get_by_role("button", name=_text(lang, "Filtrer", "Filter")).click()
    rows = page.locator("tbody tr")
    assert rows.count() >= 1
    assert all("demo-coordinator" in rows.nth(i).inner_text() for i in range(rows.count()))
    look(page, f"coordinator_audit_{lang}")
