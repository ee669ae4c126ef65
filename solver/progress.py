"""What a solve reports as it improves, and the first plan it starts from.

Importable without OR-Tools (numpy only): a parent process can build the first plan and show
it before OR-Tools is even loaded (see :func:`solver.process.solve`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from placement.context import Context, persons_by_priority
from placement.i18n import N_
from placement.models import PRIORITIES
from placement.text import Param, Text, message, number
from solver.allocation import Allocation, to_assignment
from solver.packing import first_plan
from solver.units import Units, build_units

Bound = dict[int, int]  # priority p -> upper bound on persons placed at priority >= p

# The stages a solve reports plans from. A stage is kept as its English name (the command
# line's progress lines, the service's stored progress); ``stage_text`` gives it as a message
# for a reader, from the names and formats written here, once.
FIRST_PLAN_STAGE = N_("first plan (packing heuristic)")
MAKE_ROOM_STAGE = N_("plan after moves that make room")
CHEAPER_STAGE = N_("plan after moves to cheaper places")
#: the plan after CP-SAT on neighbourhoods of the unplaced (:mod:`solver.lns`)
NEIGHBOURHOODS_STAGE = N_("plan after CP-SAT on neighbourhoods of the unplaced")
COST_STAGE = N_("secondary_cost")
#: a CP-SAT stage's improving plan: ``priority_5 improving (objective 12, gap 3)``
IMPROVING = N_("{stage} improving (objective {objective}, gap {gap})")
#: the names of the stages (a stage's English name is its msgid: English reads as before)
_NAMED = {FIRST_PLAN_STAGE, MAKE_ROOM_STAGE, NEIGHBOURHOODS_STAGE, CHEAPER_STAGE, COST_STAGE}
_LEVEL = re.compile(r"priority_(\d)")
_IMPROVING = re.compile(r"(\S+) improving \(objective (-?\d+), gap (-?\d+)\)")


# The notes a solve reports (a stage or a bound, no plan): each is kept as its English text,
# written by ``note`` from one of these messages and read back by ``stage_text`` with the
# same message (each parameter by its pattern in ``_NOTE_PARAMS``).
#: the flow relaxation's bound: ``bounds`` is ``6/10/15/22/30``
FLOW_NOTE = N_("upper bound (flow relaxation), persons at priority ≥5/≥4/≥3/≥2/≥1: {bounds}")
#: the same when the time limit left no time to build the flow relaxation
REQUESTED_NOTE = N_(
    "upper bound (the persons requested: no time for the flow relaxation), persons at "
    "priority ≥5/≥4/≥3/≥2/≥1: {bounds}"
)
#: how a CP-SAT stage was decided: ``priority_5: 6 (bound 6), <Decided>, 0.12 s``
STAGE_NOTE = N_("{stage}: {value} (bound {bound}), {decided}, {seconds} s")
UNBOUNDED_STAGE_NOTE = N_("{stage}: {value}, {decided}, {seconds} s")
#: too many pairs to build a model in the time: the packing heuristic's plan only
NO_MODEL_NOTE = N_("{pairs} admissible pairs: no LP or CP-SAT in this time limit")
_NOTE_PARAMS = {
    "bounds": r"-?\d+(?:/-?\d+)*",
    "stage": r"priority_\d|secondary_cost",
    "value": r"-?\d+",
    "bound": r"-?\d+",
    "decided": r".+",
    "seconds": r"\d+\.\d+",
    "pairs": r"\d+",
}


def _note_pattern(msgid: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", msgid)  # text, name, text, name, ..., text
    return re.compile(
        "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>{_NOTE_PARAMS[part]})"
            for i, part in enumerate(parts)
        )
    )


_NOTES = [
    (msgid, _note_pattern(msgid))
    for msgid in (FLOW_NOTE, REQUESTED_NOTE, STAGE_NOTE, UNBOUNDED_STAGE_NOTE, NO_MODEL_NOTE)
]


def note(msgid: str, **params: object) -> str:
    """A note's English text (one of the notes' messages above, its parameters written
    as the pattern ``stage_text`` reads them back expects)."""
    return msgid.format(**params)


def _note_param(name: str, value: str) -> Param:
    """A parameter read from a note, as a message parameter."""
    if name == "stage":
        return stage_text(value)
    if name == "decided":  # a ``solver.cpsat.Decided``: its English text is its msgid
        return message(value)
    if name == "seconds":
        return number(float(value), "0.00")
    if name == "bounds":
        return value  # figures joined by "/", without grouping in either language
    return number(int(value), "0")


def improving_stage(stage: str, objective: float, gap: float) -> str:
    """The name of a CP-SAT stage's improving plan (``IMPROVING``)."""
    return IMPROVING.format(stage=stage, objective=f"{objective:.0f}", gap=f"{gap:.0f}")


