"""Many users at once, from a CSV file, in one transaction: all of them or none.

Columns (a header row names them, in any order): ``handle``, ``role``, ``shelters`` (a
manager's shelter ids, separated by ``;``; empty for other roles) and, optionally, ``days``
(when the first token expires; default: the caller's). Each row is checked by the same rules
as ``placement users add`` (``api.auth.user_problems``); any problem refuses the whole file,
every problem named by row (as a spreadsheet numbers it: the header is row 1) and column.

Why a file: ``placement users add`` costs a second or more per user, nearly all of it Python
starting and importing the service (the database work is a few milliseconds), so sixty
managers took minutes; one process and one transaction make it milliseconds per user.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.auth import create_user, user_problems

#: users per file: a national network has a few hundred
MAX_ROWS = 5000
#: longest a first token may live, days (as ``placement users add --days``)
MAX_DAYS = 3660
REQUIRED = ("handle", "role", "shelters")
OPTIONAL = ("days",)


class ImportRefused(ValueError):
    """The file was refused; ``problems`` lists each as ``row N, column: problem``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class NewUser:
    """One row of the file, read."""

    row: int
    handle: str
    role: str
    shelters: tuple[str, ...]
    days: float | None


def _days(text: str, default: float | None) -> float | None:
    if not text.strip():
        return default
    days = float(text)
    if not math.isfinite(days) or not 0.001 <= days <= MAX_DAYS:
        raise ValueError(f"between 0.001 and {MAX_DAYS}")
    return days


def _header_problems(fields: Sequence[str] | None) -> list[str]:
    if not fields:
        return ["row 1: the file is empty (a header row handle,role,shelters is expected)"]
    names = [f.strip() for f in fields]
    missing = [c for c in REQUIRED if c not in names]
    unknown = [c for c in names if c not in (*REQUIRED, *OPTIONAL)]
    return [f"row 1, {c}: missing column" for c in missing] + [
        f"row 1, {c}: unknown column (expected {', '.join((*REQUIRED, *OPTIONAL))})"
        for c in unknown
    ]


def read_rows(text: str, default_days: float | None) -> tuple[list[NewUser], list[str]]:
    """The file's users, and the problems of its malformed cells (row and column);
    ``ImportRefused`` for a file without its header or beyond ``MAX_ROWS``."""
    reader = csv.DictReader(io.StringIO(text))
    problems = _header_problems(reader.fieldnames)
    if problems:
        raise ImportRefused(problems)
    users: list[NewUser] = []
    for record in reader:
        row = reader.line_num
        if row > MAX_ROWS + 1:
            raise ImportRefused([f"row {row}: more than {MAX_ROWS} users in one file"])
        cells = {k.strip(): (v or "").strip() for k, v in record.items() if k is not None}
        if None in record:
            problems.append(f"row {row}: more cells than columns")
        try:
            days = _days(cells.get("days", ""), default_days)
        except ValueError as e:
            problems.append(f"row {row}, days: {e}")
            days = default_days
        shelters = tuple(s.strip() for s in cells["shelters"].split(";") if s.strip())
        if not cells["handle"]:
            problems.append(f"row {row}, handle: empty")
        elif len(cells["handle"]) > 64:
            problems.append(f"row {row}, handle: longer than 64 characters")
        users.append(NewUser(row, cells["handle"], cells["role"], shelters, days))
    if not users:
        raise ImportRefused(["row 2: no user in the file"])
    return users, problems


def _row_of(problem: str) -> int:
    return int(problem.split(",")[0].split(":")[0].removeprefix("row "))


def _column(field: str) -> str:
    return "shelters" if field == "shelter" else field


def import_users(engine: Engine, text: str, default_days: float | None) -> list[tuple[str, str]]:
    """Create every user of the CSV ``text`` in one transaction; each (handle, first token).

    ``ImportRefused`` (nothing written) naming every problem by row and column: a malformed
    cell, a handle twice in the file, or a user ``placement users add`` would refuse.
    """
    users, problems = read_rows(text, default_days)
    first_row: dict[str, int] = {}
    with Session(engine) as session:
        for u in users:
            if u.handle and u.handle in first_row:
                first = first_row[u.handle]
                problems.append(f"row {u.row}, handle: {u.handle!r} is on row {first}")
                continue
            first_row[u.handle] = u.row
            problems += [
                f"row {u.row}, {_column(field)}: {problem}"
                for field, problem in user_problems(session, u.handle, u.role, u.shelters)
            ]
        if problems:
            raise ImportRefused(sorted(problems, key=_row_of))
        created = [
            (u.handle, create_user(session, u.handle, u.role, u.shelters, u.days)[1]) for u in users
        ]
        session.commit()
    return created
