"""The French plan page's refusal and progress carry no English source text: a commit
refused because a shelter changed (409) names it in French, and the progress (the solver's
stage) reads in French; the service's own refusals on pages are French pages too."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.plan_jobs import INTERRUPTED
from api.tables import PlanJob
from placement.text import message
from tests.api.test_refusals_in_french import ENGLISH_FRAGMENTS
from tests.web.test_coordinator_pages import _csrf, _planned, client

__all__ = ["client"]  # the pages' logged-in coordinator (French: no language stated)


def english_in(text: str) -> list[str]:
    """The English source fragments found in a text."""
    return [f for f in ENGLISH_FRAGMENTS if f in text]


@pytest.mark.slow
def test_a_refused_commit_and_the_progress_read_in_french(client: TestClient) -> None:
    plan, page = _planned(client, "OP-FR", "F", 4)
    progress = client.get(f"{plan}/progress.json").json()
    assert progress["status_text"] and english_in(progress["status_text"]) == []
    assert re.search(
        r"étape (premier plan|priorité|coût secondaire|plan après)", progress["status_text"]
    ), progress
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
    text = html.unescape(re.sub(r"<[^>]+>", " ", refused.text))
    assert "places ou caractéristiques modifiées depuis le calcul du plan" in text
    assert english_in(text) == [], english_in(text)


@pytest.mark.slow
def test_a_failed_solve_says_why_in_french(client: TestClient) -> None:
    """A job that ended ``failed`` shows its stored message in the page's language (the
    English ``error`` column is what an API client without a language reads)."""
    plan, _ = _planned(client, "OP-FAIL", "X", 2)
    job_id = plan.rstrip("/").rsplit("/", 1)[-1]
    engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        job = session.get(PlanJob, job_id)
        assert job is not None
        job.status = "failed"
        job.error = INTERRUPTED
        job.error_message = message(INTERRUPTED).model_dump(mode="json")
        session.add(job)
        session.commit()
    text = html.unescape(re.sub(r"<[^>]+>", " ", client.get(plan).text))
    assert "interrompu" in text, text
    assert INTERRUPTED not in text and english_in(text) == [], english_in(text)