def stage_text(stage: str) -> Text | str:
    """A stage's name or a note as a message for a reader (``priority_5`` -> "priorité 5" in
    French, the same name in English); a name it does not know, as it is."""
    if stage in _NAMED:
        return message(stage)
    level = _LEVEL.fullmatch(stage)
    if level:
        return message("priority_{priority}", priority=level.group(1))
    improving = _IMPROVING.fullmatch(stage)
    if improving:
        name, objective, gap = improving.groups()
        return message(IMPROVING, stage=stage_text(name), objective=objective, gap=gap)
    for msgid, pattern in _NOTES:
        found = pattern.fullmatch(stage)
        if found:
            params = {k: _note_param(k, v) for k, v in found.groupdict().items()}
            return message(msgid, **params)
    return stage


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a solve: a better plan, or a note (a stage or a bound, no plan).

    Built once, where the solve runs (:meth:`of`); the command line prints it and the
    service stores it, neither counts persons again.
    """

    stage: str
    #: best plan so far, arrival id -> shelter id; empty for a note
    assignment: dict[str, str]
    #: the plan is proven optimal
    proven: bool
    #: bound on persons placed at priority >= p, once known
    bound: Bound | None
    #: persons placed per level, keys "5" down to "1" (placement.context.persons_by_priority)
    placed_by_priority: dict[str, int]

    @classmethod
    def of(
        cls,
        ctx: Context,
        stage: str,
        assignment: dict[str, str],
        proven: bool = False,
        bound: Bound | None = None,
    ) -> ProgressEvent:
        """The event for ``assignment`` in ``ctx``: persons counted here, once."""
        return cls(stage, assignment, proven, bound, persons_by_priority(ctx, list(assignment)))

    @property
    def is_plan(self) -> bool:
        """False for a note: the last plan reported stands."""
        return bool(self.assignment)

    @property
    def proven_levels(self) -> list[int]:
        """The levels this plan proves optimal against the bound, from 5 down: a level
        counts only when every level above it does (the stages' LP proofs are in the
        final plan's ``proven_levels``)."""
        proven: list[int] = []
        if self.bound is None or not self.is_plan:
            return proven
        placed = self.placed_at_or_above
        for p in PRIORITIES:
            if placed[p] < self.bound.get(p, placed[p] + 1):
                break
            proven.append(p)
        return proven

    @property
    def placed_at_or_above(self) -> dict[int, int]:
        """Persons placed at priority >= p, for p from 5 down to 1 (what the bound bounds)."""
        cumulative: dict[int, int] = {}
        total = 0
        for p in PRIORITIES:
            total += self.placed_by_priority[str(p)]
            cumulative[p] = total
        return cumulative


#: receives each event of a solve
Progress = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class Start:
    """Where a CP-SAT solve starts: the context, its units and the first plan (packing).

    Built by the engine itself, or by a parent process before OR-Tools is loaded and handed
    to the forked child (:func:`solver.process.solve`); either way by :meth:`build`, which
    reports the first plan.
    """

    ctx: Context
    units: Units
    seed: Allocation

    @classmethod
    def build(cls, ctx: Context, progress: Progress | None = None) -> Start:
        """Units and the first plan of ``ctx``; reports the first plan to ``progress``."""
        units = build_units(ctx)
        seed = first_plan(ctx, units)
        if progress is not None:
            progress(ProgressEvent.of(ctx, FIRST_PLAN_STAGE, to_assignment(units, seed)))
        return cls(ctx, units, seed)
