"""The stress test pages without a browser: a bad spec is refused next to its file field,
field by field, in the reader's language; a finished job's results are tables, and an
analyst's page names no département (a coordinator's does); the example spec is one the
service accepts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.demo import SHELTER_IDS
from api.services.stress import StressSettings, spec_for_service, stored_report
from api.tables import ShelterRow, StressJobRow, User
from api.web import HERE
from stress.report import (
    Bottleneck,
    DepartmentSaturation,
    GroupUnplaced,
    MarginalValue,
    Saturation,
    StressReport,
)
from stress.stats import mean, proportion
from tests.web.in_process import demo_client, log_in


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with demo_client(tmp_path_factory.mktemp("stress")) as client:
        yield client


@pytest.fixture
def client(service: TestClient) -> TestClient:
    service.cookies.clear()
    return service


def _start(client: TestClient, spec: bytes, name: str = "spec.yaml"):  # type: ignore[no-untyped-def]
    page = client.get("/app/stress")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    return client.post(
        "/app/stress",
        data={"csrf_token": token.group(1)},
        files={"spec": (name, spec, "text/yaml")},
        follow_redirects=False,
    )


BAD_SPEC = b"""name: bad
network: {scenario: elsewhere.yaml}
draws: 1000000
profiles: []
"""


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("fr", "aucun test n'a été lancé"),
        ("en", "no test was started"),
    ],
)
def test_a_bad_spec_is_refused_next_to_the_file_field_field_by_field(
    client: TestClient, lang: str, words: str
) -> None:
    log_in(client, "demo-analyst", lang)
    answer = _start(client, BAD_SPEC)
    assert answer.status_code == 400
    assert words in answer.text.replace("&#39;", "'")
    problems = re.findall(r"<li>([^<]*)</li>", answer.text)
    fields = {p.split(":")[0] for p in problems}
    assert {"draws", "profiles"} <= fields, problems
    assert 'aria-describedby="f-spec-problems"' in answer.text
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        assert session.exec(select(StressJobRow)).all() == []  # nothing started


def test_a_spec_naming_a_file_network_is_told_to_use_the_live_one(client: TestClient) -> None:
    log_in(client, "demo-coordinator", "fr")
    answer = _start(
        client,
        b'{"name": "x", "network": {"scenario": "x.yaml"}, "profiles": '
        b'[{"name": "op", "where": [{"department": "13"}], "size": 2}]}',
        "spec.json",
    )
    assert answer.status_code == 400
    assert "network.scenario" in answer.text and "live: true" in answer.text


def test_no_file_and_a_file_that_is_not_yaml_are_refused(client: TestClient) -> None:
    log_in(client, "demo-analyst", "en")
    answer = _start(client, b"name: [unclosed\n")
    assert answer.status_code == 400 and "<li>spec" in answer.text


def test_the_example_spec_is_one_the_service_accepts() -> None:
    data = yaml.safe_load((HERE / "static" / "stress-example.yaml").read_text(encoding="utf-8"))
    spec = spec_for_service(data, StressSettings())
    assert spec.network.live and spec.advice is None


def _report(shelter: str) -> StressReport:
    """A finished sweep's report, with a shelter and a département saturated."""
    return StressReport(
        name="marseille",
        network="live network",
        seed=1,
        draws=20,
        proven_optimal_draws=20,
        persons_requested_mean=40.0,
        all_placed=proportion(12, 20),
        all_placed_at_or_above={str(p): proportion(12 + p, 20) for p in range(1, 6)},
        expected_unplaced=[
            GroupUnplaced(group="everyone", requested_mean=40.0, unplaced=mean([0, 2, 3, 1])),
            GroupUnplaced(group="speaks ro", requested_mean=30.0, unplaced=mean([0, 1, 2, 1])),
        ],
        bottlenecks=[Bottleneck(reason=f"full: {shelter}", draws_share=0.4, persons_mean=1.5)],
        shelters_saturated=[
            Saturation(
                shelter=shelter, department="13", full_share=proportion(8, 20), usual_full_nights=[]
            )
        ],
        departments_saturated=[
            DepartmentSaturation(
                department="13", name="Bouches-du-Rhône", full_share=proportion(5, 20)
            )
        ],
        marginal_value=[MarginalValue(shelter=shelter, extra_persons=mean([1, 0, 1, 1]))],
        marginal_draws=4,
    )


