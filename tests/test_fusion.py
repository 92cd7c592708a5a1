"""Fusion of the lexical and dense legs (dasan/index/fusion.py)."""

from __future__ import annotations

import pytest

from dasan.index.fusion import (
    COVERAGE_MID,
    LENGTH_FROM,
    LENGTH_SPAN,
    adaptive_alpha,
    convex,
    lexical_coverage,
    rrf,
)
from dasan.index.lexical import Bm25Matrix


def test_convex_normalises_each_leg() -> None:
    lex = [(1, 10.0), (2, 5.0)]
    den = [(2, 0.9), (3, 0.8)]
    fused = convex(lex, den, 0.5, dense_floor=0.7)
    scores = {r: s for r, s, _ in fused}
    assert scores[1] == pytest.approx(0.5)  # BM25 best (1.0), not among the dense candidates
    assert scores[2] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)
    assert scores[3] == pytest.approx(0.5 * 0.5)  # halfway between the floor and the best cosine
    assert [r for r, _, _ in fused] == [2, 1, 3]
    assert dict(fused[0][2]) == {"bm25": 5.0, "dense": 0.9}


def test_convex_extremes_follow_one_leg() -> None:
    lex = [(1, 3.0), (2, 2.0), (3, 1.0)]
    den = [(3, 0.9), (2, 0.8), (1, 0.75)]
    assert [r for r, _, _ in convex(lex, den, 1.0, 0.7)] == [1, 2, 3]
    assert [r for r, _, _ in convex(lex, den, 0.0, 0.7)] == [3, 2, 1]


def test_rrf_rewards_agreement() -> None:
    fused = rrf({"a": [(1, 9.0), (2, 8.0)], "b": [(2, 0.9), (3, 0.8)]})
    assert fused[0][0] == 2 and fused[0][2] == {"a": 8.0, "b": 0.9}


def test_lexical_coverage_is_the_idf_share_present() -> None:
    bm = Bm25Matrix([["철도", "운임"], ["운임", "요금", "인상"], ["청년", "정책"]])
    idf = {t: float(bm.idf[bm.vocab[t]]) for t in bm.vocab}
    cov = lexical_coverage(bm.matrix, bm.vocab, bm.idf, ["운임", "인상", "없는말"], 1)
    assert cov == pytest.approx(1.0)  # document 1 holds both indexed terms
    cov0 = lexical_coverage(bm.matrix, bm.vocab, bm.idf, ["운임", "인상"], 0)
    assert cov0 == pytest.approx(idf["운임"] / (idf["운임"] + idf["인상"]))
    assert lexical_coverage(bm.matrix, bm.vocab, bm.idf, ["운임", "운임", "인상"], 0) == pytest.approx(cov0)
    assert lexical_coverage(bm.matrix, bm.vocab, bm.idf, ["없는말"], 0) == 0.0
    assert lexical_coverage(bm.matrix, bm.vocab, bm.idf, [], 0) == 0.0


def test_adaptive_alpha_moves_with_coverage_and_length() -> None:
    base = adaptive_alpha(0.4, COVERAGE_MID, LENGTH_FROM, 0.2, 0.5)
    assert base == pytest.approx(0.4)
    assert adaptive_alpha(0.4, 1.0, 30, 0.2, 0.5) == pytest.approx(0.5)  # a fully covered short question
    assert adaptive_alpha(0.4, 0.0, 30, 0.2, 0.5) == pytest.approx(0.3)  # a paraphrase: more dense
    half = adaptive_alpha(0.4, COVERAGE_MID, LENGTH_FROM + LENGTH_SPAN // 2, 0.2, 0.5)
    assert half == pytest.approx(0.65)
    assert adaptive_alpha(0.4, 1.0, 5000, 0.2, 0.5) == pytest.approx(0.9)  # clipped at hi
    assert adaptive_alpha(0.05, 0.0, 10, 0.2, 0.0) == pytest.approx(0.1)  # clipped at lo
    assert adaptive_alpha(0.3, 0.9, 5000, 0.0, 0.0) == pytest.approx(0.3)  # gains 0: fixed share


def test_covered_question_lets_a_sure_lexical_leg_win() -> None:
    """A question whose words all occur in one document: BM25 is sure (one clear best), the
    dense leg prefers another document by a little. The fixed dense-heavy share loses the
    document; the adaptive share for a covered question keeps it."""
    lex = [(1, 12.0), (2, 6.0)]
    den = [(2, 0.86), (1, 0.84)]
    fixed = convex(lex, den, 0.3, dense_floor=0.80)
    assert fixed[0][0] == 2
    alpha = adaptive_alpha(0.4, 1.0, 30, 0.2, 0.5)
    assert convex(lex, den, alpha, dense_floor=0.80)[0][0] == 1
