"""A tiny network whose answers are known by hand, and a spec writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

# Two shelters with one place each, every night, far from the danger (Marseille, 13), for
# women who speak English. An operation of 1, 2 or 3 women, each size with probability 1/3:
# everyone is placed unless there are 3, so P(everyone placed) = 2/3.
TINY_NETWORK = {
    "name": "two shelters",
    "start": "2026-12-01",
    "horizon_days": 7,
    "shelters": [
        {"id": "brest", "department": "29", "accepts": ["woman"], "languages": ["fr", "en"],
         "capacity": 1},
        {"id": "lille", "department": "59", "accepts": ["woman"], "languages": ["fr", "en"],
         "capacity": 1},
    ],
    "arrivals": [],
}  # fmt: skip

# One more place in Lille (cost 2) places the third woman; so does one in Brest (cost 3) or
# a new shelter in Lyon (cost 5): the cheapest set reaching "everyone placed" is Lille's.
TINY_ADVICE = {
    "target": {"all_placed_share": 1.0},
    "check_draws": 60,
    "candidates": [
        {"id": "brest-plus-one", "cost": 3, "add_places": {"shelter": "brest"}},
        {"id": "lille-plus-one", "cost": 2, "add_places": {"shelter": "lille"}},
        {"id": "new-lyon", "cost": 5, "new_shelter": {"department": "69", "accepts": ["woman"],
                                                      "languages": ["fr", "en"], "capacity": 2}},
    ],
}  # fmt: skip


def tiny_spec(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "tiny",
        "network": {"scenario": "network.yaml"},
        "draws": 60,
        "seed": 1,
        "marginal": {"draws": 0},
        "profiles": [{"name": "op", "where": [{"department": "13"}], "size": {"min": 1, "max": 3}}],
    }
    spec.update(changes)
    return spec


@pytest.fixture
def write_spec(tmp_path: Path):
    """Writes a spec (and the tiny network beside it); returns the spec's path."""
    (tmp_path / "network.yaml").write_text(yaml.safe_dump(TINY_NETWORK), encoding="utf-8")

    def write(spec: dict[str, Any], name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(spec), encoding="utf-8")
        return path

    return write
