"""The field pages without a browser: who may open and post what (the JSON API's role rules),
CSRF on every form, any night's places set from the calendar (refused next to the field),
the audit log's date filter, a what-if file with errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select

from api.config import Settings
from api.demo import SHELTER_IDS
from api.services.capacity import Night
from api.tables import ArrivalRow, AuditRecord, Operation, ShelterRow, ShelterUpdate, User, utcnow
from api.web.routes.shelter import today, weeks
from tests.web.in_process import demo_client, log_in

MINE, OTHER = SHELTER_IDS[0], SHELTER_IDS[1]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One service with the demo network for the module; the waiting list retried after
    each change without waiting out the spacing between retries (the test client waits for
    the retry: it runs after the answer)."""
    with demo_client(tmp_path_factory.mktemp("field"), waitlist_after_change_seconds=0) as c:
        yield c


@pytest.fixture
def client(service: TestClient) -> TestClient:
    """The module's service, logged out (each test logs in as whom it needs)."""
    service.cookies.clear()
    return service


def _csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def _row(client: TestClient, shelter_id: str) -> ShelterRow:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        row = session.get(ShelterRow, shelter_id)
        assert row is not None
        return row


def test_weeks_start_on_monday_with_blank_days_before_the_first_night() -> None:
    # 2026-12-03 is a Thursday: three blanks, then Thursday to Sunday; then a full week
    nights = [Night(date(2026, 12, 3) + timedelta(days=i), 2, 0) for i in range(11)]
    rows = weeks(nights)
    assert [n is None for n in rows[0].nights] == [True] * 3 + [False] * 4
    assert [n.night.day for n in rows[1].nights if n] == [7, 8, 9, 10, 11, 12, 13]
    assert len(rows) == 2


def _save_night(client: TestClient, night: object, free: str) -> Response:
    token = _csrf(client, f"/app/shelter/{MINE}")
    data = {"night": str(night), "free": free, "csrf_token": token}
    return client.post(f"/app/shelter/{MINE}/places", data=data, follow_redirects=False)


def test_manager_sets_tonights_free_places_and_the_calendar_shows_them(
    client: TestClient,
) -> None:
    log_in(client, "demo-manager")
    assert _save_night(client, today(), "0").status_code == 303
    page = client.get(f"/app/shelter/{MINE}").text
    assert 'name="free" type="number" inputmode="numeric" min="0" max="10000" value="0"' in page
    row = _row(client, MINE)
    end = today() + timedelta(days=30)
    places = row.shelter.places_by_night(today(), 2, end)
    assert places[0] == 0 and places[1] > 0  # tonight only


def test_manager_changes_a_later_night_and_only_that_night_changes(client: TestClient) -> None:
    log_in(client, "demo-manager")
    night = today() + timedelta(days=9)
    end = today() + timedelta(days=30)
    before = _row(client, MINE).shelter.places_by_night(today(), 30, end)
    taken = re.search(  # what committed placements and holds take that night, as the page says
        r'id="taken-night">(\d+)', client.get(f"/app/shelter/{MINE}?night={night}").text
    )
    assert taken
    answer = _save_night(client, night, str(before[9] + 2))
    assert answer.status_code == 303
    shown = client.get(answer.headers["location"]).text
    assert "Nuit du" in shown and "sont à jour" in shown  # the French page, that night's form
    after = _row(client, MINE).shelter.places_by_night(today(), 30, end)
    assert after[9] == int(taken.group(1)) + before[9] + 2
    assert after[:9] == before[:9] and after[10:] == before[10:]
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        update = session.exec(
            select(ShelterUpdate)
            .where(ShelterUpdate.shelter_id == MINE)
            .order_by(col(ShelterUpdate.id).desc())
        ).first()
        manager = session.exec(select(User).where(User.handle == "demo-manager")).one()
    # recorded as PUT /availability records it: who, when, which fields
    assert update is not None and update.kind == "availability"
    assert (update.user_id, update.fields) == (manager.id, ["availability", "capacity"])


def test_tapping_a_night_opens_its_form_and_the_calendar_links_every_night(
    client: TestClient,
) -> None:
    log_in(client, "demo-manager")
    night = today() + timedelta(days=3)
    page = client.get(f"/app/shelter/{MINE}?night={night}").text
    assert f'name="night" value="{night}"' in page
    links = re.findall(rf'href="/app/shelter/{MINE}\?night=([\d-]+)#night-card"', page)
    assert len(links) == 28 and links[0] == today().isoformat()
    assert page.count('aria-current="date"') == 1
    # a night the calendar does not show opens tonight's form
    outside = client.get(f"/app/shelter/{MINE}?night={today() + timedelta(days=28)}").text
    assert f'name="night" value="{today()}"' in outside


