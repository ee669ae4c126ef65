"""Geography as data: administrative areas, their reference points and which ones border.

The tables ship inside the package (``placement/data``) so the running program never reads
anything outside it. France: IGN Admin Express / INSEE COG (Licence Ouverte); Switzerland:
BFS GEOSTAT borders and centroids, names from OpenStreetMap (ODbL). See README, "Data sources".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import numpy as np

EARTH_RADIUS_KM = 6371.0

GeographyCode = Literal["fr", "ch"]


@dataclass(frozen=True)
class Point:
    """A WGS84 coordinate in decimal degrees."""

    lat: float
    lon: float


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance in km on a sphere of radius 6371 km."""
    lat, lon = np.array([a.lat]), np.array([a.lon])
    return float(haversine_km_many(lat, lon, b)[0])


def haversine_km_many(lat: np.ndarray, lon: np.ndarray, b: Point) -> np.ndarray:
    """Great-circle distances in km from points (degrees, as arrays) to ``b``.

    The one distance formula of the project: every rule and cost reads distances computed
    here, so the solver, the validator and the explanations agree to the last bit.
    """
    lat1, lat2 = np.radians(lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = np.radians(b.lon - lon)
    h = np.sin(dlat / 2) ** 2 + np.cos(lat1) * math.cos(lat2) * np.sin(dlon / 2) ** 2
    result: np.ndarray = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return result


@dataclass(frozen=True)
class Area:
    """A département (France) or canton (Switzerland)."""

    code: str
    name: str
    reference_point: Point  # chef-lieu / capital: the default location of a place in it
    borders: frozenset[str]  # touching areas, plus near-touching pairs treated as bordering


@dataclass(frozen=True)
class Geography:
    """The areas of one country, by code."""

    code: GeographyCode
    areas: dict[str, Area]

    def area(self, code: str) -> Area:
        return self.areas[code]

    def __contains__(self, code: object) -> bool:
        return code in self.areas

    def is_same_or_bordering(self, a: str, b: str) -> bool:
        """True when ``a`` is ``b`` or borders it (near-touching pairs count as bordering)."""
        return a == b or b in self.areas[a].borders


def _read(name: str) -> list[dict[str, Any]]:
    text = resources.files("placement").joinpath("data", name).read_text(encoding="utf-8")
    rows: list[dict[str, Any]] = json.loads(text)
    return rows


def _symmetric(areas: dict[str, set[str]]) -> dict[str, frozenset[str]]:
    for code, neighbours in list(areas.items()):
        for other in neighbours:
            areas.setdefault(other, set()).add(code)
    return {code: frozenset(n) for code, n in areas.items()}


@cache
def load_geography(code: GeographyCode = "fr") -> Geography:
    """Load the packaged table for a country (cached: the tables are immutable)."""
    if code == "fr":
        rows = _read("fr_departements.json")
        points = {
            str(r["code"]): (
                str(r["nom"]),
                Point(float(r["chef_lieu_lat"]), float(r["chef_lieu_lon"])),
            )
            for r in rows
        }
        borders = _symmetric(
            {
                str(r["code"]): {str(n) for n in r["neighbours"]}
                | {str(n) for n in r["near_not_touching_lt_2km"]}
                for r in rows
            }
        )
    elif code == "ch":
        rows = _read("ch_cantons.json")
        points = {
            str(r["code"]): (
                str(r["name"]),
                Point(float(r["capital_lat"]), float(r["capital_lon"])),
            )
            for r in rows
        }
        borders = _symmetric({str(r["code"]): {str(n) for n in r["neighbours"]} for r in rows})
    else:  # pragma: no cover - guarded by the Literal type and scenario validation
        raise ValueError(f"unknown geography {code!r}")
    areas = {
        c: Area(code=c, name=name, reference_point=p, borders=borders.get(c, frozenset()))
        for c, (name, p) in points.items()
    }
    return Geography(code=code, areas=areas)
