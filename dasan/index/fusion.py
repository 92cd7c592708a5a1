"""Combining ranked lists from several retrieval legs.

:func:`convex` mixes the legs' normalised scores with a lexical share ``alpha``;
:func:`adaptive_alpha` chooses that share per question. Two things say how far the BM25 leg
can be trusted for a question, and neither needs the answer:

- **coverage**: the share of the question's idf mass that the best lexical candidate contains
  (:func:`lexical_coverage`). A question written with the document's own words (an outside
  document, a quoted term, a name) is covered almost whole and BM25 ranks it well; an
  everyday paraphrase of a statute is covered by a third and the dense leg carries it;
- **length**: a long situational question holds many words the answer shares, which BM25
  adds up, while a small embedding model sees a bounded excerpt of it.

Development sets (law_qa_dev, law_defs, realqa_dev, press_qa_dev, KorQuAD slices) chose the
constants; docs/benchmarks.md has the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: Questions longer than this many characters start to shift weight to BM25 …
LENGTH_FROM = 60
#: … fully (``length_gain``) this many characters later.
LENGTH_SPAN = 200
#: Coverage at which the coverage term is zero.
COVERAGE_MID = 0.5


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


def convex(lexical: Sequence[tuple[int, float]], dense: Sequence[tuple[int, float]], alpha: float,
           dense_floor: float) -> list[tuple[int, float, dict[str, float]]]:
    """Convex combination of max-normalised BM25 and dense similarity above a floor.

    BM25 scores are divided by the query's best score; cosines are rescaled so that the floor
    (a high percentile of all chunks' similarity to the query) maps to 0 and the best candidate
    to 1. Unlike rank fusion, a leg that is very sure (a clear best match) keeps that margin.
    """
    lex = dict(lexical)
    den = dict(dense)
    top_l = max(lex.values(), default=0.0) or 1.0
    top_d = max(den.values(), default=dense_floor)
    span = max(top_d - dense_floor, 1e-6)
    fused = []
    for r in set(lex) | set(den):
        b = lex.get(r, 0.0) / top_l
        d = max(0.0, (den[r] - dense_floor) / span) if r in den else 0.0
        legs = {k: v for k, v in (("bm25", lex.get(r)), ("dense", den.get(r))) if v is not None}
        fused.append((r, alpha * b + (1 - alpha) * d, legs))
    fused.sort(key=lambda x: (-x[1], x[0]))
    return fused


def lexical_coverage(matrix, vocab: Mapping[str, int], idf: np.ndarray, tokens: Sequence[str], row: int) -> float:
    """The share of the idf mass of the distinct ``tokens`` (those in ``vocab``) that occur in
    document ``row`` of a BM25 ``matrix`` (documents × terms, sparse): 1 when the document holds
    every query term, 0 when none (or the query has no indexed term)."""
    cols = np.fromiter(dict.fromkeys(vocab[t] for t in tokens if t in vocab), dtype=np.int64)
    if cols.size == 0 or row < 0:
        return 0.0
    weights = idf[cols]
    total = float(weights.sum())
    if total <= 0:
        return 0.0
    present = np.asarray(matrix[:, cols][row].toarray()).ravel() > 0
    return float(weights[present].sum()) / total


def adaptive_alpha(base: float, coverage: float, chars: int, coverage_gain: float, length_gain: float,
                   lo: float = 0.1, hi: float = 0.9) -> float:
    """The lexical share for one question: ``base``, plus ``coverage_gain`` per unit of
    coverage above :data:`COVERAGE_MID`, plus up to ``length_gain`` for a long question
    (linear from :data:`LENGTH_FROM` characters over :data:`LENGTH_SPAN`), kept in [lo, hi]."""
    long = min(max((chars - LENGTH_FROM) / LENGTH_SPAN, 0.0), 1.0)
    alpha = base + coverage_gain * (coverage - COVERAGE_MID) + length_gain * long
    return min(max(alpha, lo), hi)
