"""Domain errors: why a service (or a ``store`` lookup) refuses, with the fields concerned.
No HTTP here.

``api.errors`` maps each kind to one status (``NotFound`` 404, ``Conflict`` 409, ``Invalid``
422, ``TooLarge`` 413, ``TooMany`` 429 with ``Retry-After``) and the JSON body
``{"detail": ..., "errors": [{"field", "problem"}]}``;
the scheduler catches ``Conflict`` when a proposal was answered before its deadline job.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from placement.text import Text

#: a field and its problem: a string, or a catalogue message rendered in the reader's language
FieldProblem = tuple[str, str | Text]


class ServiceError(Exception):
    """A refusal: a message and the (field, problem) pairs it concerns."""

    def __init__(self, detail: str, errors: Iterable[FieldProblem] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)


class NotFound(ServiceError):
    """The object does not exist, or is not the caller's to see (the same answer)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"{kind} not found")
        self.kind = kind


class Conflict(ServiceError):
    """The state does not allow it (already answered, changed since the plan, no room...)."""


class Invalid(ServiceError):
    """The request's values are wrong (the problems name the fields)."""


class TooLarge(ServiceError):
    """More than a configured limit (arrivals per batch or solve, shelters per solve)."""


class TooMany(ServiceError):
    """Over a limit that time lifts (solver slots, solve requests a minute): retry later."""

    def __init__(
        self, detail: str, retry_after: float, errors: Iterable[FieldProblem] = ()
    ) -> None:
        super().__init__(detail, errors)
        self.retry_after = max(1, math.ceil(retry_after))


def split_problems(problems: Sequence[str], prefix: str = "") -> list[tuple[str, str]]:
    """``"arrivals[3].gender: bad"`` -> ``("arrivals[3].gender", "bad")``."""
    out = []
    for p in problems:
        field, sep, problem = p.partition(": ")
        if not sep:
            field, problem = "", p
        out.append((prefix + field if field else prefix.rstrip("."), problem))
    return out
