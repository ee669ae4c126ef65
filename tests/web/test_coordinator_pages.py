"""The coordinator's pages without a browser: the file import's problems at their line and
column (CSV and XLSX), forms that refuse without a 500, roles, and a commit refused because a
shelter changed (409, naming it, offering a new plan)."""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.config import Settings
from api.demo import DEMO_PASSWORDS, SHELTER_IDS, seed_demo
from api.main import create_app


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        db_path=tmp_path / "pages.db",
        default_solve_seconds=3,
        explain_seconds=2,
        start_method="fork",
    )
    app = create_app(settings)
    tokens = seed_demo(app.state.engine)
    with TestClient(app) as c:
        c.get("/app/login")
        c.post(
            "/app/login",
            data={
                "handle": "demo-coordinator",
                "password": DEMO_PASSWORDS["demo-coordinator"],
                "csrf_token": c.cookies.get("placement_csrf") or "",
            },
        )
        c.tokens = tokens  # type: ignore[attr-defined]
        yield c


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/app/dashboard").text)
    assert found
    return found.group(1)


def _operation(client: TestClient, reference: str) -> str:
    answer = client.post(
        "/app/operations",
        data={
            "csrf_token": _csrf(client),
            "reference": reference,
            "date": date.today().isoformat(),
            "danger": "93",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    return str(answer.headers["location"])


def _planned(client: TestClient, reference: str, prefix: str, women: int) -> tuple[str, str]:
    """An operation of ``women`` women imported from a CSV, planned to the end: the plan
    page's address and its HTML."""
    op = _operation(client, reference)
    rows = "id,gender,languages,priority\n" + "".join(
        f"{prefix}-{n},woman,en,5\n" for n in range(women)
    )
    client.post(
        f"{op}/arrivals/import",
        data={"csrf_token": _csrf(client)},
        files={"file": ("a.csv", rows.encode(), "text/csv")},
    )
    planned = client.post(f"{op}/plan", data={"csrf_token": _csrf(client)}, follow_redirects=False)
    plan = planned.headers["location"]
    deadline = time.monotonic() + 60
    while not client.get(f"{plan}/progress.json").json()["finished"]:
        assert time.monotonic() < deadline
        time.sleep(0.3)
    return plan, client.get(plan).text


def _problems(html: str) -> list[str]:
    block = html.split('id="import-problems"', 1)[1].split("</div>", 1)[0]
    return re.findall(r"<li>([^<]*)</li>", block)


def _xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_xlsx_with_bad_cells_stores_nothing_and_says_where(client: TestClient) -> None:
    op = _operation(client, "OP-XLSX")
    rows: list[list[object]] = [
        ["id", "gender", "age", "languages", "priority", "trans"],
        ["X-1", "woman", 30, "ro", 5, "non"],
        ["X-2", "woman", "trente", "ro", 4, "non"],  # line 3: age is not a number
        ["X-3", "woman", 25, "ro", 9, "peut-être"],  # line 4: priority 9, trans not yes/no
    ]
    answer = client.post(
        f"{op}/arrivals/import",
        data={"csrf_token": _csrf(client)},
        files={"file": ("arrivals.xlsx", _xlsx(rows), "application/octet-stream")},
    )
    assert answer.status_code == 422
    problems = _problems(answer.text)
    assert problems[0] == "ligne 3, âge : nombre entier attendu"
    assert any(p.startswith("ligne 4, priorité : ") for p in problems)
    assert "ligne 4, trans : oui ou non attendu" in problems
    assert ">0 arrivée</h2>" in client.get(op).text  # nothing stored


def test_a_file_naming_an_unknown_column_or_reusing_an_id_is_refused_whole(
    client: TestClient,
) -> None:
    op = _operation(client, "OP-CSV")
    unknown = "id;gender;name\nX-1;woman;Alice\n"  # a name is exactly what must never enter
    answer = client.post(
        f"{op}/arrivals/import",
        data={"csrf_token": _csrf(client)},
        files={"file": ("a.csv", unknown.encode(), "text/csv")},
    )
    assert answer.status_code == 422
    assert _problems(answer.text)[0].startswith("ligne 1, name : colonne inconnue")
    twice = "id,gender,languages\nDUP-1,woman,en\nDUP-1,woman,en\n"
    answer = client.post(
        f"{op}/arrivals/import",
        data={"csrf_token": _csrf(client)},
        files={"file": ("a.csv", twice.encode(), "text/csv")},
    )
    assert answer.status_code == 422
    assert any("DUP-1" in p for p in _problems(answer.text))


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"reference": "", "date": "2026-12-01", "danger": "93"}, "reference"),  # empty
        ({"reference": "OP-D", "date": "2026-13-01", "danger": "93"}, "date"),  # month 13
        ({"reference": "OP-Z", "date": "2026-12-01", "danger": "ZZ"}, "danger"),  # no such code
    ],
)
def test_a_bad_operation_form_says_which_field_and_is_never_a_500(
    client: TestClient, form: dict[str, str], field: str
) -> None:
    answer = client.post("/app/operations", data={"csrf_token": _csrf(client), **form})
    assert answer.status_code == 422
    assert f'id="error-{field}"' in answer.text


