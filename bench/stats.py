"""Percentiles and rates from raw samples."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; nan for no samples."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def rate(count: int, first: float, last: float) -> float:
    """Events per second between the first and the last of `count` timestamps."""
    if count < 2 or last <= first:
        return float("nan")
    return (count - 1) / (last - first)


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline else float("nan")
