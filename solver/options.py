"""The options of a solve: everything that decides a plan besides the scenario.

Importable without OR-Tools, so that a caller (the command line) can build them before the
solver is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from solver.names import SolverName


@dataclass(frozen=True)
class SolveOptions:
    """Explicit solver settings: every solve has a time limit and a worker count."""

    time_limit: float = 10.0
    workers: int = 1
    seed: int = 0
    # Measured (benchmarks/bench_params.py): on this 2-core machine 1 worker with
    # linearization level 2 closes the bound where the default portfolio of 2 stalls.
    linearization_level: int = 2
    #: prove with the LP relaxation which columns no optimal plan uses, before each stage
    lp_fixing: bool = True
    #: seconds to build the linear model, per admissible (unit, shelter) pair: the exact
    #: path (LP and CP-SAT) runs when the model's estimated build takes at most half the
    #: time left, else the plan is the packing heuristic's and its moves' (never called
    #: optimal), with the flow bound. Measured 2.4-3.5 us per pair at 1,000 x 3,000 with
    #: every shelter open (950k pairs, load average 7.7; the rows are built in bulk, it was
    #: 5.7-11.7 us); the LP itself prices every pair in numpy
    model_seconds_per_pair: float = 3e-6
    #: the LP solver of the relaxation: "glop" (OR-Tools) or "highs" (HiGHS's dual simplex
    #: through scipy). Measured at 1,000 x 3,000 (README, "Performance"): on the priority
    #: levels' LPs GLOP's rounds take 0.3-0.5 s where HiGHS's take 1.3-3.9 s (its duals also
    #: price in more columns); on the converged cost LP (30 rounds) HiGHS 42.8-46.8 s, GLOP
    #: 57.5-67.7 s. The level LPs decide what is proven within 10 s: GLOP
    lp_solver: Literal["glop", "highs", "highs-warm"] = "glop"
    #: above this many columns the exact path starts from the first plan improved by CP-SAT
    #: on neighbourhoods of the unplaced (:mod:`solver.lns`), for ``neighbourhoods_first_share``
    #: of the time left: at 3,000 x 6,000 (1.07 M columns, T = 60) the level-1 LP took 24 s
    #: and CP-SAT on its columns and neighbourhoods found nothing better (835 against an LP
    #: bound of 869) where those neighbourhoods reach 863. In a model this large, too, a
    #: level whose LP runs out of time unproven gets only the quick CP-SAT solves, and the
    #: levels below it the neighbourhoods of the unplaced instead of an LP
    #: (:meth:`solver.cpsat._Lexicographic._lp`)
    neighbourhoods_first_above: int = 500_000
    neighbourhoods_first_share: float = 0.3
    #: the LP solver of the secondary cost's relaxation: HiGHS kept warm from one round of
    #: pricing to the next (:class:`solver.lp._WarmHighs`). Measured at 1,000 x 3,000, the
    #: cost LP after the levels, to convergence (load 1.7): standard 4.4 s against GLOP's
    #: 24.9 s and cold HiGHS's 30.8 s; hard 2.2 s against 10.8 s and 24.3 s. On the levels'
    #: LPs GLOP stays: its solutions round to proving plans where HiGHS's did not (hard,
    #: priority 4 and 1, T = 10)
    cost_lp_solver: Literal["glop", "highs", "highs-warm"] = "highs-warm"
    #: above this many decision variables, presolve is kept light (probing off, one pass):
    #: at 1,000 x 3,000 (127k variables) the default presolve used the whole time limit;
    #: on the hard family's priority-3 stage (20,774 variables, load 10-12) the default
    #: presolve had no bound after 8 s (2,313 after 15 s) where the light one proved the
    #: stage in 9.8-13.7 s (the stage's model exported and solved alone; README, Performance)
    light_presolve_above: int = 10_000
    #: clique cuts (:mod:`solver.cuts`), up to ``lp_cliques`` added per round and
    #: ``lp_cut_rounds`` rounds at most (0: no cuts): in the cost stage's LP once pricing has
    #: converged, and in a level's LP again when its bound is one above the incumbent (or,
    #: at the last level, within ``close_gap`` of it; at 1,000 x 3,000 hard, priority 3
    #: needed 8 rounds)
    lp_cliques: int = 200
    lp_cut_rounds: int = 10
    #: each stage's LP starts from each unit's N cheapest columns (and the incumbent's, and
    #: the previous LP solution's); pricing adds the others it needs
    lp_start_columns: int = 5
    #: seconds for the quick CP-SAT solve on the LP solution's columns, per stage (the solve
    #: on all the columns the LP saw gets a fair share of the time left instead)
    support_time_limit: float = 2.0
    #: CP-SAT's first neighbourhood of the incumbent when the LP does not prove it: the
    #: incumbent's and the LP solution's columns, then those with the best reduced costs, up
    #: to this many (doubled while CP-SAT proves there is nothing better on it)
    neighbourhood_columns: int = 4000
    #: CP-SAT first looks for a plan at the best bound known when it is at most this far
    #: above the incumbent, then one below, ... (:meth:`solver.cpsat._Lexicographic._cpsat`);
    #: further, for any plan better than the incumbent
    target_steps: int = 3
    #: seconds to build CP-SAT's model, per column: a CP-SAT call given less time than that
    #: is skipped. Measured 0.37-0.56 s for 18,000-25,000 columns at 1,000 x 3,000 (load
    #: 0.4-1.0); a call given 0.01 s for 39,716 columns took 0.99 s
    cpsat_seconds_per_column: float = 2.5e-5
    #: a stage the LP leaves with more columns than this is not given to CP-SAT whole:
    #: measured at 1,000 x 3,000, CP-SAT found no bound in 25 s on 46k-75k columns; unless
    #: CP-SAT starts at the stage's bound (``target_steps``), with the rows the LP's duals
    #: imply (``solver.cpsat._Lexicographic._from_bound``)
    cpsat_max_columns: int = 30_000
    #: a level whose incumbent is within this share of its bound after its LP tries a first
    #: neighbourhood, then gives CP-SAT on the LP's columns its whole share (it may prove
    #: the level); further, half, and neighbourhoods the rest (``_Lexicographic._close``)
    close_gap: float = 0.05
    #: a level further from its bound first gets CP-SAT on neighbourhoods of the unplaced
    #: (:mod:`solver.lns`, ``_Lexicographic._unplaced``) for at most this share of its time
    #: (it stops sooner when a round of its windows places nobody), then CP-SAT on the LP's
    #: columns. At 1,000 x 3,000 hard, T = 10, priority 1, before the early stop: seed 2
    #: placed 142 with 0.8, 136 with 0.5 and 135 without; seed 3 157, 157 and 149
    unplaced_share: float = 0.8
    #: the cost stage's LP gets at most this share of the time left (a level's LP gets the
    #: level's fair share): with 40 pricing rounds, the cost LP at 1,000 x 3,000 converged
    #: (bound 53,764) but left no time to search, and the plan cost 101,983 (T = 60)
    cost_lp_share: float = 0.5
    #: the secondary cost's lower bound from a min-cost flow (:mod:`solver.cost_flow`) is
    #: computed, its time kept from the stages, when its estimate is at most this share of
    #: the time limit: 0.1-0.3 s at 1,000 x 3,000, where a 10 s solve has no converged cost
    #: LP; at 10,000 x 20,000 (11.8 M pairs) it would take too much of a minute
    cost_flow_share: float = 0.05
    #: the cost stage first searches for cheaper plans (:meth:`solver.cpsat._Lexicographic.
    #: _cheaper_first`) when its LP is expected to take at least ``cost_search_from_seconds``
    #: (``cost_lp_seconds_per_column`` per column in play: with the cheapest flow's pairs to
    #: start from, it converged in 1.7-5.2 s on 127,000 columns at 1,000 x 3,000), for
    #: ``cost_search_share`` of the time left and at most ``cost_search_seconds``; then its
    #: LP gets ``cost_lp_share`` of what is left. At 1,000 x 3,000 hard seed 1, T = 60, the
    #: cost was proven (36,975) in 56 s with 4 s at most; with 8 s, 36,983 >= 36,931 (the
    #: previous tree, without the search: proven in 49 s); standard seed 1, T = 30: 61,882 >=
    #: 54,521 with 4 s, 62,551 >= 51,389 with 8 s (its LP did not converge), and 99,356 >=
    #: 54,568 without. Smaller models keep their LP first: it proves their cost at once.
    #: When the LP would get less than its expected time after that share, the search gets
    #: all the time and there is no cost LP (the plan's cost bound is then the cheapest
    #: flow's): at 1,000 x 3,000, T = 10, the cost stage has 0-5 s.
    cost_search_share: float = 0.5
    cost_search_seconds: float = 4.0
    cost_lp_seconds_per_column: float = 4e-5
    cost_search_from_seconds: float = 1.0
    #: of that search, the share of the neighbourhoods of the dearest placements before
    #: CP-SAT on the incumbent's and the cheapest flow's columns
    cost_neighbourhoods_share: float = 0.4
    #: ... and CP-SAT on those columns only with at least this many seconds per column,
    #: else the neighbourhoods go on: at 1,000 x 3,000 it needed about 2 s on the 1,698
    #: columns of standard seed 1 and under 1 s on the 1,153 of hard seed 1. With 1.5 and
    #: 2.5 s in all, standard seed 1 cost 100,167 and 95,144 with it, 87,335 and 83,909
    #: without; hard seed 1 50,449 and 47,231 with it, 53,285 and 50,405 without
    cost_cpsat_seconds_per_column: float = 1e-3
    #: after its LP, the cost stage's search near the LP's solution (:meth:`solver.cpsat.
    #: _Lexicographic._restricted_mip`): HiGHS's MIP on each unit's ``cost_mip_columns``
    #: columns of best reduced cost (and the LP solution's and the incumbent's), for
    #: ``cost_mip_share`` of the time left; one more per unit while it proves its plan
    #: optimal on them, saves ``cost_mip_gain`` of the cost, and ``cost_mip_growth`` times
    #: its time is left. Measured at 1,000 x 3,000 after the levels, from the same plans,
    #: the cost LP converged (in process): with 1 column a unit 1.2-1.4 s, 100,816 to 63,641
    #: (standard seed 1) and 59,039 to 39,624 (hard seed 1); with 2, 2.9-4.7 s, 58,006 and
    #: 37,543; with 3, 57,257 (standard) in 8 s
    cost_mip_columns: int = 1
    cost_mip_gain: float = 0.005
    cost_mip_growth: float = 3.0
    cost_mip_share: float = 0.5


@dataclass(frozen=True)
class EngineOptions:
    """Everything that decides a plan besides the scenario: same options, same plan."""

    solver: SolverName = "cpsat"
    solve: SolveOptions = SolveOptions()
    explain: bool = True
    #: time limit of each re-solve that checks a relaxation
    relaxation_time_limit: float = 2.0
    #: most seconds spent on relaxation re-solves, inside the time limit: people are
    #: searched by priority (identical ones once); those it does not reach say so
    explain_time_budget: float = 20.0
    #: share of the time limit kept for the relaxations (at most ``explain_time_budget``);
    #: a solve that ends sooner leaves them more. Small: at 1,000 x 3,000 the relaxations
    #: (re-plans with everyone else fixed, at that size) took under 1 s of the 2 s that 20 %
    #: of 10 s kept, while the solve lacked them
    explain_share: float = 0.1
    #: seconds kept, at the end of the time limit, for the reasons of the unplaced and the
    #: plan's output (:meth:`output_reserve`): this much, plus ``output_reserve_per_1000``
    #: per 1,000 arrivals and ``output_reserve_per_unplaced`` per unplaced arrival for the
    #: plan to be sent, read and printed (measured at 10,000 x 20,000 hard, 3,114 unplaced:
    #: 1.6 s; standard, 598 unplaced: 0.3 s)
    output_reserve_base: float = 0.3
    output_reserve_per_1000: float = 0.1
    output_reserve_per_unplaced: float = 0.0005
    #: the reasons themselves: this much to start, then per unplaced arrival and per
    #: admissible shelter of one (summed over the unplaced); those the time leaves
    #: unexplained are told so. Fitted first on five plans (0.65 ms and 1.5 us), which
    #: left 105-151 of 340 unplaced unexplained at 1,000 x 3,000 hard, T = 10, 560 of 963 at
    #: 3,000 x 6,000 hard, T = 60, and 438-742 of 3,168 at 10,000 x 20,000 hard, T = 60; the
    #: same three plans' reasons measured again (two runs each, fresh context): 0.39-0.73 s
    #: (345 unplaced, 15,800 pairs), 1.42-2.04 s (974, 134,000), 6.62-7.75 s (3,156, 1.54 M):
    #: 1.05 ms and 2.4 us fit them, kept with a quarter more (README, "Performance")
    reasons_base: float = 0.15
    reasons_per_unplaced: float = 0.0013
    reasons_per_pair: float = 3e-6
    #: the pass with relaxations keeps the first pass's reasons and finds again the
    #: admissible shelters of those it searches changes for: at most this share of the
    #: reasons' time. Measured with every unplaced person's shelters found again: 0.07 s
    #: against 0.26-0.87 s (1,000 x 3,000 hard, 378 unplaced) and 0.31-0.43 s against
    #: 1.04-1.45 s (3,000 x 6,000 hard, 1,278 unplaced, the relaxations' budget spent)
    reasons_again_share: float = 0.4

    def output_reserve(self, arrivals: int, unplaced: int = 0, pairs: int = 0) -> float:
        """Seconds kept at the end of the time limit for the reasons of ``unplaced`` arrivals
        (``pairs``: their admissible shelters, summed) and the plan's output (the one place
        this is computed); never more than a quarter of the time limit."""
        wanted = self.sending_reserve(arrivals, unplaced) + self.reasons_seconds(unplaced, pairs)
        return min(wanted, self.solve.time_limit / 4)

    def reasons_seconds(self, unplaced: int, pairs: int) -> float:
        """The time the reasons of ``unplaced`` arrivals with ``pairs`` admissible shelters
        in all are expected to take."""
        if not unplaced:
            return 0.0
        return (
            self.reasons_base + self.reasons_per_unplaced * unplaced + self.reasons_per_pair * pairs
        )

    def relaxations_reserve(self, unplaced: int = 0, pairs: int = 0) -> float:
        """Seconds kept after the solve for the relaxations' re-solves: ``explain_share`` of
        the time limit (at most ``explain_time_budget``), or none when that cannot hold the
        pass with relaxations (it keeps the first pass's reasons but finds each one's
        admissible shelters again: counted here at the reasons' whole time, not
        ``reasons_again_share`` of it, so that where the reasons are long, 7 s at 10,000 x
        20,000, the solve keeps its time) and one re-solve (``relaxation_time_limit``): then
        no relaxation would be searched and the time is the solve's. At 1,000 x 3,000 hard,
        T = 10, the second kept was never used: the plan came at 8.7 s without a relaxation."""
        if not self.explain:
            return 0.0
        share = min(self.explain_time_budget, self.explain_share * self.solve.time_limit)
        needed = self.reasons_seconds(unplaced, pairs) + self.relaxation_time_limit
        return share if share > needed else 0.0

    def relaxations_end_reserve(self, arrivals: int, unplaced: int = 0, pairs: int = 0) -> float:
        """Seconds kept, at the end of the time limit, once the relaxations' re-solves stop:
        the second pass through the unplaced (``reasons_again_share`` of the reasons' time,
        its own reasons taken from the first), the plan's sending, and one re-solve under
        way when the budget ends (``relaxation_time_limit``)."""
        again = self.reasons_again_share * self.reasons_seconds(unplaced, pairs)
        return self.sending_reserve(arrivals, unplaced) + again + self.relaxation_time_limit

    def sending_reserve(self, arrivals: int, unplaced: int) -> float:
        """Seconds kept, once the reasons are written, for the plan to be sent, read and
        printed: the reasons stop that long before the end (never more than a quarter of
        the time limit)."""
        wanted = (
            self.output_reserve_base
            + self.output_reserve_per_1000 * arrivals / 1000
            + self.output_reserve_per_unplaced * unplaced
        )
        return min(wanted, self.solve.time_limit / 4)
