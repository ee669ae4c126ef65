"""The HTML report in a real browser (Debian's chromium, driven by Playwright), with every
request to any host refused: the page must need nothing outside the file. The plots must be
drawn (plotly's SVG), the texts in the reader's language, and a screenshot is kept under
``artifacts/stress`` to look at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from placement.models import Scenario
from stress.html import html_report
from stress.run import Networks, run_stress
from stress.spec import spec_from_data
from stress.sweep import ClusterOptions
from tests.stress.conftest import TINY_NETWORK, tiny_spec
from tests.stress.test_advice import PAIR_CANDIDATES, SIZES

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parents[2] / "artifacts" / "stress"
#: plots in a report with marginal values: probability, groups, bottlenecks, map, marginal
PLOTS = 5


@pytest.fixture(scope="module")
def report_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    advice = {"target": {"all_placed_share": 1.0}, "check_draws": 30, "candidates": PAIR_CANDIDATES}
    spec = spec_from_data(
        tiny_spec(draws=40, profiles=SIZES, marginal={"draws": 10}, advice=advice)
    )
    network = Scenario.model_validate(TINY_NETWORK)
    report = run_stress(spec, Networks(network), ClusterOptions(workers=1))
    folder = tmp_path_factory.mktemp("report")
    out = {}
    for locale in ("fr", "en"):
        out[locale] = folder / f"report-{locale}.html"
        out[locale].write_text(html_report(report, network, locale), encoding="utf-8")
    return out


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_report_draws_its_plots_offline(report_files: dict[str, Path], locale: str):
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})

            def refuse(route):  # type: ignore[no-untyped-def]
                requested.append(route.request.url)
                route.abort()

            # Every http(s) request, to any host, is refused and noted; the file itself is
            # read from file:// (routes do not see it).
            page.route("http*://**/*", refuse)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(report_files[locale].as_uri())
            page.wait_for_function(
                f"document.querySelectorAll('.plotly-graph-div .main-svg').length >= {PLOTS}",
                timeout=30_000,
            )
            plots = page.locator(".plotly-graph-div")
            assert plots.count() == PLOTS
            for i in range(PLOTS):
                # Each plot drew its bars or markers, not an empty frame.
                marks = plots.nth(i).locator("g.trace path, g.trace .point")
                assert marks.count() > 0, f"plot {i} is empty"
            assert page.locator("html").get_attribute("lang") == locale
            text = page.locator("body").inner_text()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"report-{locale}.png"), full_page=True)
        finally:
            browser.close()
    assert requested == [], f"the report asked for {requested}"
    assert errors == [], errors
    if locale == "fr":
        assert "Conseil de capacité" in text and "Probabilité que tout le monde soit placé" in text
        # percentages written the French way: decimal comma, a (no-break) space before %
        assert re.search(r"\d+,\d[\s\u00a0\u202f]%", text)
        assert "Capacity advice" not in text
    else:
        assert "Capacity advice" in text and re.search(r"\d+\.\d%", text)
