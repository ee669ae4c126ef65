"""Domain errors: why a service (or a ``store`` lookup) refuses, with the fields concerned.
No HTTP here.

``api.errors`` maps each kind to one status (``NotFound`` 404, ``Conflict`` 409, ``Invalid``
422, ``TooLarge`` 413, ``TooMany`` 429 with ``Retry-After``) and the JSON body
``{"detail": ..., "errors": [{"field", "problem"}]}``;
the scheduler catches ``Conflict`` when a proposal was answered before its deadline job.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

from placement.i18n import N_
from placement.text import Text, message

#: a field and its problem: a catalogue message rendered in the reader's language (or a
#: string shown as it is: an identifier, a value)
FieldProblem = tuple[str, str | Text]
#: a field and its problem in one line of text (a refused command, a failed job's problems)
AT_FIELD = N_("{field}: {problem}")

#: what a service may not find, and the message saying so
Kind = Literal[
    "alert", "arrival", "hold", "operation", "placement", "plan", "shelter", "stress job"
]
NOT_FOUND_TEXTS: dict[Kind, str] = {
    "alert": N_("alert not found"),
    "arrival": N_("arrival not found"),
    "hold": N_("hold not found"),
    "operation": N_("operation not found"),
    "placement": N_("placement not found"),
    "plan": N_("plan not found"),
    "shelter": N_("shelter not found"),
    "stress job": N_("stress job not found"),
}
NOT_FOUND = N_("not found")


class ServiceError(Exception):
    """A refusal: a message and the (field, problem) pairs it concerns, each a catalogue
    message (``placement.text.message``) that ``api.errors`` renders in the reader's
    language (a plain string is shown as it is, in every language: only for identifiers
    and values, never for a sentence)."""

    def __init__(self, detail: Text | str, errors: Iterable[FieldProblem] = ()) -> None:
        super().__init__(str(detail))
        self.detail = detail
        self.errors = list(errors)


class NotFound(ServiceError):
    """The object does not exist, or is not the caller's to see (the same answer)."""

    def __init__(self, kind: Kind) -> None:
        super().__init__(message(NOT_FOUND_TEXTS[kind]))
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
        self, detail: Text | str, retry_after: float, errors: Iterable[FieldProblem] = ()
    ) -> None:
        super().__init__(detail, errors)
        self.retry_after = max(1, math.ceil(retry_after))


#: the states of the service's objects (arrivals, proposals, holds, plan jobs): the one table,
#: in a refusal and on the pages (``api/web/labels.py``). Their French agrees with the object
#: (a person, a proposal, a hold: ``placée``, ``acceptée``, ``expirée``; a plan: ``terminé``).
STATE_TEXTS: dict[str, str] = {
    "waiting": N_("waiting"),
    "placed": N_("placed"),
    "withdrawn": N_("withdrawn"),
    "missing": N_("missing"),
    "proposed": N_("proposed"),
    "accepted": N_("accepted"),
    "declined": N_("declined"),
    "active": N_("active"),
    "used": N_("used"),
    "expired": N_("expired"),
    "released": N_("released"),
    "queued": N_("queued"),
    "running": N_("running"),
    "cancelling": N_("cancelling"),
    "done": N_("done"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
}


def state(value: str) -> Text | str:
    """A state named in a refusal's sentence, in the reader's language (an unknown one as
    it is stored)."""
    return message(STATE_TEXTS[value]) if value in STATE_TEXTS else value


def already_taken(value: str) -> Text:
    """``'x' is taken``: an identifier someone else already uses."""
    return message("{value} is taken", value=repr(value))


def over_limit(count: int, limit: int) -> Text:
    """``120 > the limit of 100``: a count over a configured limit (written as typed)."""
    return message("{count} > the limit of {limit}", count=str(count), limit=str(limit))