def _finished_job(client: TestClient, handle: str, job_id: str) -> str:
    """A done job of ``handle`` (stored as the service stores it), and its shelter's
    département (what an analyst must not see)."""
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        owner = session.exec(select(User.id).where(User.handle == handle)).one()
        assert owner is not None
        shelter = session.get(ShelterRow, SHELTER_IDS[0])
        assert shelter is not None
        session.add(
            StressJobRow(
                id=job_id,
                owner_id=owner,
                status="done",
                done=20,
                total=20,
                report=stored_report(_report(SHELTER_IDS[0])),
            )
        )
        session.commit()
        return shelter.shelter.department


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_an_analysts_results_are_tables_without_any_departement(
    client: TestClient, lang: str
) -> None:
    department = _finished_job(client, "demo-analyst", f"analyst{lang}")
    log_in(client, "demo-analyst", lang)
    page = client.get(f"/app/stress/analyst{lang}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    heading = {"fr": "Probabilité que tout le monde soit placé", "en": "Probability that"}[lang]
    assert heading in text
    assert {"fr": "60,0\u00a0%", "en": "60.0%"}[lang] in text  # everyone placed in 12 of 20 draws
    assert {"fr": "parle roumain", "en": "speaks Romanian"}[lang] in text
    assert SHELTER_IDS[0] in text  # shelters by id only
    assert "Bouches-du-Rhône" not in text and "département" not in text.lower()
    assert f"<td>{department}</td>" not in text
    assert 'role="img"' in text  # the probability chart


def test_a_coordinator_sees_the_departements_of_the_same_results(client: TestClient) -> None:
    department = _finished_job(client, "demo-coordinator", "coordfr")
    log_in(client, "demo-coordinator", "fr")
    text = client.get("/app/stress/coordfr").text
    assert f"<td>{department}</td>" in text and "13 Bouches-du-Rhône" in text


def test_an_analyst_cannot_open_another_users_job_nor_a_manager_any(client: TestClient) -> None:
    _finished_job(client, "demo-coordinator", "coordonly")
    log_in(client, "demo-analyst", "en")
    assert client.get("/app/stress/coordonly").status_code == 404
    log_in(client, "demo-manager", "en")
    assert client.get("/app/stress").status_code == 403
    assert client.get("/app/stress/coordonly").status_code == 403


def test_the_stress_form_has_a_csrf_token_and_posting_without_it_is_refused(
    client: TestClient,
) -> None:
    log_in(client, "demo-analyst", "en")
    page = client.get("/app/stress").text
    assert 'name="csrf_token"' in page and "/app/static/stress-example.yaml" in page
    answer = client.post("/app/stress", files={"spec": ("s.yaml", BAD_SPEC, "text/yaml")})
    assert answer.status_code == 403


def test_stress_pages_example_file_is_served(client: TestClient) -> None:
    assert Path(HERE / "static" / "stress-example.yaml").exists()
    assert "live: true" in client.get("/app/static/stress-example.yaml").text


@pytest.mark.slow
def test_a_running_job_shows_its_progress_a_stop_button_and_a_progress_feed(
    client: TestClient,
) -> None:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        owner = session.exec(select(User.id).where(User.handle == "demo-analyst")).one()
        assert owner is not None
        session.add(
            StressJobRow(
                id="running1", owner_id=owner, phase="draws", done=3, total=8, seconds_left=12.4
            )
        )
        session.commit()
    log_in(client, "demo-analyst", "fr")
    page = client.get("/app/stress/running1").text
    assert "tirages : 3 résolutions sur 8" in page and "environ 12 s" in page
    assert 'data-progress-url="/app/stress/running1/progress.json"' in page
    feed = client.get("/app/stress/running1/progress.json").json()
    assert feed["finished"] is False and feed["levels"][0]["placed"] == 3
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    stop = client.post(
        "/app/stress/running1/stop", data={"csrf_token": token.group(1)}, follow_redirects=False
    )
    assert stop.status_code == 303
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        row = session.get(StressJobRow, "running1")
        assert row is not None and row.stop_requested
