"""Column generation prices until the LP is solved, on a degenerate level LP at 1,000 x 3,000.

Regression: with 8 pricing rounds at most, level 1's LP at 1,000 x 3,000 (standard family,
seed 1) stopped with a bound of 340 (352 in the solve) where the LP optimum is 338 (335):
its duals keep pricing in a few dozen columns a round, and a level could not be proven.
"""

from __future__ import annotations

import numpy as np
import pytest

from placement.context import Context
from placement.generate import generate_scenario
from solver.linear import INF, LinearModel
from solver.lp import Pricing, lp_proof
from solver.packing import packing_allocation
from solver.units import build_units


@pytest.mark.slow
def test_level_1_lp_converges_at_1000x3000_where_8_rounds_stopped_short():
    ctx = Context(generate_scenario(1000, 3000, nights=30, seed=1))
    units = build_units(ctx)
    lin = LinearModel(ctx, units)
    x = lin.to_columns(packing_allocation(ctx, units))
    for p in (5, 4, 3, 2):  # the levels above kept at the packing plan's values
        c = lin.persons_at(p)
        cols = np.flatnonzero(c)
        lin.add_row(cols, c[cols], int(c @ x), INF, "stage")
    c = lin.persons_at(1)
    everything = np.ones(lin.n_columns, dtype=bool)
    incumbent = int(c @ x)
    # the LP over every column at once: its optimum (338 on this instance)
    whole = lp_proof(lin, c, everything, incumbent, 60, Pricing(None, 1))
    # column generation from each unit's 5 cheapest columns and the plan's, as a stage does
    start = lin.cheapest(5) | (x > 0)
    priced = lp_proof(lin, c, everything, incumbent, 60, Pricing(start))
    assert whole is not None and priced is not None
    assert priced.bound == pytest.approx(whole.bound, abs=1e-6)
    assert priced.integer_bound == whole.integer_bound < incumbent + 20  # a usable bound
