"""The analyst's stress test in a real browser, in French: a bad spec refused next to the
file field, then a small spec started on the live demo network, its progress seen, then its
results as tables and a chart, with no département; axe-core and a screenshot at each step."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.web.harness import Service, log_in, look

#: a few draws of a small operation in Marseille: it finishes in seconds
SMALL_SPEC = """name: petit test Marseille
network: {live: true}
draws: 8
seed: 7
time_limit: 2
marginal: {draws: 2}
profiles:
  - name: marseille
    where: [{department: "13"}]
    size: {min: 2, max: 6}
"""
BAD_SPEC = "name: faux\nnetwork: {live: true}\ndraws: 0\nprofiles: []\n"


def test_analyst_starts_a_stress_test_watches_it_and_reads_the_results(
    page: Any, service: Service, tmp_path: Path
) -> None:
    log_in(page, service, "analyst")
    page.get_by_role("link", name="Tests de résistance").click()
    page.wait_for_url(re.compile(r".*/app/stress$"))
    look(page, "analyst_stress_form_fr")
    field = page.get_by_label("Fichier du test de résistance (YAML ou JSON)")
    bad = tmp_path / "faux.yaml"
    bad.write_text(BAD_SPEC, encoding="utf-8")
    field.set_input_files(str(bad))
    page.get_by_role("button", name="Lancer le test de résistance").click()
    refusal = page.get_by_role("alert")
    assert "aucun test n'a été lancé" in refusal.inner_text()
    problems = refusal.locator("li").all_inner_texts()
    assert any(p.startswith("draws") for p in problems), problems
    assert any(p.startswith("profiles") for p in problems), problems
    look(page, "analyst_stress_refused_fr")

    small = tmp_path / "petit.yaml"
    small.write_text(SMALL_SPEC, encoding="utf-8")
    page.get_by_label("Fichier du test de résistance (YAML ou JSON)").set_input_files(str(small))
    page.get_by_role("button", name="Lancer le test de résistance").click()
    page.wait_for_url(re.compile(r".*/app/stress/[0-9a-f]{32}$"))
    results = page.get_by_role("heading", name="Probabilité que tout le monde soit placé")
    if not results.is_visible():  # still running: the progress bar and the stop button
        assert page.get_by_role("heading", name="En cours").is_visible()
        assert page.get_by_role("button", name="Arrêter le test").is_visible()
        assert page.get_by_role("progressbar").count() == 1
        look(page, "analyst_stress_progress_fr")
    results.wait_for(timeout=180_000)  # app.js reloads the page when the job ends
    assert "8 tirages" in page.locator("main").inner_text()
    chart = page.get_by_role("img", name=re.compile("^probabilité, avec"))
    assert chart.is_visible()
    assert page.get_by_role("table").count() >= 2
    assert "département" not in page.content().lower()
    look(page, "analyst_stress_results_fr")
