"""Capacity advice as one sample-average optimisation: the cheapest set of additions to the
network with which the draws meet a target, in one CP-SAT model over all the draws together.

Variables: ``y[c]`` (candidate addition *c* chosen or not) and, for every draw *d*, the columns
of its linear model (:class:`solver.linear.LinearModel`): copies of each unit in each
admissible shelter, a unit being a household or a group of identical persons (so a draw of
40 persons is a few dozen integers per shelter, not 40 booleans). Each draw's rows are its
plan rules' own rows (``add_rows`` in :mod:`placement.rules`), written against the network
*without* the additions (its new shelters with no place); the capacity rows then get the
places each chosen addition brings to their shelter: ``used <= places + sum_c k[c,s] y[c]``.
Columns and admissibility come from the network with every addition made (the most any set
allows). The target is over the draws: everyone (of a group) placed in at least a number of
draws (``z[d]`` per draw), or at most a number of persons unplaced in total. The objective
is the cost of the additions.

The model maximises who is placed where the engine places by priority levels first, so it is
a relaxation: a set the engine says meets the target meets it here. Its cheapest set is
checked by the engine (by the caller) and, if the engine disagrees, cut off (``cuts``) and
the model solved again: the first set the engine confirms is the cheapest, when each model
solve was proven optimal. With a time limit reached, the result is the best set found and
the model's bound on the cost (no set costs less).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from ortools.sat.python import cp_model

from placement.context import Context
from placement.models import Arrival, Scenario
from solver.linear import INF, LinearModel
from solver.units import build_units

#: costs are integers in CP-SAT: hundredths of the planner's unit
COST_SCALE = 100
#: the most integer variables one model may have (draws x columns): beyond, it is refused
#: rather than left to exhaust memory (about 1 KB per variable in CP-SAT's presolve)
MAX_VARIABLES = 2_000_000

#: CP-SAT's linearization level: 2 keeps the LP relaxation of the rows in the search (as the
#: engine measured for its placement models, solver/options.py)
LINEARIZATION = 2

SaaStatus = Literal["optimal", "feasible", "infeasible", "unknown"]


@dataclass(frozen=True)
class Addition:
    """One candidate: its cost and the places it adds, every night, per shelter position
    (in the scenario with every addition made)."""

    cost: float
    places: dict[int, int]


@dataclass(frozen=True)
class SaaDraw:
    """One draw as the model reads it: its linear model and the persons the target counts in
    one copy of each unit."""

    model: LinearModel
    counted: np.ndarray  # per unit

    @property
    def total(self) -> int:
        """Persons the target counts in the draw."""
        counts = np.array([u.count for u in self.model.unit_list], dtype=np.int64)
        return int(self.counted @ counts) if len(counts) else 0


@dataclass(frozen=True)
class SaaTarget:
    """What the chosen set must reach over the modelled draws: one of the two.

    ``all_placed_draws``: draws in which everyone counted is placed, at least;
    ``unplaced_total``: persons counted left unplaced, over all the draws, at most."""

    all_placed_draws: int | None = None
    unplaced_total: int | None = None


@dataclass(frozen=True)
class SaaOptions:
    """Explicit solver settings of one model solve."""

    time_limit: float = 60.0
    workers: int = 1
    seed: int = 0


@dataclass(frozen=True)
class SaaResult:
    """The cheapest set found (candidate indices), whether it is proven cheapest, and the
    bound: no set meeting the target in the model costs less."""

    status: SaaStatus
    chosen: frozenset[int] | None
    cost: float | None
    bound: float | None
    seconds: float
    variables: int
    draws: int = 0
    notes: list[str] = field(default_factory=list)
    #: sets found to miss the target in the model, so in the engine too (a relaxation), and
    #: their subsets with them
    missed: tuple[frozenset[int], ...] = ()


def saa_draw(full: Scenario, without: Scenario, counted: Callable[[Arrival], int]) -> SaaDraw:
    """A draw's model: ``full`` is the draw against the network with every addition made,
    ``without`` the same draw against the network without them (same shelters, in the same
    order, new ones with no place); ``counted``: persons the target counts of an arrival."""
    units = build_units(Context(full))
    model = LinearModel(Context(without), units)
    per_unit = np.array([sum(counted(m) for m in u.members) for u in units.units], dtype=np.int64)
    return SaaDraw(model, per_unit)


@dataclass(frozen=True)
class SaaSample:
    """The draws of one advice run as the model reads them, the candidate additions, and
    each draw's most persons counted placed with every addition made (``best``; empty when
    the model would be too large to build). Prepared once per advice run
    (:func:`prepare_saa`): every model solve of the run reads the same."""

    draws: tuple[SaaDraw, ...]
    additions: tuple[Addition, ...]
    best: tuple[DrawBest, ...] = ()

    @property
    def variables(self) -> int:
        """The integer variables of the model over all the draws."""
        return sum(d.model.n_columns for d in self.draws) + len(self.additions) + len(self.draws)


def prepare_saa(
    draws: Sequence[SaaDraw], additions: Sequence[Addition], options: SaaOptions = SaaOptions()
) -> SaaSample:
    """The sample of an advice run: with every addition made, each draw's most persons
    counted placed (its own small model, ``HINT_SHARE`` of ``options.time_limit`` for all).
    They are the model's complete hint, its proof that no set meets a target they miss, and
    the best any set can do in a draw not yet solved; they do not change from one model
    solve to the next, so they are computed here, once."""
    sample = SaaSample(tuple(draws), tuple(additions))
    if sample.variables > MAX_VARIABLES:
        return sample  # refused by solve_saa, which says why
    best = tuple(_best_with_everything(d, additions, options, len(draws)) for d in draws)
    return replace(sample, best=best)


def solve_saa(
    sample: SaaSample,
    target: SaaTarget,
    options: SaaOptions = SaaOptions(),
    cuts: Sequence[tuple[frozenset[int], bool]] = (),
) -> SaaResult:
    """The cheapest set of the sample's additions meeting ``target`` over its draws.

    ``cuts``: sets ruled out by the engine, each with whether every subset is ruled out
    too (True when fewer places can only do worse for the target), so a chosen set must
    differ from each (or add something outside it)."""
    started = time.perf_counter()
    draws, additions, best = sample.draws, sample.additions, sample.best
    variables = sample.variables
    if variables > MAX_VARIABLES:
        return SaaResult(
            "unknown",
            None,
            None,
            None,
            0.0,
            variables,
            len(draws),
            [f"{variables} variables: more than {MAX_VARIABLES}; use fewer draws"],
        )
    # With every addition made, each draw's most persons counted placed (the sample's): a
    # complete hint for the model (every addition, these placements), and, when each is
    # proven and the target is missed even so, the proof that no set meets it.
    if not _meets(target, [(b.bound, d.total) for b, d in zip(best, draws, strict=True)]):
        seconds = time.perf_counter() - started
        return SaaResult("infeasible", None, None, None, seconds, variables, len(draws))
    problem = _Problem(target, cuts, [b.bound for b in best])
    deadline = started + options.time_limit
    if 2 ** len(additions) <= MAX_PROOF_SETS:
        # Few candidates: every set judged in cost order, each draw alone, is exact and far
        # quicker than the model over all draws (which would only starve this proof).
        nothing = SaaResult("unknown", None, None, None, 0.0, variables, len(draws))
        found = _prove(draws, additions, problem, nothing, deadline)
        return replace(found, seconds=time.perf_counter() - started)
    builder = _Builder(additions)
    for draw, hint in zip(draws, best, strict=True):
        builder.add_draw(draw, hint)
    builder.target(target)
    builder.cut(cuts)
    # Half of what is left for the model over all draws, the rest to prove its set the
    # cheapest (or find a cheaper one) set by set.
    left = max(0.1, (deadline - time.perf_counter()) / 2)
    found = builder.solve(replace(options, time_limit=left), started, len(draws))
    if found.status == "feasible":
        found = _prove(draws, additions, problem, found, deadline)
    return replace(found, seconds=time.perf_counter() - started)


def _meets(target: SaaTarget, placed: Sequence[tuple[int, int]]) -> bool:
    """Whether (persons counted placed, persons counted) per draw meet the target."""
    if target.all_placed_draws is not None:
        return sum(p >= t for p, t in placed) >= target.all_placed_draws
    assert target.unplaced_total is not None  # one of the two, by construction
    return sum(t - p for p, t in placed) <= target.unplaced_total


@dataclass(frozen=True)
class DrawBest:
    """A draw's placements with some additions made (column -> copies), the persons counted
    it places, whether that is proven the most, and the most it could be."""

    x: dict[int, int]
    placed: int
    proven: bool
    bound: int


def _columns(draw: SaaDraw) -> tuple[np.ndarray, np.ndarray]:
    """The per-column weights (persons counted per copy) and the columns modelled: those of
    units the target does not count are left out (at 0) when every row is an upper bound
    with non-negative terms (the plan rules' rows are): leaving someone out never breaks
    one, and the target does not miss them."""
    lin = draw.model
    weights = draw.counted[lin.col_unit] if lin.n_columns else np.zeros(0, dtype=np.int64)
    only_upper = all(lo == -INF for lo in lin.row_lo)
    keep = weights > 0 if only_upper else np.ones(lin.n_columns, dtype=bool)
    return weights, keep


def _add_rows(
    model: cp_model.CpModel,
    draw: SaaDraw,
    prefix: str,
    extra: Callable[[int], tuple[int, list[tuple[int, cp_model.IntVar]]]],
) -> tuple[dict[int, cp_model.IntVar], cp_model.LinearExprT]:
    """A draw's columns and rows in ``model``: ``extra(shelter)`` gives the places that
    additions bring to a shelter's capacity rows, as a constant and as (places, y) terms.
    Returns the columns and the persons counted placed."""
    lin = draw.model
    weights, keep = _columns(draw)
    x: dict[int, cp_model.IntVar] = {
        j: model.new_int_var(0, int(lin.col_ub[j]), f"{prefix}_{j}")
        for j in np.flatnonzero(keep).tolist()
    }
    matrix, lows, highs = lin.matrix()  # rows x columns, and the rows' bounds
    for i, kind in enumerate(lin.row_kind):
        start, stop = int(matrix.indptr[i]), int(matrix.indptr[i + 1])
        cols = matrix.indices[start:stop].tolist()
        coefs = matrix.data[start:stop].astype(np.int64).tolist()
        terms = [(x[j], k) for j, k in zip(cols, coefs, strict=True) if j in x]
        if not terms:
            continue  # every term at 0: an upper bound of 0 or more holds
        expr = cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [k for _, k in terms])
        more = 0
        if kind == "capacity":
            more, added = extra(int(lin.col_shelter[cols[0]]))
            if added:
                expr = expr - cp_model.LinearExpr.weighted_sum(
                    [v for _, v in added], [k for k, _ in added]
                )
        lo, hi = float(lows[i]), float(highs[i])
        if lo > -INF:
            model.add(expr >= int(lo))
        if hi < INF:
            model.add(expr <= int(hi) + more)
    placed = cp_model.LinearExpr.weighted_sum(list(x.values()), [int(weights[j]) for j in x])
    return x, placed


#: share of the time limit the per-draw solves with every addition may take, in all
HINT_SHARE = 0.25


def _places(additions: Sequence[Addition], chosen: Iterable[int]) -> dict[int, int]:
    """Places per shelter position that the ``chosen`` additions bring."""
    out: dict[int, int] = {}
    for c in chosen:
        for s, k in additions[c].places.items():
            out[s] = out.get(s, 0) + k
    return out


def _most_placed(draw: SaaDraw, places: dict[int, int], seed: int, seconds: float) -> DrawBest:
    """The most persons counted a draw can place with ``places`` added (its own small model,
    one worker); ``DrawBest.proven``: that most is proven."""
    model = cp_model.CpModel()
    x, placed = _add_rows(model, draw, "h", lambda s: (places.get(s, 0), []))
    model.maximize(placed)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, seconds)
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.linearization_level = LINEARIZATION
    code = solver.solve(model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return DrawBest({}, 0, False, draw.total)
    values = {j: int(solver.value(v)) for j, v in x.items()}
    bound = min(draw.total, math.floor(solver.best_objective_bound + 1e-6))
    return DrawBest(values, int(solver.objective_value), code == cp_model.OPTIMAL, bound)


def _best_with_everything(
    draw: SaaDraw, additions: Sequence[Addition], options: SaaOptions, draws: int
) -> DrawBest:
    """The most persons counted a draw can place with every addition made."""
    seconds = HINT_SHARE * options.time_limit / draws
    return _most_placed(draw, _places(additions, range(len(additions))), options.seed, seconds)


#: the most candidate sets a search in cost order enumerates
MAX_PROOF_SETS = 256

#: a set's verdict: True meets the target, False misses it, None undecided (time)
Verdict = bool | None


@dataclass(frozen=True)
class SetSearch:
    """What a search over sets in cost order decided: the first set that meets the target
    (None: none did), ``bound`` (no set meeting the target costs less), ``complete`` (every
    set cheaper than the limit was decided) and the sets judged."""

    chosen: frozenset[int] | None
    bound: float
    complete: bool
    judged: int
    missed: tuple[frozenset[int], ...] = ()


def search_by_cost(
    costs: Sequence[float],
    below: float,
    judge: Callable[[frozenset[int]], Verdict],
    subsets_miss: bool,
    skip: Callable[[frozenset[int]], bool] = lambda _: False,
) -> SetSearch | None:
    """Every set of candidates (indices of ``costs``) cheaper than ``below``, in increasing
    cost (then size), judged by ``judge`` until one meets the target: that one is the
    cheapest. ``subsets_miss``: a set that misses rules out its subsets (not judged);
    ``skip``: sets already ruled out elsewhere. An undecided verdict stops the search (the
    bound is then that set's cost). None: more than ``MAX_PROOF_SETS`` sets to judge.

    The one search in cost order: the model's proof set by set (each draw's own model as
    judge) and the capacity advice (the engine as judge) both run it."""
    n = len(costs)
    cheaper = [
        frozenset(c)
        for k in range(n + 1)
        for c in itertools.combinations(range(n), k)
        if sum(costs[i] for i in c) < below - 1e-9
    ]
    if len(cheaper) > MAX_PROOF_SETS:
        return None
    cheaper.sort(key=lambda c: (sum(costs[i] for i in c), len(c), sorted(c)))
    missed: list[frozenset[int]] = []
    judged = 0
    for chosen in cheaper:
        if skip(chosen) or (subsets_miss and any(chosen <= m for m in missed)):
            continue
        judged += 1
        verdict = judge(chosen)
        value = sum(costs[i] for i in chosen)
        if verdict is None:
            return SetSearch(None, value, False, judged, tuple(missed))
        if verdict:
            return SetSearch(chosen, value, True, judged, tuple(missed))
        missed.append(chosen)
    return SetSearch(None, below, True, judged, tuple(missed))


def cut_off(cuts: Sequence[tuple[frozenset[int], bool]]) -> Callable[[frozenset[int]], bool]:
    """Whether a set is ruled out by the cuts (the set itself, or a subset of it too)."""

    def cut(chosen: frozenset[int]) -> bool:
        return any(chosen == c or (with_subsets and chosen <= c) for c, with_subsets in cuts)

    return cut


def _prove(
    draws: Sequence[SaaDraw],
    additions: Sequence[Addition],
    problem: _Problem,
    found: SaaResult,
    deadline: float,
) -> SaaResult:
    """Proves the model's best set the cheapest, or finds a cheaper one, set by set.

    With the additions fixed the draws are independent, and each draw's most persons placed
    can only grow with more places: every set cheaper than the one found (and not cut off)
    is judged, in increasing cost, by its draws' own small models (:func:`search_by_cost`);
    the first that meets the target is the cheapest. Left undecided (time, too many sets),
    the bound is the cost of the cheapest set not ruled out."""
    below = math.inf if found.cost is None else found.cost
    costs = [a.cost for a in additions]

    def judge(chosen: frozenset[int]) -> Verdict:
        return _judge(draws, additions, problem, chosen, deadline)

    search = search_by_cost(costs, below, judge, True, cut_off(problem.cuts))
    if search is None:
        return found
    found = replace(found, missed=search.missed)
    if search.chosen is not None:
        value = sum(costs[i] for i in search.chosen)
        return replace(found, status="optimal", chosen=search.chosen, cost=value, bound=value)
    if search.complete:
        if found.chosen is None:  # no set at all meets the target
            return replace(found, status="infeasible", bound=None)
        return replace(found, status="optimal", bound=found.cost)
    return replace(found, bound=max(found.bound or 0.0, search.bound))


@dataclass(frozen=True)
class _Problem:
    """The target, the sets cut off, and each draw's most persons counted placed with every
    addition made (no set places more: the draws not yet solved are judged by it)."""

    target: SaaTarget
    cuts: Sequence[tuple[frozenset[int], bool]]
    most: Sequence[int]


def _judge(
    draws: Sequence[SaaDraw],
    additions: Sequence[Addition],
    problem: _Problem,
    chosen: frozenset[int],
    deadline: float,
) -> Verdict:
    """Whether ``chosen`` meets the target in the model (None: not decided in time). The
    draws that lose the most against every addition first: a set that misses shows it
    soonest there."""
    places = _places(additions, chosen)
    target = problem.target
    order = sorted(range(len(draws)), key=lambda d: (problem.most[d] - draws[d].total, d))
    reached: dict[int, tuple[int, int]] = {}  # (placed, total): what the draws reach
    best = {d: (problem.most[d], draws[d].total) for d in order}  # the most they could
    for i, d in enumerate(order):
        seconds = (deadline - time.perf_counter()) / (len(order) - i)
        if seconds <= 0:
            return None
        result = _most_placed(draws[d], places, 0, seconds)
        reached[d] = (result.placed, draws[d].total)
        best[d] = (min(result.bound, problem.most[d]), draws[d].total)
        if not _meets(target, list(best.values())):
            return False  # even at best in the draws left
    if _meets(target, list(reached.values())):
        return True
    return None


class _Builder:
    """The CP-SAT model, draw by draw."""

    def __init__(self, additions: Sequence[Addition]) -> None:
        self.model = cp_model.CpModel()
        self.additions = additions
        self.y = [self.model.new_bool_var(f"y{c}") for c in range(len(additions))]
        #: per shelter position: (places, y) of the additions there
        self.adds_at: dict[int, list[tuple[int, cp_model.IntVar]]] = {}
        for c, a in enumerate(additions):
            for s, k in a.places.items():
                self.adds_at.setdefault(s, []).append((k, self.y[c]))
        #: per draw: (persons counted placed, persons counted), and the hint's placed
        self.placed: list[tuple[cp_model.LinearExprT, int]] = []
        self.hints: list[int] = []
        self.variables = len(self.y)
        for v in self.y:
            self.model.add_hint(v, 1)

    def add_draw(self, draw: SaaDraw, hint: DrawBest) -> None:
        """The draw's columns and rows, the capacity rows raised by the chosen additions'
        places; ``hint``: its placements with every addition made."""
        d = len(self.placed)
        x, placed = _add_rows(self.model, draw, f"x{d}", lambda s: (0, self.adds_at.get(s, [])))
        self.variables += len(x)
        for j, v in x.items():
            self.model.add_hint(v, hint.x.get(j, 0))
        self.placed.append((placed, draw.total))
        self.hints.append(hint.placed)

    def target(self, target: SaaTarget) -> None:
        if target.all_placed_draws is not None:
            ok = []
            for d, (placed, total) in enumerate(self.placed):
                z = self.model.new_bool_var(f"z{d}")
                self.model.add(placed >= total).only_enforce_if(z)
                self.model.add_hint(z, self.hints[d] >= total)
                ok.append(z)
            self.variables += len(ok)
            self.model.add(sum(ok) >= target.all_placed_draws)
        else:
            assert target.unplaced_total is not None  # one of the two, by construction
            unplaced = sum(total - placed for placed, total in self.placed)
            self.model.add(unplaced <= target.unplaced_total)

    def cut(self, cuts: Sequence[tuple[frozenset[int], bool]]) -> None:
        for chosen, with_subsets in cuts:
            outside: list[cp_model.LiteralT] = [v for c, v in enumerate(self.y) if c not in chosen]
            if with_subsets:  # every subset fails too: something outside it is needed
                self.model.add_bool_or(outside)
            else:
                # not exactly this set: one of it left out, or something outside it
                self.model.add_bool_or([*outside, *(self.y[c].negated() for c in sorted(chosen))])

    def solve(self, options: SaaOptions, started: float, draws: int) -> SaaResult:
        costs = [round(a.cost * COST_SCALE) for a in self.additions]
        self.model.minimize(cp_model.LinearExpr.weighted_sum(self.y, costs))
        solver = cp_model.CpSolver()
        p = solver.parameters
        p.max_time_in_seconds = options.time_limit
        p.num_workers = options.workers
        p.random_seed = options.seed
        p.linearization_level = LINEARIZATION
        code = solver.solve(self.model)
        seconds = time.perf_counter() - started
        if code == cp_model.INFEASIBLE:
            return SaaResult("infeasible", None, None, None, seconds, self.variables, draws)
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            bound = solver.best_objective_bound / COST_SCALE if self.additions else 0.0
            return SaaResult("unknown", None, None, bound, seconds, self.variables, draws)
        chosen = frozenset(c for c, v in enumerate(self.y) if solver.value(v))
        cost = sum(self.additions[c].cost for c in chosen)
        bound = solver.best_objective_bound / COST_SCALE
        status: SaaStatus = "optimal" if code == cp_model.OPTIMAL else "feasible"
        return SaaResult(status, chosen, cost, min(bound, cost), seconds, self.variables, draws)
