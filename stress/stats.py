"""Estimates with 95 % confidence intervals: proportions (Wilson) and means (normal)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

#: the two-sided 95 % quantile of the normal distribution
Z95 = 1.959963984540054


class Estimate(BaseModel):
    """A value estimated from ``n`` draws, with its 95 % confidence interval."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float
    low: float
    high: float
    n: int


def proportion(successes: int, n: int) -> Estimate:
    """A probability from ``successes`` of ``n`` draws, with the Wilson score interval (good
    near 0 and 1, where the normal approximation is not)."""
    if n == 0:
        return Estimate(value=math.nan, low=0.0, high=1.0, n=0)
    p = successes / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Estimate(
        value=round(p, 6),
        low=round(max(0.0, centre - half), 6),
        high=round(min(1.0, centre + half), 6),
        n=n,
    )


def mean(values: Sequence[float]) -> Estimate:
    """A mean with the normal-approximation interval (mean ± 1.96 standard errors); with
    one value the interval is that value."""
    n = len(values)
    if n == 0:
        return Estimate(value=math.nan, low=math.nan, high=math.nan, n=0)
    m = math.fsum(values) / n
    if n == 1:
        return Estimate(value=round(m, 6), low=round(m, 6), high=round(m, 6), n=1)
    var = math.fsum((v - m) ** 2 for v in values) / (n - 1)
    half = Z95 * math.sqrt(var / n)
    return Estimate(value=round(m, 6), low=round(m - half, 6), high=round(m + half, 6), n=n)