@pytest.mark.parametrize(
    ("night_days", "free", "field"),
    [
        (0, "-3", "free"),  # negative
        (0, "trois", "free"),  # not a number
        (0, "", "free"),  # empty
        (2, "10001", "free"),  # above MAX_PLACES: refused by the service's own bound
        (2, "2.5", "free"),  # not whole
        (-1, "1", "night"),  # last night: not in the calendar
        (28, "1", "night"),  # beyond the four weeks shown
        (None, "1", "night"),  # not a date
    ],
)
def test_a_bad_night_or_number_is_refused_next_to_its_field_and_nothing_changes(
    client: TestClient, night_days: int | None, free: str, field: str
) -> None:
    log_in(client, "demo-manager")
    before = _row(client, MINE).version
    night = "2026-13-01" if night_days is None else today() + timedelta(days=night_days)
    page = _save_night(client, night, free)
    assert page.status_code == 400
    assert f'<p class="field-error" id="error-{field}">' in page.text
    assert "Non enregistré" in page.text  # the reader's language (French by default)
    if field == "free":
        assert 'aria-invalid="true"' in page.text
        assert f'value="{free}"' in page.text  # what was typed stays in the field
    assert _row(client, MINE).version == before


def test_manager_of_another_shelter_finds_nothing_there(client: TestClient) -> None:
    log_in(client, "demo-manager")
    token = _csrf(client, f"/app/shelter/{MINE}")
    before = _row(client, OTHER)
    for path in (f"/app/shelter/{OTHER}", f"/app/shelter/{OTHER}/proposals"):
        assert client.get(path).status_code == 404
    for path in (f"/app/shelter/{OTHER}/places", f"/app/shelter/{OTHER}/confirm"):
        data = {"night": str(today()), "free": "1", "csrf_token": token}
        answer = client.post(path, data=data)
        assert answer.status_code == 404
    after = _row(client, OTHER)
    assert (after.version, after.capacity_updated_at) == (
        before.version,
        before.capacity_updated_at,
    )


def test_forms_without_their_csrf_token_are_refused(client: TestClient) -> None:
    log_in(client, "demo-manager")
    before = _row(client, MINE).capacity_updated_at
    for path in (f"/app/shelter/{MINE}/confirm", f"/app/shelter/{MINE}/places"):
        data = {"night": str(today()), "free": "1"}
        assert client.post(path, data=data).status_code == 403
    assert _row(client, MINE).capacity_updated_at == before


@pytest.mark.parametrize(
    "path",
    ["/app/shelters", "/app/shelters/new", f"/app/shelters/{MINE}/edit", "/app/audit"],
)
def test_analysts_and_managers_may_not_open_the_coordinators_pages(
    client: TestClient, path: str
) -> None:
    for handle in ("demo-analyst", "demo-manager"):
        log_in(client, handle)
        assert client.get(path).status_code == 403, handle


def test_managers_may_not_use_the_what_if(client: TestClient) -> None:
    log_in(client, "demo-manager")
    assert client.get("/app/whatif").status_code == 403


def test_a_what_if_file_with_errors_names_each_field_and_plans_nothing(
    client: TestClient,
) -> None:
    log_in(client, "demo-analyst")
    token = _csrf(client, "/app/whatif")
    answer = client.post(
        "/app/whatif",
        data={"csrf_token": token},
        files={
            "scenario": ("bad.yaml", b"name: x\nstart: 2026-12-01\nhorizon_days: 0\n", "text/yaml")
        },
    )
    assert answer.status_code == 400
    problems = re.findall(r"<li>([^<]*)</li>", answer.text)
    assert any(p.startswith("horizon_days:") for p in problems), problems
    assert any(p.startswith("shelters:") for p in problems), problems
    # a date that cannot be (a regression: it was a traceback, a 500)
    answer = client.post(
        "/app/whatif",
        data={"csrf_token": token},
        files={"scenario": ("bad.yaml", b"name: x\nstart: 2026-13-01\n", "text/yaml")},
    )
    assert answer.status_code == 400
    assert "month must be in 1..12" in answer.text  # the YAML problem, in the reader's language


def test_audit_log_filters_by_date_and_actor(client: TestClient) -> None:
    log_in(client, "demo-manager")
    token = _csrf(client, f"/app/shelter/{MINE}")
    client.post(f"/app/shelter/{MINE}/confirm", data={"csrf_token": token})
    log_in(client, "demo-coordinator")
    day = datetime.now(ZoneInfo("Europe/Paris")).date()  # the days of the service's zone
    tomorrow = (day + timedelta(days=1)).isoformat()
    found = client.get(f"/app/audit?user=demo-manager&from={day.isoformat()}").text
    assert "places confirmed" in found
    assert "places confirmed" not in client.get(f"/app/audit?from={tomorrow}").text
    assert "places confirmed" not in client.get("/app/audit?user=demo-analyst").text


