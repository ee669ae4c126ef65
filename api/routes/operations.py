"""Operations (a dismantling, a date, shared danger locations) and their arrivals."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import ValidationError
from sqlmodel import Session, col, func, select

from api import audit
from api.auth import Principal
from api.config import Settings
from api.deps import Coordinator, RowId, SessionDep, SettingsDep
from api.errors import ApiError, not_found, split_problems
from api.live import compromised_exclusions
from api.schemas import ArrivalBatchIn, ArrivalIn, ArrivalOut, OperationIn, OperationOut
from api.tables import ArrivalRow, Operation, ShelterRow
from api.views import arrival_out
from placement.geography import load_geography
from placement.loading import validation_problems
from placement.models import Scenario

router = APIRouter(prefix="/operations", tags=["operations"])


def operation_out(session: Session, op: Operation) -> OperationOut:
    """An operation with the counts of its arrivals."""
    counts = dict(
        session.exec(
            select(ArrivalRow.status, func.count())
            .where(ArrivalRow.operation_id == op.id)
            .group_by(col(ArrivalRow.status))
        ).all()
    )
    assert op.id is not None
    return OperationOut(
        id=op.id,
        reference=op.reference,
        date=op.date,
        danger=op.danger,  # type: ignore[arg-type]
        created_at=op.created_at,
        arrivals_waiting=counts.get("waiting", 0),
        arrivals_placed=counts.get("placed", 0),
    )


def get_operation(session: Session, operation_id: int) -> Operation:
    """The operation, or 404."""
    op = session.get(Operation, operation_id)
    if op is None:
        raise not_found("operation")
    return op


@router.post("", status_code=status.HTTP_201_CREATED)
def create_operation(
    body: OperationIn, who: Coordinator, session: SessionDep, settings: SettingsDep
) -> OperationOut:
    """Record an operation (coordinators)."""
    geo = load_geography(settings.geography)
    bad = [
        (f"danger[{i}].department", f"unknown code {d.department!r} for {geo.code}")
        for i, d in enumerate(body.danger)
        if d.department is not None and d.department not in geo
    ]
    if bad:
        raise ApiError(422, "invalid operation", bad)
    if session.exec(select(Operation).where(Operation.reference == body.reference)).first():
        raise ApiError(409, "operation exists", [("reference", f"{body.reference!r} is taken")])
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
    return operation_out(session, op)


@router.get("")
def list_operations(who: Coordinator, session: SessionDep) -> list[OperationOut]:
    """Every operation (coordinators)."""
    ops = session.exec(select(Operation).order_by(col(Operation.id))).all()
    audit.record(session, who, "read", "operation", [op.id for op in ops if op.id])
    session.commit()
    return [operation_out(session, op) for op in ops]


@router.get("/{operation_id}")
def read_operation(operation_id: RowId, who: Coordinator, session: SessionDep) -> OperationOut:
    """One operation, with its danger locations (coordinators)."""
    op = get_operation(session, operation_id)
    audit.record(session, who, "read", "operation", [operation_id])
    session.commit()
    return operation_out(session, op)


def _add_arrivals(
    session: Session,
    settings: Settings,
    op: Operation,
    who: Principal,
    items: list[ArrivalIn],
    prefix: str,
) -> list[ArrivalOut]:
    docs: list[dict[str, Any]] = []
    for item in items:
        doc = item.model_dump(mode="json", by_alias=True)
        if doc.get("danger") is None:
            doc["danger"] = op.danger
        # shelters the network found stay excluded for its people
        found = compromised_exclusions(session, doc.get("network"))
        if found:
            have = list(doc.get("exclude_shelters") or [])
            doc["exclude_shelters"] = have + [s for s in found if s not in have]
        docs.append(doc)
    ids = [item.id for item in items]
    taken = set(session.exec(select(ArrivalRow.id).where(col(ArrivalRow.id).in_(ids))).all())
    if taken:
        raise ApiError(
            409,
            "arrival id already used",
            [
                (f"{prefix}[{i}].id" if prefix else "id", f"{a!r} is taken")
                for i, a in enumerate(ids)
                if a in taken
            ],
        )
    existing = session.exec(select(ArrivalRow).where(ArrivalRow.operation_id == op.id)).all()
    # the shelters, without their places: exclude_shelters must name known ones
    shelters = [
        {**row.data, "capacity": 0, "availability": None}
        for row in session.exec(select(ShelterRow)).all()
    ]
    try:
        # The engine checks the arrivals together: ids, keep-apart, households, dates, codes.
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
        problems = validation_problems(e)
        if prefix == "":
            problems = [p.removeprefix("arrivals[0].") for p in problems]
        raise ApiError(422, "invalid arrival", split_problems(problems)) from None
    rows = []
    for arrival in scenario.arrivals[: len(docs)]:
        row = ArrivalRow(
            id=arrival.id,
            operation_id=op.id or 0,
            data=arrival.model_dump(mode="json", by_alias=True),
            created_by=who.id,
        )
        session.add(row)
        rows.append(row)
    audit.record(session, who, "write", "arrival", ids, detail=f"operation {op.id}")
    session.commit()
    for row in rows:
        session.refresh(row)
    return [arrival_out(r) for r in rows]


@router.post("/{operation_id}/arrivals", status_code=status.HTTP_201_CREATED)
def add_arrival(
    operation_id: RowId,
    body: ArrivalIn,
    who: Coordinator,
    session: SessionDep,
    settings: SettingsDep,
) -> ArrivalOut:
    """Add one arrival; its ``danger`` defaults to the operation's."""
    op = get_operation(session, operation_id)
    return _add_arrivals(session, settings, op, who, [body], "")[0]


@router.post("/{operation_id}/arrivals/batch", status_code=status.HTTP_201_CREATED)
def add_arrivals(
    operation_id: RowId,
    body: ArrivalBatchIn,
    who: Coordinator,
    session: SessionDep,
    settings: SettingsDep,
) -> list[ArrivalOut]:
    """Add several arrivals, all or none."""
    if len(body.arrivals) > settings.max_batch_arrivals:
        raise ApiError(
            413,
            "too many arrivals in one batch",
            [("arrivals", f"{len(body.arrivals)} > the limit of {settings.max_batch_arrivals}")],
        )
    op = get_operation(session, operation_id)
    return _add_arrivals(session, settings, op, who, body.arrivals, "arrivals")


@router.get("/{operation_id}/arrivals")
def operation_arrivals(
    operation_id: RowId, who: Coordinator, session: SessionDep
) -> list[ArrivalOut]:
    """The arrivals of an operation (coordinators)."""
    get_operation(session, operation_id)
    rows = session.exec(
        select(ArrivalRow)
        .where(ArrivalRow.operation_id == operation_id)
        .order_by(col(ArrivalRow.created_at), col(ArrivalRow.id))
    ).all()
    audit.record(session, who, "read", "arrival", [r.id for r in rows])
    session.commit()
    return [arrival_out(r) for r in rows]
