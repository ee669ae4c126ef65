"""Admissibility: which shelters every pair rule admits for an arrival.

The solver creates decisions only for admissible pairs, the validator re-checks each
placement, and the explanations start from the same masks. Masks are numpy boolean arrays
over ``scenario.shelters``, computed once per distinct rule key (:meth:`Context.rule_mask`).
"""

from __future__ import annotations

import numpy as np

from placement.context import Context
from placement.models import Arrival, Shelter
from placement.rules import PAIR_RULES, PairRule


def admissible(ctx: Context, a: Arrival, s: Shelter) -> bool:
    """True when every pair rule admits placing ``a`` in ``s``."""
    return all(rule.admits(ctx, a, s) for rule in PAIR_RULES)


def failed_pair_rules(ctx: Context, a: Arrival, s: Shelter) -> list[PairRule]:
    return [rule for rule in PAIR_RULES if not rule.admits(ctx, a, s)]


def admissible_mask(ctx: Context, a: Arrival) -> np.ndarray:
    """The shelters every pair rule admits for ``a``, as a mask over scenario.shelters.

    Same answers as :func:`admissible`, computed once per distinct rule key: rules are
    evaluated on one representative shelter per distinct ``shelter_key`` (or over all
    shelters at once by ``shelter_mask``).
    """
    mask = ctx.everything()
    for rule in PAIR_RULES:
        mask &= ctx.rule_mask(rule, a)
        if not mask.any():
            break
    return mask


def admissible_for_all(ctx: Context, members: list[Arrival]) -> np.ndarray:
    """The shelters every pair rule admits for every one of ``members`` (a household)."""
    mask = admissible_mask(ctx, members[0])
    for m in members[1:]:
        mask &= admissible_mask(ctx, m)
    return mask


def mask_indices(mask: np.ndarray) -> list[int]:
    """Indices of the shelters in a mask, ascending."""
    indices: list[int] = np.flatnonzero(mask).tolist()
    return indices