def test_an_edit_records_only_the_fields_it_changed(client: TestClient) -> None:
    # the form sends every field; only age_max changes: no location write in the audit log
    log_in(client, "demo-coordinator")
    sid = SHELTER_IDS[3]
    token = _csrf(client, f"/app/shelters/{sid}/edit")
    page = client.get(f"/app/shelters/{sid}/edit").text
    values = dict(re.findall(r'name="(\w+)" type="text" value="([^"]*)"', page))
    checked = re.findall(r'name="(\w+)" type="checkbox" value="1" checked', page)
    form = {**values, **dict.fromkeys(checked, "1"), "age_max": "60", "csrf_token": token}
    before = _row(client, sid).version
    assert client.post(f"/app/shelters/{sid}/edit", data=form).status_code == 200
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        updates = session.exec(select(ShelterUpdate).where(ShelterUpdate.shelter_id == sid)).all()
        writes = session.exec(
            select(AuditRecord).where(AuditRecord.object_id == sid, AuditRecord.action == "write")
        ).all()
    assert updates[-1].fields == ["age_max"]
    assert _row(client, sid).version == before + 1
    assert writes == []


def test_a_compromised_shelter_is_flagged_on_the_shelters_page(client: TestClient) -> None:
    from api.auth import principal_of
    from api.services.compromised import Scope, mark_compromised
    from api.tables import User

    sid = SHELTER_IDS[5]
    log_in(client, "demo-coordinator")
    line = re.compile(rf"<tr>\s*<td>{sid}[^\n]*")
    before = line.search(client.get("/app/shelters").text)
    assert before and "compromis" not in before.group(0)
    app = client.app
    with Session(app.state.engine) as session:  # type: ignore[attr-defined]
        user = session.exec(select(User).where(User.handle == "demo-coordinator")).one()
        who = principal_of(session, user)
        settings = app.state.settings  # type: ignore[attr-defined]
        mark_compromised(session, settings, sid, Scope("network", network="NET-X"), who)
    after = line.search(client.get("/app/shelters").text)
    assert after and "compromis" in after.group(0)  # the French page: "compromis"


@pytest.mark.parametrize(
    ("at", "shown"),
    [
        # Paris is UTC+2 in summer and UTC+1 in winter; the UTC hour must not be shown
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "01/07/2026 14:00"),
        (datetime(2026, 1, 15, 23, 30, tzinfo=UTC), "16/01/2026 00:30"),
    ],
)
def test_times_are_shown_in_the_services_time_zone(
    client: TestClient, at: datetime, shown: str
) -> None:
    object_id = f"tz-{at:%m%d%H%M}"
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        session.add(
            AuditRecord(
                at=at, role="system", action="read", object_type="plan", object_id=object_id
            )
        )
        session.commit()
    log_in(client, "demo-coordinator")
    page = client.get(f"/app/audit?object_id={object_id}").text
    assert shown in page  # Europe/Paris, the default PLACEMENT_TIME_ZONE
    assert f"{at:%H:%M}" not in page


def test_an_unknown_time_zone_is_refused_with_the_setting_named() -> None:
    with pytest.raises(ValueError, match="time_zone") as refused:
        Settings(time_zone="Europe/Atlantis")
    assert "unknown time zone 'Europe/Atlantis'" in str(refused.value)


def test_the_audit_logs_days_are_the_days_of_the_time_zone(client: TestClient) -> None:
    # 23:30 UTC on 15 January is 00:30 on the 16th in Paris: it is a record of the 16th
    object_id = "tz-day"
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        fields = {"role": "system", "action": "read", "object_type": "plan"}
        at = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)
        session.add(AuditRecord(at=at, object_id=object_id, **fields))
        session.commit()
    log_in(client, "demo-coordinator")
    found = f"/app/audit?object_id={object_id}"
    assert "16/01/2026 00:30" in client.get(f"{found}&from=16/01/2026&to=16/01/2026").text
    assert "16/01/2026 00:30" not in client.get(f"{found}&from=15/01/2026&to=15/01/2026").text


def test_saving_a_nights_places_retries_the_waiting_list(client: TestClient) -> None:
    # a woman waits (set on the list directly) for a stay that this shelter may take
    later = today() + timedelta(days=60)
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        op = Operation(reference="OP-WEB-WAIT", date=later, danger=[{"department": "93"}])
        session.add(op)
        session.flush()
        doc = {"id": "W-WEB-1", "gender": "woman", "languages": ["fr"], "arrives": str(later)}
        doc |= {"nights": 3, "needs": ["psychological"], "danger": [{"department": "93"}]}
        waiting = ArrivalRow(
            id="W-WEB-1", operation_id=op.id or 0, data=doc, waitlisted_at=utcnow()
        )
        session.add(waiting)
        session.commit()
    log_in(client, "demo-manager")
    assert _save_night(client, today(), "1").status_code == 303
    with Session(engine) as session:
        row = session.get(ArrivalRow, "W-WEB-1")
        assert row is not None and (row.status, row.waitlisted_at) == ("placed", None)
