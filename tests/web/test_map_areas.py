"""The map's areas: the Swiss canton polygons the package ships (one per canton of the
geography, each around its capital), and a Swiss plan's map drawn on them with its text
alternative."""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment

from api.auth import Principal
from api.services.plan_map import AREA_POLYGONS, map_payload
from api.web import HERE
from api.web.render import ENV
from placement.geography import load_geography
from placement.i18n import translator
from tests.builders import arrival, scenario, shelter, solve

COORD = Principal(1, "coord", "coordinator", frozenset())
Ring = list[list[float]]


def _polygons(feature: dict[str, Any]) -> list[list[Ring]]:
    geometry = feature["geometry"]
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    assert geometry["type"] == "MultiPolygon"
    return list(geometry["coordinates"])


def _inside(lon: float, lat: float, ring: Ring) -> bool:
    """Ray casting: True when the point is inside the ring."""
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _cantons() -> dict[str, Any]:
    path = HERE / "static" / str(AREA_POLYGONS["ch"])
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_every_canton_has_one_polygon_and_every_ring_is_closed() -> None:
    features = _cantons()["features"]
    codes = [f["properties"]["code"] for f in features]
    assert sorted(codes) == sorted(load_geography("ch").areas)  # 26, no more, no fewer
    for f in features:
        for polygon in _polygons(f):
            for ring in polygon:
                assert len(ring) >= 4 and ring[0] == ring[-1], f["properties"]["code"]


def test_each_cantons_polygon_holds_its_capital() -> None:
    # the polygons and the rules' table (placement/data/ch_cantons.json) describe the same
    # cantons: Bern's point in BE, Geneva's in GE... (a shifted or mislabelled file fails)
    geo = load_geography("ch")
    for f in _cantons()["features"]:
        area = geo.area(f["properties"]["code"])
        p = area.reference_point
        assert any(_inside(p.lon, p.lat, polygon[0]) for polygon in _polygons(f)), area.code


def _swiss_map() -> tuple[str, Any]:
    sc = scenario(
        [shelter("S-ZH", "ZH", capacity=2), shelter("S-TI", "TI"), shelter("S-GE", "GE")],
        [arrival("A1", danger=[{"department": "BE"}])],
        geography="ch",
    )
    payload = map_payload(sc, solve(sc), COORD)
    env: Environment = ENV
    t = translator("en", "web")
    html = env.from_string(
        '{% from "_map.html" import plan_map with context %}{{ plan_map(payload) }}'
    ).render(payload=payload, t=t, _=t.gettext, ngettext=t.ngettext)
    return html, payload


def test_a_swiss_plans_map_draws_the_cantons_and_says_what_it_shows() -> None:
    html, payload = _swiss_map()
    assert payload.polygons == "geo/ch_cantons.geojson"
    # BE and the cantons bordering it are excluded: the rule's answer, named in the text
    geo = load_geography("ch")
    assert "BE" in payload.excluded_areas and geo.area("BE").name in payload.excluded_names
    assert 'aria-describedby="plan-map-summary"' in html
    assert "The map shows 3 shelters; this plan places people in 1 of them." in html
    # each a whole sentence, a space between them (a regression: "distance.12 cantons")
    assert "its safety distance. 12 cantons are shaded: no one may be placed there (" in html
    assert "OpenStreetMap contributors (ODbL)" in html  # the polygons' attribution
    # one row per shelter, the empty ones with 0 placed
    rows = html.split('id="plan-map-shelters"', 1)[1].count('<th scope="row">')
    assert rows == 3
    assert f"<td>{geo.area('TI').name} (TI)</td><td>0</td>" in html
