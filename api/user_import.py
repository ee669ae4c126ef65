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
from placement.i18n import N_
from placement.text import Text, listed, message, render

#: users per file: a national network has a few hundred
MAX_ROWS = 5000
#: longest a first token may live, days (as ``placement users add --days``)
MAX_DAYS = 3660
REQUIRED = ("handle", "role", "shelters")
OPTIONAL = ("days",)


#: one problem of the file, at its row (as a spreadsheet numbers it) and column
AT_ROW = N_("row {row}: {problem}")
AT_CELL = N_("row {row}, {column}: {problem}")
#: (row, message): sorted by row when the file is refused
Problem = tuple[int, Text]


def _at(row: int, column: str | None, problem: Text) -> Problem:
    if column is None:
        return row, message(AT_ROW, row=str(row), problem=problem)
    return row, message(AT_CELL, row=str(row), column=column, problem=problem)


class ImportRefused(ValueError):
    """The file was refused; ``problems`` lists each as ``row N, column: problem`` (messages,
    read in any language; ``str()`` is their English text)."""

    def __init__(self, problems: list[Problem]) -> None:
        ordered = [text for _row, text in sorted(problems, key=lambda p: p[0])]
        super().__init__("; ".join(render(p) for p in ordered))
        self.problems = ordered


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
    try:
        days = float(text)
    except ValueError:
        raise ValueError(message("a number of days expected, not '{text}'", text=text)) from None
    if not math.isfinite(days) or not 0.001 <= days <= MAX_DAYS:
        raise ValueError(message("between 0.001 and {most}", most=str(MAX_DAYS)))
    return days


def _header_problems(fields: Sequence[str] | None) -> list[Problem]:
    if not fields:
        empty = message("the file is empty (a header row handle,role,shelters is expected)")
        return [_at(1, None, empty)]
    names = [f.strip() for f in fields]
    missing = [c for c in REQUIRED if c not in names]
    unknown = [c for c in names if c not in (*REQUIRED, *OPTIONAL)]
    expected = listed((*REQUIRED, *OPTIONAL))
    return [_at(1, c, message("missing column")) for c in missing] + [
        _at(1, c, message("unknown column (expected {columns})", columns=expected)) for c in unknown
    ]


def read_rows(text: str, default_days: float | None) -> tuple[list[NewUser], list[Problem]]:
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
            many = message("more than {most} users in one file", most=str(MAX_ROWS))
            raise ImportRefused([_at(row, None, many)])
        cells = {k.strip(): (v or "").strip() for k, v in record.items() if k is not None}
        if None in record:
            problems.append(_at(row, None, message("more cells than columns")))
        try:
            days = _days(cells.get("days", ""), default_days)
        except ValueError as e:
            problems.append(_at(row, "days", e.args[0]))
            days = default_days
        shelters = tuple(s.strip() for s in cells["shelters"].split(";") if s.strip())
        if not cells["handle"]:
            problems.append(_at(row, "handle", message("empty")))
        elif len(cells["handle"]) > 64:
            problems.append(_at(row, "handle", message("longer than 64 characters")))
        users.append(NewUser(row, cells["handle"], cells["role"], shelters, days))
    if not users:
        raise ImportRefused([_at(2, None, message("no user in the file"))])
    return users, problems


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
                twice = message("'{handle}' is on row {first}", handle=u.handle, first=str(first))
                problems.append(_at(u.row, "handle", twice))
                continue
            first_row[u.handle] = u.row
            problems += [
                _at(u.row, _column(field), problem)
                for field, problem in user_problems(session, u.handle, u.role, u.shelters)
            ]
        if problems:
            raise ImportRefused(problems)
        created = [
            (u.handle, create_user(session, u.handle, u.role, u.shelters, u.days)[1]) for u in users
        ]
        session.commit()
    return created
