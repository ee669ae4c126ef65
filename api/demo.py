"""A demo national network: shelters across France, three users, one operation."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from api.auth import add_user
from api.tables import ArrivalRow, Operation, ShelterRow, ShelterUpdate
from api.web.sessions import set_password
from placement.geography import load_geography
from placement.models import Arrival, Shelter

log = logging.getLogger(__name__)

#: the demo users' web log-ins (``make serve`` prints them): a demo network only, never real
DEMO_PASSWORDS = {
    "demo-coordinator": "demo-coordinator-pass",
    "demo-manager": "demo-manager-pass",
    "demo-analyst": "demo-analyst-pass",
}

#: (département, accepts, children, services) of the demo shelters
NETWORK = [
    ("29", ["woman"], True, ["psychological", "trafficking"]),
    ("35", ["woman"], False, ["trafficking"]),
    ("44", ["woman", "man", "nonbinary"], True, ["medical"]),
    ("33", ["woman"], True, ["psychological", "trafficking"]),
    ("31", ["man"], False, ["trafficking"]),
    ("34", ["woman"], False, ["psychological"]),
    ("13", ["woman"], True, ["trafficking", "medical"]),
    ("06", ["woman", "nonbinary"], False, ["psychological"]),
    ("69", ["woman"], True, ["trafficking"]),
    ("38", ["man"], False, ["medical"]),
    ("67", ["woman"], False, ["trafficking", "psychological"]),
    ("59", ["woman", "man"], True, ["trafficking"]),
    ("76", ["woman"], False, ["psychological"]),
    ("87", ["woman"], True, ["trafficking"]),
    ("63", ["woman", "man", "nonbinary"], False, ["disability_access"]),
    ("21", ["woman"], False, ["trafficking"]),
    ("64", ["woman"], True, ["psychological"]),
    ("51", ["man"], False, ["trafficking"]),
]
LANGUAGES = ["en", "ro", "es", "pt", "bg", "ar", "ru", "uk", "sq", "zh", "pcm"]
#: the demo shelters' ids: numbers drawn once, so that an id says nothing about where the
#: shelter is (analysts see ids, never départements)
SHELTER_IDS = [f"SH-{n}" for n in random.Random(2026).sample(range(100, 1000), len(NETWORK))]


def seed_demo(engine: Engine) -> dict[str, str]:
    """Seed the network once; return new users' tokens by handle (empty if already seeded)."""
    rng = random.Random(7)
    geo = load_geography("fr")
    with Session(engine) as session:
        if session.exec(select(func.count()).select_from(ShelterRow)).one():
            return {}
        for i, (dep, accepts, children, services) in enumerate(NETWORK):
            ref = geo.area(dep).reference_point
            shelter = Shelter.model_validate(
                {
                    "id": SHELTER_IDS[i],
                    "department": dep,
                    "location": {
                        "lat": round(ref.lat + rng.uniform(-0.05, 0.05), 5),
                        "lon": round(ref.lon + rng.uniform(-0.05, 0.05), 5),
                    },
                    "accepts": accepts,
                    "children": children,
                    "languages": ["fr", *rng.sample(LANGUAGES, 2)],
                    "services": services,
                    "capacity": rng.randint(1, 4),
                }
            )
            session.add(
                ShelterRow(id=shelter.id, data=shelter.model_dump(mode="json", by_alias=True))
            )
            session.add(ShelterUpdate(shelter_id=shelter.id, kind="created", fields=["*"]))
        today = datetime.now(UTC).date()
        op = Operation(reference="OP-DEMO-93", date=today, danger=[{"department": "93"}])
        session.add(op)
        session.flush()
        for n in range(12):
            arrival = Arrival.model_validate(
                {
                    "id": f"DEMO-{n + 1:03d}",
                    "gender": "man" if n % 5 == 4 else "woman",
                    "languages": [rng.choice(["en", "pcm", "ro", "es"])],
                    "children": 1 if n % 6 == 0 else 0,
                    "danger": op.danger,
                    "priority": 5 if n < 3 else 3,
                    "arrives": (today + timedelta(days=n % 3)).isoformat(),
                    "nights": 21,
                    "network": "NET-93",
                }
            )
            session.add(
                ArrivalRow(
                    id=arrival.id,
                    operation_id=op.id or 0,
                    data=arrival.model_dump(mode="json", by_alias=True),
                )
            )
        session.commit()
        first = SHELTER_IDS[0]
    tokens = {}
    for handle, role, shelters in (
        ("demo-coordinator", "coordinator", []),
        ("demo-manager", "shelter_manager", [first]),
        ("demo-analyst", "analyst", []),
    ):
        tokens[handle] = add_user(engine, handle, role, shelters)[1]
        set_password(engine, handle, DEMO_PASSWORDS[handle])
    log.info("demo network seeded: %d shelters", len(NETWORK))
    return tokens
