"""A compromised shelter: the network found it. Everyone placed there is re-planned elsewhere
(``api.services.proposals.decline_and_replan``), and the shelter is excluded by scope:

- ``everyone`` (the default, since a found address is a life-safety matter): the shelter is
  set inactive, so no plan, re-plan or hold uses it and a commit into it is refused, until a
  coordinator sets it active again (``PATCH /shelters/{id}``);
- ``operation``: the operation's arrivals, present (here) and future (at intake);
- ``network``: the network's arrivals, present and future.

A network given with any scope is excluded for that network as well (it stays so when the
shelter is set active again). ``store.compromised_exclusions`` gives the exclusions at intake.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlmodel import Session, col, select

from api import audit
from api.auth import Principal
from api.config import Settings
from api.db import write
from api.domain_errors import Invalid, NotFound
from api.services.proposals import decline_and_replan
from api.services.replanning import Outcome, Tx
from api.tables import ArrivalRow, CompromisedShelter, Operation, PlacementRow, ShelterRow, utcnow
from placement.text import message

SCOPES = ("everyone", "operation", "network")


@dataclass(frozen=True)
class Scope:
    """Who must never be placed in the shelter: everyone, one operation's or one network's
    arrivals (``network`` is excluded too whatever the scope)."""

    scope: str = "everyone"
    network: str | None = None
    operation_id: int | None = None


INVALID_SCOPE = message("invalid scope")


def _check(session: Session, scope: Scope) -> None:
    """``Invalid`` naming the field when the scope lacks what it needs."""
    if scope.scope not in SCOPES:
        raise Invalid(
            INVALID_SCOPE, [("scope", message("one of {choices}", choices=", ".join(SCOPES)))]
        )
    if scope.scope == "network" and scope.network is None:
        raise Invalid(INVALID_SCOPE, [("network", message("required for the network scope"))])
    if scope.scope == "operation" and scope.operation_id is None:
        raise Invalid(
            INVALID_SCOPE, [("operation_id", message("required for the operation scope"))]
        )
    if scope.operation_id is not None and session.get(Operation, scope.operation_id) is None:
        raise NotFound("operation")


def _exclude_for(tx: Tx, shelter_id: str, scope: Scope) -> None:
    """Every arrival of the network or operation gets the shelter in its ``exclude_shelters``."""
    for row in tx.session.exec(select(ArrivalRow)).all():
        arrival = row.arrival
        ours = (scope.network is not None and arrival.network == scope.network) or (
            scope.scope == "operation" and row.operation_id == scope.operation_id
        )
        if ours and shelter_id not in arrival.exclude_shelters:
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


def _deactivate(tx: Tx, shelter_id: str) -> None:
    row = tx.shelters[shelter_id]
    row.active = False
    row.version += 1
    tx.session.add(row)


def mark_compromised(
    session: Session, settings: Settings, shelter_id: str, scope: Scope, who: Principal
) -> list[Outcome]:
    """Record the shelter as compromised for ``scope`` and re-plan everyone placed there.

    ``NotFound`` for an unknown shelter, ``Invalid`` for a scope without its network or
    operation.
    """

    def work(session: Session) -> list[Outcome]:
        tx = Tx.lock(session, settings, who, utcnow())
        if shelter_id not in tx.shelters:
            raise NotFound("shelter")
        _check(session, scope)
        session.add(
            CompromisedShelter(
                shelter_id=shelter_id,
                scope=scope.scope,
                network=scope.network,
                operation_id=scope.operation_id,
                at=tx.now,
                by=who.id,
            )
        )
        if scope.scope == "everyone":
            _deactivate(tx, shelter_id)
        _exclude_for(tx, shelter_id, scope)
        what = f"compromised scope={scope.scope} network={scope.network or ''}"
        what += f" operation={scope.operation_id or ''}"
        audit.record(session, who, "write", "shelter", [shelter_id], what)
        outcomes = _replan_everyone_there(tx, shelter_id)
        return outcomes

    return write(session, work)


def compromised_list(session: Session, who: Principal) -> list[tuple[CompromisedShelter, bool]]:
    """Every shelter marked compromised, newest first, with whether the shelter is active."""
    rows = session.exec(
        select(CompromisedShelter, ShelterRow)
        .join(ShelterRow, col(ShelterRow.id) == col(CompromisedShelter.shelter_id))
        .order_by(col(CompromisedShelter.id).desc())
    ).all()
    audit.record_reads(session, who, "shelter", sorted({c.shelter_id for c, _ in rows}))
    return [(c, s.active) for c, s in rows]


def compromises_of(
    session: Session, shelter_ids: Collection[str]
) -> dict[str, list[tuple[CompromisedShelter, bool]]]:
    """The compromise records of these shelters, newest first, with whether each shelter is
    active (one query); shelters never marked are absent."""
    if not shelter_ids:
        return {}
    rows = session.exec(
        select(CompromisedShelter, ShelterRow.active)
        .join(ShelterRow, col(ShelterRow.id) == col(CompromisedShelter.shelter_id))
        .where(col(CompromisedShelter.shelter_id).in_(list(shelter_ids)))
        .order_by(col(CompromisedShelter.id).desc())
    ).all()
    out: dict[str, list[tuple[CompromisedShelter, bool]]] = {}
    for c, active in rows:
        out.setdefault(c.shelter_id, []).append((c, active))
    return out
