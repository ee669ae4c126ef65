"""The service's refusals read in the reader's language: 401, 403, 404, 409 (a commit that
no longer fits), 422 with field problems, 413 and 429, asked with ``Accept-Language: fr``, carry no
English source text of the catalogues; asked without, they read exactly as before."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.auth import add_user
from api.catalogue import extract
from api.config import Settings
from api.main import create_app
from placement.text import Text, message, render
from tests.api.builders import World, arrival_doc, make_operation, shelter_doc, wait_plan
from tests.api.builders import test_settings as quick_settings
from tests.placement.test_catalogue import extracted as engine_messages

FR = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
#: a fragment of a source text this long, found in a French answer, is English left over
FRAGMENT = 12


def _fragments(msgid: str) -> list[str]:
    """The literal parts of a source text (between its ``{parameters}``)."""
    return [
        literal.strip(" :;,.'()")
        for literal, *_ in string.Formatter().parse(msgid)
        if len(literal.strip(" :;,.'()")) >= FRAGMENT
    ]


ENGLISH_FRAGMENTS = sorted(
    {
        fragment
        for key in [*extract(), *engine_messages()]
        for msgid in ([key] if isinstance(key, str) else list(key))
        for fragment in _fragments(msgid)
    }
)


def english_left(body: dict[str, Any]) -> list[str]:
    """The English fragments found in a refusal's ``detail`` and ``problem`` texts."""
    texts = [body["detail"], *(e["problem"] for e in body["errors"])]
    return [f"{f!r} in {t!r}" for t in texts for f in ENGLISH_FRAGMENTS if f in t]


