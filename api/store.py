"""Data access: the queries that more than one service or router runs, in one place.

Locks come first in every writer that touches places (``lock_all_shelters`` or
``lock_shelters``: PostgreSQL ``SELECT ... FOR UPDATE`` in id order; SQLite already holds
the write lock, see ``api.db``). Lookups that hide what the caller may not see raise
``NotFound`` alike for a missing object and a forbidden one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import and_, case, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from api.auth import Principal
from api.domain_errors import NotFound
from api.tables import (
    SHELTER_DOCUMENTS,
    ArrivalRow,
    CompromisedShelter,
    Hold,
    Operation,
    PlacementRow,
    PlanJob,
    ShelterRow,
    User,
    aware,
)
from placement.models import Arrival, Shelter

Q = TypeVar("Q", bound=Any)
#: the longest page a list answers, and the page when none is asked for
MAX_PAGE = 1000
DEFAULT_PAGE = 200


@dataclass(frozen=True)
class Page:
    """Which slice of a list to answer: ``limit`` rows after the first ``offset``."""

    limit: int = DEFAULT_PAGE
    offset: int = 0

    def apply(self, query: Q) -> Q:
        """The (ordered) query, cut to this page."""
        return query.limit(self.limit).offset(self.offset)


#: the page a list answers when none is asked for
FIRST_PAGE = Page()


@dataclass(frozen=True)
class Stay:
    """A (committed, proposed or held) placement: who, where, which nights."""

    arrival: Arrival
    shelter_id: str
    first_night: date
    last_night: date


# --- shelters ---------------------------------------------------------------------------
def lock_all_shelters(session: Session) -> dict[str, ShelterRow]:
    """Lock every shelter row (PostgreSQL ``FOR UPDATE`` in id order) and return them."""
    rows = session.exec(select(ShelterRow).order_by(col(ShelterRow.id)).with_for_update()).all()
    return {r.id: r for r in rows}


def lock_shelters(session: Session, ids: Collection[str]) -> dict[str, ShelterRow]:
    """Lock these shelter rows (PostgreSQL ``FOR UPDATE``, in id order) and return them."""
    rows = session.exec(
        select(ShelterRow)
        .where(col(ShelterRow.id).in_(sorted(ids)))
        .order_by(col(ShelterRow.id))
        .with_for_update()
    ).all()
    return {r.id: r for r in rows}


def read_shelters(session: Session, query: SelectOfScalar[ShelterRow]) -> list[ShelterRow]:
    """The shelter rows of ``query`` (a ``select(ShelterRow)``) for reading, their documents
    parsed: the ``data`` column is read only for the documents this process has not parsed
    at their version (``tables.SHELTER_DOCUMENTS``), in one more query."""
    document: Any = ShelterRow.data  # the column attribute (typed as its value by SQLModel)
    rows = list(session.exec(query.options(defer(document))).all())
    missing = [r.id for r in rows if (key := r.document_key) and not SHELTER_DOCUMENTS.get(key)]
    if missing:
        # each document under the version read with it (a row read above at an older version
        # then reads its column itself: ``ShelterRow.shelter``)
        columns = (ShelterRow.id, ShelterRow.version, ShelterRow.updated_at, ShelterRow.data)
        found = session.exec(select(*columns).where(col(ShelterRow.id).in_(missing))).all()
        for shelter_id, version, updated_at, data in found:
            key = (shelter_id, version, updated_at)
            SHELTER_DOCUMENTS.put(key, Shelter.model_validate(data))
    return rows


def shelters_version(session: Session, stale_before: datetime) -> tuple[Any, ...]:
    """What every view of the shelters is computed from, in one aggregate query over the
    shelter rows and the compromise records (``api.read_cache``): it changes with every
    committed change a shelter's view shows. Every change bumps a version (so the sum grows)
    except a confirmation of places, which moves ``capacity_updated_at`` forward; a shelter
    turning stale with time changes the count of stale ones; a compromise record added or
    removed changes their count or highest id (the handles of the users named in a view
    never change). Read it before the data it stands for."""
    stale = case((col(ShelterRow.capacity_updated_at) < stale_before, 1), else_=0)
    records = select(func.count()).select_from(CompromisedShelter).scalar_subquery()
    last_record = select(func.max(CompromisedShelter.id)).scalar_subquery()
    row = (
        session.connection()
        .execute(
            sa_select(
                func.count(),
                func.coalesce(func.sum(ShelterRow.version), 0),
                func.max(ShelterRow.updated_at),
                func.max(ShelterRow.capacity_updated_at),
                func.coalesce(func.sum(stale), 0),
                records,
                last_record,
            ).select_from(ShelterRow)
        )
        .one()
    )
    return tuple(row)


def compromise_version(version: tuple[Any, ...]) -> tuple[Any, ...]:
    """The part of a ``shelters_version`` that stands for the compromise records."""
    return version[-2:]


def active_shelter_versions(
    session: Session, only: Collection[str] | None = None
) -> list[tuple[str, int, datetime]]:
    """The id, version and last change of each active shelter (``only`` these when given),
    without the rows: what an entry kept per shelter is keyed by."""
    query = sa_select(
        col(ShelterRow.id), col(ShelterRow.version), col(ShelterRow.updated_at)
    ).where(col(ShelterRow.active))
    if only is not None:
        query = query.where(col(ShelterRow.id).in_(list(only)))
    return [(i, v, u) for i, v, u in session.connection().execute(query).all()]


def active_shelters(session: Session, only: Collection[str] | None = None) -> list[ShelterRow]:
    """Active shelters (``only`` these ids when given), in no particular order, for reading
    (``read_shelters``)."""
    query = select(ShelterRow).where(col(ShelterRow.active))
    if only is not None:
        query = query.where(col(ShelterRow.id).in_(list(only)))
    return read_shelters(session, query)


def visible_shelter(session: Session, shelter_id: str, who: Principal) -> ShelterRow:
    """The shelter if ``who`` may see it; ``NotFound`` alike for missing and forbidden."""
    row = session.get(ShelterRow, shelter_id)
    if row is None or (who.role == "shelter_manager" and not who.manages(shelter_id)):
        raise NotFound("shelter")
    return row


def compromised_exclusions(
    session: Session, network: str | None, operation_id: int | None
) -> list[str]:
    """Shelters compromised for ``network``, or for the operation (its scope)."""
    found = and_(
        col(CompromisedShelter.scope) == "operation",
        col(CompromisedShelter.operation_id) == operation_id,
    )
    if network is not None:
        found = or_(found, col(CompromisedShelter.network) == network)
    rows = session.exec(
        select(CompromisedShelter.shelter_id).where(found).order_by(col(CompromisedShelter.id))
    ).all()
    return list(dict.fromkeys(rows))


# --- placements -------------------------------------------------------------------------
def committed_stays(session: Session, shelter_ids: Collection[str]) -> list[Stay]:
    """Active placements in these shelters, as stays."""
    rows = session.exec(
        select(PlacementRow, ArrivalRow)
        .join(ArrivalRow, col(ArrivalRow.id) == col(PlacementRow.arrival_id))
        .where(col(PlacementRow.shelter_id).in_(list(shelter_ids)), col(PlacementRow.active))
    ).all()
    return [Stay(a.arrival, p.shelter_id, p.first_night, p.last_night) for p, a in rows]


def stays_between(session: Session, start: date, end: date) -> list[Stay]:
    """Active placements with a night in [start, end), as stays, in placement order."""
    rows = session.exec(
        select(PlacementRow, ArrivalRow)
        .join(ArrivalRow, col(ArrivalRow.id) == col(PlacementRow.arrival_id))
        .where(
            col(PlacementRow.active),
            col(PlacementRow.first_night) < end,
            col(PlacementRow.last_night) >= start,
        )
        .order_by(col(PlacementRow.id))
    ).all()
    return [Stay(a.arrival, p.shelter_id, p.first_night, p.last_night) for p, a in rows]


def visible_placement(session: Session, placement_id: int, who: Principal) -> PlacementRow:
    """The placement if ``who`` may see it (managers: into their shelters); else NotFound."""
    row = session.get(PlacementRow, placement_id)
    if row is None or (who.role == "shelter_manager" and not who.manages(row.shelter_id)):
        raise NotFound("placement")
    return row


def placements_with_arrivals(
    session: Session,
    *,
    shelter_ids: Collection[str] | None = None,
    active: bool = True,
    active_on: date | None = None,
    page: Page | None = None,
) -> list[tuple[PlacementRow, ArrivalRow]]:
    """Placements (``active`` or not) with their arrivals, in placement order."""
    query = (
        select(PlacementRow, ArrivalRow)
        .join(ArrivalRow, col(ArrivalRow.id) == col(PlacementRow.arrival_id))
        .where(PlacementRow.active == active)
    )
    if shelter_ids is not None:
        query = query.where(col(PlacementRow.shelter_id).in_(list(shelter_ids)))
    if active_on is not None:
        query = query.where(
            col(PlacementRow.first_night) <= active_on, col(PlacementRow.last_night) >= active_on
        )
    query = query.order_by(col(PlacementRow.id))
    if page is not None:
        query = page.apply(query)
    return [(p, a) for p, a in session.exec(query).all()]


def household_placements(session: Session, placement: PlacementRow) -> list[PlacementRow]:
    """The placement and the active ones of its household in the same shelter."""
    arrival = session.get(ArrivalRow, placement.arrival_id)
    household = arrival.arrival.household if arrival else None
    if arrival is None or household is None:
        return [placement]
    rows = session.exec(
        select(PlacementRow, ArrivalRow)
        .join(ArrivalRow, col(ArrivalRow.id) == col(PlacementRow.arrival_id))
        .where(
            col(PlacementRow.active),
            PlacementRow.shelter_id == placement.shelter_id,
            ArrivalRow.operation_id == arrival.operation_id,
        )
    ).all()
    return [p for p, a in rows if a.arrival.household == household or p.id == placement.id]


# --- arrivals and operations ------------------------------------------------------------
def get_operation(session: Session, operation_id: int) -> Operation:
    """The operation, or NotFound."""
    op = session.get(Operation, operation_id)
    if op is None:
        raise NotFound("operation")
    return op


def waiting_arrivals(session: Session, operation_id: int | None = None) -> list[ArrivalRow]:
    """Waiting arrivals (of one operation, or all), by id."""
    query = select(ArrivalRow).where(ArrivalRow.status == "waiting")
    if operation_id is not None:
        query = query.where(ArrivalRow.operation_id == operation_id)
    return list(session.exec(query.order_by(col(ArrivalRow.id))).all())


def waiting_household(session: Session, arrival: ArrivalRow) -> list[ArrivalRow]:
    """The arrival and the members of its household (same operation) that are waiting."""
    household = arrival.arrival.household
    if household is None:
        return [arrival]
    rows = session.exec(
        select(ArrivalRow).where(
            ArrivalRow.operation_id == arrival.operation_id, ArrivalRow.status == "waiting"
        )
    ).all()
    members = [r for r in rows if r.arrival.household == household]
    return members if any(m.id == arrival.id for m in members) else [arrival, *members]


def waitlisted(session: Session) -> list[ArrivalRow]:
    """Arrivals on the waiting list, longest waiting first."""
    return list(
        session.exec(
            select(ArrivalRow)
            .where(ArrivalRow.status == "waiting", col(ArrivalRow.waitlisted_at).is_not(None))
            .order_by(col(ArrivalRow.waitlisted_at), col(ArrivalRow.id))
        ).all()
    )


# --- holds, plans, users ----------------------------------------------------------------
def active_holds(
    session: Session,
    now: datetime,
    shelter_ids: Collection[str] | None = None,
    operation_id: int | None = None,
) -> list[Hold]:
    """Holds that still hold places at ``now`` (an expired one is ignored before its job ran)."""
    query = select(Hold).where(Hold.status == "active").order_by(col(Hold.id))
    if shelter_ids is not None:
        query = query.where(col(Hold.shelter_id).in_(list(shelter_ids)))
    if operation_id is not None:
        query = query.where(Hold.operation_id == operation_id)
    return [h for h in session.exec(query).all() if aware(h.expires_at) > now]


def get_plan_job(session: Session, plan_id: str) -> PlanJob:
    """The plan job, or NotFound."""
    job = session.get(PlanJob, plan_id)
    if job is None:
        raise NotFound("plan")
    return job


def plan_shelters(session: Session, job: PlanJob) -> list[ShelterRow]:
    """The shelters a plan job was solved with, as stored now (a job keeps their versions,
    not their documents): every one offered while it solves, those its plan places people
    in once done; by id."""
    ids = sorted(job.shelter_versions)
    query = select(ShelterRow).where(col(ShelterRow.id).in_(ids)).order_by(col(ShelterRow.id))
    return read_shelters(session, query) if ids else []


def plan_arrivals(session: Session, job: PlanJob) -> list[ArrivalRow]:
    """The arrivals a plan job was given, as stored now (those a purge removed are gone);
    by id."""
    ids = sorted(job.arrival_versions)
    query = select(ArrivalRow).where(col(ArrivalRow.id).in_(ids)).order_by(col(ArrivalRow.id))
    return list(session.exec(query).all()) if ids else []


def handles(session: Session, ids: Sequence[int | None] | set[int | None]) -> dict[int, str]:
    """User handles by id."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.exec(select(User.id, User.handle).where(col(User.id).in_(wanted))).all()
    return {i: h for i, h in rows if i is not None}
