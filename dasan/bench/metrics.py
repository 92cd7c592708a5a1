"""Ranking metrics over article-level relevance."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from dasan.types import article_key


def recall_at(ranked: Sequence[str], gold: set[str], k: int) -> float:
    return 1.0 if any(r in gold for r in ranked[:k]) else 0.0


def mrr_at(ranked: Sequence[str], gold: set[str], k: int = 10) -> float:
    for i, r in enumerate(ranked[:k], 1):
        if r in gold:
            return 1.0 / i
    return 0.0


def ndcg_at(ranked: Sequence[str], gold: set[str], k: int = 10) -> float:
    """Binary nDCG where each gold article counts once (its first occurrence)."""
    seen: set[str] = set()
    dcg = 0.0
    for i, r in enumerate(ranked[:k], 1):
        if r in gold and r not in seen:
            seen.add(r)
            dcg += 1.0 / math.log2(i + 1)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(gold), k) + 1))
    return dcg / ideal if ideal else 0.0


def percentile(values: Sequence[float], p: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), p)) if values else float("nan")


def summarise(per_query: list[dict[str, float]], latencies_ms: list[float]) -> dict[str, float]:
    n = max(1, len(per_query))
    out = {m: round(sum(q[m] for q in per_query) / n, 4) for m in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")}
    out["p50_ms"] = round(percentile(latencies_ms, 50), 2)
    out["p95_ms"] = round(percentile(latencies_ms, 95), 2)
    return out


def score_query(ranked_citations: Sequence[str], gold: Sequence[str]) -> dict[str, float]:
    ranked = [article_key(c) for c in ranked_citations]
    g = {article_key(x) for x in gold}
    return {
        "recall@1": recall_at(ranked, g, 1),
        "recall@5": recall_at(ranked, g, 5),
        "recall@10": recall_at(ranked, g, 10),
        "mrr@10": mrr_at(ranked, g, 10),
        "ndcg@10": ndcg_at(ranked, g, 10),
    }
