"""Pass-rate intervals and latency percentiles."""

from __future__ import annotations

from collections.abc import Sequence
from math import sqrt

Z95 = 1.96


def wilson(passed: int, runs: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for `passed` of `runs` (z = 1.96: 95 %); (0, 1) when nothing ran.

    Unlike the normal approximation it stays inside [0, 1] and is not zero-width at 0/n or n/n, which is where
    small local-model samples often land.
    """
    if runs <= 0:
        return 0.0, 1.0
    z2 = z * z
    centre = (passed + z2 / 2) / (runs + z2)
    half = z * sqrt(passed * (runs - passed) / runs + z2 / 4) / (runs + z2)
    return round(max(0.0, centre - half), 3), round(min(1.0, centre + half), 3)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between ranks; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