def test_missing_objects_and_other_roles_get_pages_not_json(client: TestClient) -> None:
    missing = client.get("/app/operations/999999")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert client.get("/app/plans/nope").status_code == 404
    assert client.get("/app/operations/abc").status_code == 404
    client.post("/app/logout", data={"csrf_token": _csrf(client)})
    client.get("/app/login")
    client.post(
        "/app/login",
        data={
            "handle": "demo-manager",
            "password": DEMO_PASSWORDS["demo-manager"],
            "csrf_token": client.cookies.get("placement_csrf") or "",
        },
    )
    refused = client.get("/app/operations/1")
    assert refused.status_code == 403 and "Votre rôle" in refused.text


@pytest.mark.slow
def test_a_commit_after_a_shelter_changed_names_it_and_offers_a_new_plan(
    client: TestClient,
) -> None:
    plan, page = _planned(client, "OP-409", "C", 4)
    shelter = re.search(r"<td>[^<]*</td><td>(SH-\d+)</td>", page)
    assert shelter
    token = client.tokens["demo-coordinator"]  # type: ignore[attr-defined]
    changed = client.put(
        f"/shelters/{shelter.group(1)}/availability",
        json={"capacity": 9},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.status_code == 200
    refused = client.post(f"{plan}/commit", data={"csrf_token": _csrf(client)})
    assert refused.status_code == 409
    assert f"Centre {shelter.group(1)} :" in refused.text
    assert "Replanifier avec les places libres maintenant" in refused.text


def test_places_are_held_at_a_shelter_until_released_and_bad_numbers_are_said(
    client: TestClient,
) -> None:
    op = _operation(client, "OP-HOLD")
    refused = client.post(
        f"{op}/holds",
        data={"csrf_token": _csrf(client), "shelter_id": "", "places": "deux", "nights": "5"},
    )
    assert refused.status_code == 422
    assert '<p class="field-error" id="error-places">nombre entier attendu</p>' in refused.text
    shelter = re.findall(r'<option value="(SH-\d+)"', refused.text)[0]
    held = client.post(
        f"{op}/holds",
        data={
            "csrf_token": _csrf(client),
            "shelter_id": shelter,
            "places": "1",
            "nights": "5",
            "expires_in_hours": "6",
        },
    )
    assert held.status_code == 200 and "Places réservées." in held.text
    release = re.search(r'action="(/app/holds/\d+/release)"', held.text)
    assert release and f"<td>{shelter}" in held.text
    client.post(release.group(1), data={"csrf_token": _csrf(client)})
    assert "libérée" in client.get(op).text


@pytest.mark.slow
def test_a_plan_using_a_shelter_marked_compromised_says_so(client: TestClient) -> None:
    plan, page = _planned(client, "OP-COMP", "K", 3)
    assert 'id="compromised"' not in page
    shelter = re.search(r"<td>[^<]*</td><td>(SH-\d+)</td>", page)
    assert shelter
    token = client.tokens["demo-coordinator"]  # type: ignore[attr-defined]
    marked = client.post(
        f"/shelters/{shelter.group(1)}/compromised",
        json={},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert marked.status_code == 200, marked.text
    page = client.get(plan).text
    assert 'id="compromised"' in page
    assert f"{shelter.group(1)} : signalé compromis le" in page
    assert "portée : tout le monde" in page


@pytest.mark.slow
def test_a_done_plans_map_shows_every_shelter_of_the_network_and_says_so_in_text(
    client: TestClient,
) -> None:
    # a done job keeps only the versions of the shelters its plan uses; the map still shows
    # the whole demo network (every active shelter), the unused ones with 0 placed
    plan, _ = _planned(client, "OP-MAP", "M", 3)
    page = client.get(f"{plan}/map").text
    data = re.search(r'<script type="application/json" id="plan-map-data">(.*?)</script>', page)
    assert data
    markers = {m["id"]: m["placed"] for m in json.loads(data.group(1))["shelters"]}
    assert sorted(markers) == sorted(SHELTER_IDS)
    assert 1 <= sum(markers.values()) <= 3  # three women (on each shelter's busiest night)
    assert sum(1 for placed in markers.values() if placed == 0) >= len(SHELTER_IDS) - 3
    # the text alternative: the map's description and one table row per shelter
    assert 'aria-describedby="plan-map-summary"' in page
    assert f"La carte montre {len(SHELTER_IDS)} hébergements" in page
    assert page.split('id="plan-map-shelters"', 1)[1].count('<th scope="row">') == len(markers)


def test_an_operation_date_is_typed_as_the_reader_writes_it(client: TestClient) -> None:
    def create(typed: str) -> Response:
        data = {"csrf_token": _csrf(client), "reference": "OP-DATE", "date": typed, "danger": "93"}
        return client.post("/app/operations", data=data, follow_redirects=False)

    refused = create("31/02/2026")  # no such day: said next to the field, in French
    assert refused.status_code == 422
    assert (
        '<p class="field-error" id="error-date">date attendue, au format jour/mois/année</p>'
        in refused.text
    )
    assert "Jour/mois/année, par exemple 22/11/2033." in refused.text  # the field's hint
    created = create("03/12/2026")
    assert created.status_code == 303
    assert "3 déc. 2026" in client.get(created.headers["location"]).text
