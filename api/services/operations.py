"""Operations (a dismantling, a date, shared danger locations) and the intake of their
arrivals: the engine checks new arrivals together with the operation's others (ids,
keep-apart, households, dates, codes); shelters compromised for a network stay excluded for
its people. Every read and write of an operation or an arrival is audited.
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlmodel import Session, col, func, select

from api import audit, store
from api.auth import Principal
from api.config import Settings
from api.domain_errors import Conflict, Invalid, TooLarge, already_taken, over_limit
from api.schemas import ArrivalIn, OperationIn
from api.store import Page
from api.tables import ArrivalRow, Operation, ShelterRow
from placement.geography import load_geography
from placement.models import Arrival, Scenario
from placement.problems import validation_problems as problem_messages
from placement.text import message


def arrival_counts(session: Session, operation_id: int | None) -> dict[str, int]:
    """The operation's arrivals by status."""
    return counts_by_operation(session, [operation_id or 0]).get(operation_id or 0, {})


def counts_by_operation(session: Session, ids: list[int]) -> dict[int, dict[str, int]]:
    """The arrivals of each of these operations by status, in one query."""
    out: dict[int, dict[str, int]] = {}
    for op_id, status, n in session.exec(
        select(ArrivalRow.operation_id, ArrivalRow.status, func.count())
        .where(col(ArrivalRow.operation_id).in_(ids))
        .group_by(col(ArrivalRow.operation_id), col(ArrivalRow.status))
    ).all():
        out.setdefault(op_id, {})[status] = n
    return out


def create_operation(
    session: Session, settings: Settings, body: OperationIn, who: Principal
) -> Operation:
    """Record an operation; ``Invalid`` for unknown département codes, ``Conflict`` for a
    reference already used."""
    geo = load_geography(settings.geography)
    bad = [
        (f"danger[{i}].department", f"unknown code {d.department!r} for {geo.code}")
        for i, d in enumerate(body.danger)
        if d.department is not None and d.department not in geo
    ]
    if bad:
        raise Invalid(message("invalid operation"), bad)
    if session.exec(select(Operation).where(Operation.reference == body.reference)).first():
        raise Conflict(message("operation exists"), [("reference", already_taken(body.reference))])
    op = Operation(
        reference=body.reference,
        date=body.date,
        danger=[d.model_dump(mode="json", exclude_none=True) for d in body.danger],
        created_by=who.id,
    )
    session.add(op)
    session.flush()
    audit.record(session, who, "write", "operation", [op.id or 0])
    session.commit()
    session.refresh(op)
    return op


def operations(session: Session, who: Principal, page: Page) -> list[Operation]:
    """Operations, oldest first, one page (the read is audited)."""
    ops = list(session.exec(page.apply(select(Operation).order_by(col(Operation.id)))).all())
    audit.record_reads(session, who, "operation", [op.id for op in ops if op.id])
    return ops


def read_operation(session: Session, operation_id: int, who: Principal) -> Operation:
    """One operation, with its danger locations (the read is audited)."""
    op = store.get_operation(session, operation_id)
    audit.record_reads(session, who, "operation", [operation_id])
    return op


def _documents(session: Session, op: Operation, items: list[ArrivalIn]) -> list[dict[str, object]]:
    """The new arrivals' documents: the operation's danger by default, compromised shelters
    of their network excluded."""
    docs = []
    for item in items:
        doc = item.model_dump(mode="json", by_alias=True)
        if item.danger is None:
            doc["danger"] = op.danger
        # shelters the network found stay excluded for its people
        found = store.compromised_exclusions(session, item.network, op.id)
        if found:
            have = list(item.exclude_shelters)
            doc["exclude_shelters"] = have + [s for s in found if s not in have]
        docs.append(doc)
    return docs


def _check_ids_free(session: Session, ids: list[str], prefix: str) -> None:
    taken = set(session.exec(select(ArrivalRow.id).where(col(ArrivalRow.id).in_(ids))).all())
    if taken:
        raise Conflict(
            message("arrival id already used"),
            [
                (f"{prefix}[{i}].id" if prefix else "id", already_taken(a))
                for i, a in enumerate(ids)
                if a in taken
            ],
        )


def _checked(
    session: Session, settings: Settings, op: Operation, docs: list[dict[str, object]], prefix: str
) -> list[Arrival]:
    """The new arrivals as the engine checks them, together with the operation's others."""
    existing = session.exec(select(ArrivalRow).where(ArrivalRow.operation_id == op.id)).all()
    # the shelters, without their places: exclude_shelters must name known ones
    shelters = [
        {**row.data, "capacity": 0, "availability": None}
        for row in session.exec(select(ShelterRow)).all()
    ]
    try:
        scenario = Scenario.model_validate(
            {
                "name": op.reference,
                "start": op.date,
                "horizon_days": settings.max_horizon_days,
                "geography": settings.geography,
                "shelters": shelters,
                "arrivals": docs + [r.data for r in existing],
            }
        )
    except ValidationError as e:
        problems = problem_messages(e)
        if prefix == "":
            problems = [(f.removeprefix("arrivals[0]").removeprefix("."), p) for f, p in problems]
        raise Invalid(message("invalid arrival"), problems) from None
    return list(scenario.arrivals[: len(docs)])


def _add(
    session: Session,
    settings: Settings,
    op: Operation,
    items: list[ArrivalIn],
    who: Principal,
    prefix: str,
) -> list[ArrivalRow]:
    docs = _documents(session, op, items)
    ids = [item.id for item in items]
    _check_ids_free(session, ids, prefix)
    rows = []
    for arrival in _checked(session, settings, op, docs, prefix):
        row = ArrivalRow(id=arrival.id, operation_id=op.id or 0, data={}, created_by=who.id)
        row.set_arrival(arrival)
        session.add(row)
        rows.append(row)
    audit.record(session, who, "write", "arrival", ids, detail=f"operation {op.id}")
    session.commit()
    for row in rows:
        session.refresh(row)
    return rows


def add_arrival(
    session: Session, settings: Settings, operation_id: int, item: ArrivalIn, who: Principal
) -> ArrivalRow:
    """Add one arrival; its ``danger`` defaults to the operation's. Problems name the bare
    field (``gender``)."""
    op = store.get_operation(session, operation_id)
    return _add(session, settings, op, [item], who, "")[0]


def add_batch(
    session: Session,
    settings: Settings,
    operation_id: int,
    items: list[ArrivalIn],
    who: Principal,
) -> list[ArrivalRow]:
    """Add several arrivals, all or none (``TooLarge`` beyond ``max_batch_arrivals``).
    Problems name the item (``arrivals[3].gender``)."""
    if len(items) > settings.max_batch_arrivals:
        raise TooLarge(
            message("too many arrivals in one batch"),
            [("arrivals", over_limit(len(items), settings.max_batch_arrivals))],
        )
    op = store.get_operation(session, operation_id)
    return _add(session, settings, op, items, who, "arrivals")


def operation_arrivals(session: Session, operation_id: int, who: Principal) -> list[ArrivalRow]:
    """The arrivals of an operation (the read is audited)."""
    store.get_operation(session, operation_id)
    rows = list(
        session.exec(
            select(ArrivalRow)
            .where(ArrivalRow.operation_id == operation_id)
            .order_by(col(ArrivalRow.created_at), col(ArrivalRow.id))
        ).all()
    )
    audit.record_reads(session, who, "arrival", [r.id for r in rows])
    return rows
