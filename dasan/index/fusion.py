"""Combining ranked lists from several retrieval legs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def rrf(
    legs: Mapping[str, Sequence[tuple[int, float]]],
    weights: Mapping[str, float] | None = None,
    k0: float = 60.0,
) -> list[tuple[int, float, dict[str, float]]]:
    """Weighted reciprocal-rank fusion.

    ``legs`` maps a leg name to its ranked ``(row, score)`` list. Returns ``(row, fused, per_leg)``
    sorted by fused score, where ``per_leg`` holds each leg's raw score for that row.
    """
    fused: dict[int, float] = {}
    detail: dict[int, dict[str, float]] = {}
    for name, ranked in legs.items():
        w = 1.0 if weights is None else weights.get(name, 1.0)
        for rank, (row, score) in enumerate(ranked, 1):
            fused[row] = fused.get(row, 0.0) + w / (k0 + rank)
            detail.setdefault(row, {})[name] = score
    order = sorted(fused, key=lambda r: (-fused[r], r))
    return [(r, fused[r], detail[r]) for r in order]