def _french(r: Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert set(body) == {"detail", "errors"}
    assert english_left(body) == [], body
    return body


def test_the_check_sees_english_left_in_a_french_answer() -> None:
    # the check itself: an English detail and an English problem are both caught
    english = render(message("the plan is out of date; request a new one"))
    assert english_left({"detail": english, "errors": []})
    problem = {"field": "id", "problem": "places or attributes changed since the plan was made"}
    assert english_left({"detail": "refusé", "errors": [problem]})
    assert not english_left({"detail": "le plan n'est plus à jour", "errors": []})


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_404_409_and_422_refusals_are_french_when_asked_and_english_as_before(
    world: World,
) -> None:
    fr = {**world.as_("coord"), **FR}
    client = world.client
    # 404: a shelter, a plan, an operation, an arrival the caller cannot see; no such route
    for path in ("/shelters/NOPE", "/plans/nope", "/operations/999999", "/arrivals/NOPE"):
        body = _french(client.get(path, headers=fr), 404)
        assert body["detail"].endswith("introuvable"), body
    english = world.call("coord", "GET", "/shelters/NOPE").json()
    assert english == {
        "detail": "shelter not found",
        "errors": [{"field": "path.shelter_id", "problem": "not found"}],
    }
    _french(client.get("/no/such/page", headers=fr), 404)
    # 401 without a token, 403 for a role the route does not admit
    _french(client.get("/shelters", headers=FR), 401)
    body = _french(client.get("/operations", headers={**world.as_("analyst"), **FR}), 403)
    assert body["detail"] == "non autorisé pour le rôle analyst", body
    # 409: a shelter id and an operation reference already taken
    body = _french(client.post("/shelters", json=shelter_doc("S-LYON", "69"), headers=fr), 409)
    assert body == {
        "detail": "l'hébergement existe déjà",
        "errors": [{"field": "id", "problem": "'S-LYON' est déjà pris"}],
    }
    op = make_operation(world)
    again = {"reference": "OP-1", "date": "2026-12-01", "danger": [{"department": "93"}]}
    _french(client.post("/operations", json=again, headers=fr), 409)
    # 422: field problems of a shelter (the engine's), of a plan request and of a hold
    bad = shelter_doc("S-X", "975", accepts=["female"])
    body = _french(client.post("/shelters", json=bad, headers=fr), 422)
    assert body["errors"][0] == {
        "field": "accepts[0]",
        "problem": "La valeur doit être 'woman', 'man' ou 'nonbinary'",
    }
    bad_department = shelter_doc("S-X", "975")
    body = _french(client.post("/shelters", json=bad_department, headers=fr), 422)
    assert body["errors"] == [{"field": "department", "problem": "code '975' inconnu pour fr"}], (
        body
    )
    _french(client.post("/plans", json={"operation_id": op}, headers=fr), 409)  # nobody waits
    long = {"operation_id": op, "horizon_days": 10_000}
    _french(client.post("/plans", json=long, headers=fr), 422)
    hold = {"places": 1}  # neither a shelter nor a profile
    body = _french(client.post(f"/operations/{op}/holds", json=hold, headers=fr), 422)
    assert body["errors"][0]["field"] == "shelter_id", body
    _french(client.post("/shelters", content=b"{not json", headers=fr), 422)
    named = {"arrivals": [{**arrival_doc("A9"), "name": "X"}]}
    _french(client.post(f"/operations/{op}/arrivals/batch", json=named, headers=fr), 422)


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_a_refused_commit_names_the_changed_shelter_in_french(world: World) -> None:
    op = make_operation(world)
    world.call("coord", "POST", f"/operations/{op}/arrivals", json=arrival_doc("A1"))
    r = world.call("coord", "POST", "/plans", json={"solver": "greedy", "operation_id": op})
    plan = wait_plan(world, r.json()["id"])
    shelter = plan["result"]["placements"][0]["shelter"]
    r = world.call("coord", "PUT", f"/shelters/{shelter}/availability", json={"capacity": 5})
    assert r.status_code == 200
    commit = f"/plans/{plan['id']}/commit"
    body = _french(world.client.post(commit, headers={**world.as_("coord"), **FR}), 409)
    assert body["detail"] == "le plan n'est plus à jour ; demandez-en un nouveau"
    assert body["errors"][0]["field"] == f"shelters[{shelter}]"
    assert body["errors"][0]["problem"].startswith("places ou caractéristiques modifiées")
    english = world.call("coord", "POST", commit).json()
    assert english["detail"] == "the plan is out of date; request a new one"
    assert re.fullmatch(
        r"places or attributes changed since the plan was made \(version \d+ -> \d+\)",
        english["errors"][0]["problem"],
    )


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_413_for_a_batch_or_a_body_over_the_limit_is_french(world: World) -> None:
    fr = {**world.as_("coord"), **FR}
    op = make_operation(world)
    batch = {"arrivals": [arrival_doc(f"B{i}") for i in range(201)]}
    body = _french(
        world.client.post(f"/operations/{op}/arrivals/batch", json=batch, headers=fr), 413
    )
    assert body["errors"] == [{"field": "arrivals", "problem": "201 > la limite de 200"}]
    huge = b'{"x": "' + b"a" * 1_100_000 + b'"}'
    _french(world.client.post("/shelters", content=huge, headers=fr), 413)
    english = world.call("coord", "POST", "/shelters", content=huge).json()
    assert english["detail"] == "request body too large"


@pytest.fixture
def rated(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A service that allows one solve request a minute."""
    db = tmp_path / "service.db"
    db.write_bytes(sqlite_template.read_bytes())
    settings = Settings(**quick_settings(db_path=db, solve_requests_per_minute=1))
    app = create_app(settings, run_migrations=False)
    with TestClient(app) as client:
        token = add_user(app.state.engine, "coord", "coordinator")[1]
        yield client, {"Authorization": f"Bearer {token}"}


def test_429_past_the_rate_is_french(rated: tuple[TestClient, dict[str, str]]) -> None:
    client, coord = rated
    client.post("/plans", json={}, headers=coord)  # the one request of the minute
    body = _french(client.post("/plans", json={}, headers={**coord, **FR}), 429)
    assert body["errors"][0]["problem"].startswith("au plus 1 par minute"), body
    english = client.post("/plans", json={}, headers=coord).json()
    assert english["detail"] == "too many solve requests"


def test_a_refusal_kept_as_data_renders_in_both_languages() -> None:
    text: Text = message("the plan is {status}, not done", status=message("running"))
    assert render(text) == "the plan is running, not done"
    assert render(text, "fr") == "le plan a le statut « en cours de calcul », il n'est pas terminé"


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_alerts_read_in_french_and_in_english_as_before(world: World) -> None:
    """A mother with a child, only Lyon takes children and never answers: the escalation and
    the re-plan's alerts; a second person excluded from Lyon has no place (no_place)."""
    from datetime import UTC, datetime, timedelta

    from api.scheduler import run_due_jobs

    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    settings = world.client.app.state.settings  # type: ignore[attr-defined]
    op = make_operation(world)
    docs = [
        arrival_doc("A1", children=1),
        arrival_doc("A2", children=1, exclude_shelters=["S-LYON"]),
    ]
    world.call("coord", "POST", f"/operations/{op}/arrivals/batch", json={"arrivals": docs})
    r = world.call("coord", "POST", "/plans", json={"solver": "greedy", "operation_id": op})
    plan = wait_plan(world, r.json()["id"])
    assert world.call("coord", "POST", f"/plans/{plan['id']}/commit").status_code == 200
    (first,) = world.call("coord", "GET", "/placements").json()
    due = datetime.fromisoformat(first["answer_due_at"]).replace(tzinfo=UTC)
    run_due_jobs(engine, settings, due + timedelta(minutes=1))
    run_due_jobs(engine, settings, due + timedelta(hours=settings.replan_after_hours, minutes=2))
    english = world.call("coord", "GET", "/alerts?open=false").json()
    french = world.call("coord", "GET", "/alerts?open=false&lang=fr").json()
    assert [a["id"] for a in english] == [a["id"] for a in french]
    kinds = {a["kind"] for a in english}
    assert kinds == {"no_place", "escalation", "replanned"}, english
    by_kind = {a["kind"]: (a["detail"], f["detail"]) for a, f in zip(english, french, strict=True)}
    assert by_kind["replanned"] == (
        "unanswered by S-LYON: re-planned to nowhere (waiting list)",
        "sans réponse de S-LYON : replanifié vers nulle part (liste d'attente)",
    )
    assert by_kind["escalation"][0].startswith("no answer from S-LYON by the deadline")
    assert by_kind["escalation"][1].startswith("pas de réponse de S-LYON dans le délai")
    first_no_place = next(a for a in english if a["kind"] == "no_place")["detail"]
    assert first_no_place.startswith(f"plan {plan['id']}: no place; on the waiting list. ")
    assert any(a["detail"].startswith("sans réponse : aucune place") for a in french), french
    for alert in french:
        assert english_left({"detail": alert["detail"], "errors": []}) == [], alert


def test_the_pages_name_states_from_the_services_one_table() -> None:
    from api.domain_errors import STATE_TEXTS, state
    from api.web.labels import STATUSES, label
    from placement.i18n import translator

    assert STATUSES is STATE_TEXTS  # one table
    page = translator("fr", "web")
    # the page's translator finds the state words in the service's catalogue
    assert label(page, STATUSES, "missing") == "absent"
    assert label(page, STATUSES, "running") == "en cours de calcul"
    assert label(page, STATUSES, "proposed") == "proposée"
    assert render(state("expired"), "fr") == label(page, STATUSES, "expired") == "expirée"
    assert label(translator("en", "web"), STATUSES, "running") == "running"
