"""A compromised shelter: the network found it. Everyone placed there is re-planned elsewhere
(``api.services.proposals.decline_and_replan``), and the shelter is excluded for the
network's arrivals, present (here) and future (``store.compromised_exclusions`` at intake).
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api import audit
from api.auth import Principal
from api.config import Settings
from api.db import with_retry
from api.domain_errors import NotFound
from api.services.proposals import decline_and_replan
from api.services.replanning import Outcome, Tx
from api.tables import ArrivalRow, CompromisedShelter, PlacementRow, utcnow


def _exclude_for_network(tx: Tx, shelter_id: str, network: str) -> None:
    """Every arrival of ``network`` gets the shelter in its ``exclude_shelters``."""
    for row in tx.session.exec(select(ArrivalRow)).all():
        arrival = row.arrival
        if arrival.network == network and shelter_id not in arrival.exclude_shelters:
            excluded = (*arrival.exclude_shelters, shelter_id)
            row.set_arrival(arrival.model_copy(update={"exclude_shelters": excluded}))
            row.version += 1
            tx.session.add(row)


def _replan_everyone_there(tx: Tx, shelter_id: str) -> list[Outcome]:
    placed = tx.session.exec(
        select(PlacementRow)
        .where(PlacementRow.shelter_id == shelter_id, col(PlacementRow.active))
        .order_by(col(PlacementRow.id))
    ).all()
    outcomes = []
    for p in placed:
        tx.session.refresh(p)
        if not p.active:  # re-planned with its household already
            continue
        outcomes.append(
            decline_and_replan(tx, p, "compromised", "shelter compromised", only_proposed=False)
        )
    return outcomes


def mark_compromised(
    engine: Engine, settings: Settings, shelter_id: str, network: str | None, who: Principal
) -> list[Outcome]:
    """Record the shelter as compromised (for ``network``) and re-plan everyone placed there.

    ``NotFound`` for an unknown shelter.
    """

    def transaction() -> list[Outcome]:
        with Session(engine) as session:
            tx = Tx.lock(session, settings, who, utcnow())
            if shelter_id not in tx.shelters:
                raise NotFound("shelter")
            session.add(
                CompromisedShelter(shelter_id=shelter_id, network=network, at=tx.now, by=who.id)
            )
            if network is not None:
                _exclude_for_network(tx, shelter_id, network)
            audit.record(
                session, who, "write", "shelter", [shelter_id], f"compromised {network or ''}"
            )
            outcomes = _replan_everyone_there(tx, shelter_id)
            session.commit()
            return outcomes

    return with_retry(transaction)
