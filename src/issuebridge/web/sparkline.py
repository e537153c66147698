"""The points of a board's sparkline (``templates/_parts.html`` ``trend_line``): its row counts
over its last syncs, drawn on the server as an SVG polyline."""

from __future__ import annotations

from collections.abc import Sequence

WIDTH = 80
HEIGHT = 20


def sparkline_points(counts: Sequence[int], width: int = WIDTH, height: int = HEIGHT) -> str:
    """``x,y`` pairs, oldest at the left, the largest count at the top and the smallest at the
    bottom (a flat line in the middle when all are equal); "" for fewer than two counts."""
    if len(counts) < 2:
        return ""
    low, high = min(counts), max(counts)
    step = width / (len(counts) - 1)

    def y(count: int) -> float:
        return height / 2 if high == low else height - (count - low) * height / (high - low)

    return " ".join(f"{i * step:.1f},{y(count):.1f}" for i, count in enumerate(counts))
