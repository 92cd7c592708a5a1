"""A learned final ranking stage: the hybrid's ranking combined with the archive's evidence.

For a question, the candidates are the hybrid's best articles plus the articles that close
archive neighbours cite (:mod:`dasan.learn.memory`); each gets a feature vector and a logistic
model, trained on the archive (:mod:`dasan.learn.train`), gives the probability that the article
is one an official answer would cite. The weights of the hybrid's own features are constrained
non-negative, so where the archive has no evidence the hybrid's order is kept exactly (press
releases, other document kinds). The top probability is also an answerability signal.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dasan.learn.memory import AnswerMemory, Evidence
from dasan.rag.query import statute_family

FEATURES = (
    "hybrid_score",  # fused score / best fused score (0 when not among the hybrid's candidates)
    "hybrid_rr",  # 1 / hybrid rank
    "hybrid_in",  # among the hybrid's candidates
    # The archive's evidence counts only as far as the hybrid's own top 10 are about the same
    # statute family (법·시행령·시행규칙): an archive of labour questions must not pull a labour
    # article above railway articles for a railway question.
    "lex_vote_x_family",  # share of lexical-neighbour weight citing the article × family share
    "dense_vote_x_family",  # share of dense-neighbour weight citing the article × family share
    "best_cos_x_family",  # closeness of the nearest neighbour citing it × family share
    "lex_vote_x_familiar_x_family",  # … × how close the nearest archive question is at all
    "dense_vote_x_familiar_x_family",
    "lex_vote_x_lex_strength_x_family",  # … × best archive BM25 per query token
)
MONOTONE = ("hybrid_score", "hybrid_rr", "hybrid_in")  # weights kept ≥ 0
DEPTH = 30  # hybrid candidates re-ranked (the rest keep their order after them)
MEMORY_CANDIDATES = 20  # articles added from the archive's evidence

Ranked = tuple[int, float, dict[str, float]]


def family_of(article: str) -> str:
    """``근로기준법 시행령 제3조`` → ``근로기준법`` (the statute family, spaces removed)."""
    return statute_family(article.rsplit(" 제", 1)[0]) if article else ""


def _closeness(cos: float) -> float:
    return min(1.0, max(0.0, (cos - 0.7) / 0.3))


@dataclass(frozen=True)
class Gate:
    """How much the archive's evidence counts for a question: 0 below ``low``, 1 above ``high``
    (the cosine of the question's nearest archive question). Both are set at training time from the
    archive itself — ``high`` is the 25th percentile of its questions' nearest-neighbour cosine
    (leave-one-out), ``low`` twice the 5th–25th spread below it — so a question the archive does
    not resemble as much as its own questions resemble each other is ranked by the hybrid alone."""

    low: float = 0.0
    high: float = 0.0

    def __call__(self, top_cos: float) -> float:
        if self.high <= self.low:
            return 1.0
        return min(1.0, max(0.0, (top_cos - self.low) / (self.high - self.low)))

    @classmethod
    def from_neighbour_cosines(cls, cos: np.ndarray) -> Gate:
        if cos.size < 20:
            return cls()
        q05, q25 = (float(v) for v in np.quantile(cos, [0.05, 0.25]))
        return cls(q25 - 2 * (q25 - q05), q25)


def features(fused: Sequence[Ranked], article_of: Callable[[int], str], ev: Evidence,
             article_row: Callable[[str], int | None], allowed: Callable[[int], bool],
             depth: int = DEPTH, gate: Gate | None = None) -> tuple[list[int], list[str], np.ndarray, dict[int, float]]:
    """Candidate rows, their article keys, the feature matrix, and each row's hybrid score."""
    g = gate(ev.top_cos) if gate is not None and ev.dense else 1.0
    head = list(fused[:depth])
    top = head[0][1] if head and head[0][1] > 0 else 1.0
    rows, keys, hyb = [], [], {}
    for rank, (row, score, _) in enumerate(head, 1):
        rows.append(row)
        keys.append(article_of(row))
        hyb[row] = (score / top, 1.0 / rank)
    present = {k for k in keys if k}
    for a in ev.articles()[:MEMORY_CANDIDATES] if g > 0 else ():
        if a in present:
            continue
        row = article_row(a)
        if row is None or not allowed(row):
            continue
        rows.append(row)
        keys.append(a)
        present.add(a)
    fams = [family_of(a) for a in keys]
    top10 = [f for f in fams[: min(10, len(head))] if f]
    fam_share = {f: top10.count(f) / 10.0 for f in set(top10)}
    familiar = _closeness(ev.top_cos)
    lex_strength = min(1.0, ev.top_lex / 10.0)
    x = np.zeros((len(rows), len(FEATURES)), dtype=np.float64)
    for i, (row, a) in enumerate(zip(rows, keys, strict=True)):
        hs, rr = hyb.get(row, (0.0, 0.0))
        lv, dv = ev.lex.get(a, 0.0), ev.dense.get(a, 0.0)
        fs = fam_share.get(fams[i], 0.0) * g
        bc = _closeness(ev.best_cos.get(a, 0.0))
        x[i] = (hs, rr, float(row in hyb), lv * fs, dv * fs, bc * fs, lv * familiar * fs, dv * familiar * fs,
                lv * lex_strength * fs)
    return rows, keys, x, {r: v[0] for r, v in hyb.items()}


@dataclass
class LogisticModel:
    weights: np.ndarray
    bias: float
    gate: Gate = Gate()

    def logit(self, x: np.ndarray) -> np.ndarray:
        return x @ self.weights + self.bias

    def proba(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(x)))

    def to_json(self) -> dict:
        return {"features": list(FEATURES), "weights": [float(w) for w in self.weights], "bias": self.bias,
                "gate": {"low": self.gate.low, "high": self.gate.high}}

    @classmethod
    def from_json(cls, obj: dict) -> LogisticModel:
        if list(obj.get("features", [])) != list(FEATURES):
            from dasan.errors import ConfigError

            raise ConfigError("학습된 순위 모델의 특성 목록이 이 버전의 Dasan과 다릅니다. `dasan train`으로 다시 학습하세요.")
        gate = obj.get("gate") or {}
        return cls(np.asarray(obj["weights"], dtype=np.float64), float(obj["bias"]),
                   Gate(float(gate.get("low", 0.0)), float(gate.get("high", 0.0))))


def fit(groups: list[tuple[np.ndarray, np.ndarray]], l2: float = 1e-3, listwise: float = 1.0) -> LogisticModel:
    """Fit on per-question (features, labels): pointwise logistic loss (calibrated probabilities)
    plus, for questions with a cited article among the candidates, a listwise softmax loss (the
    cited article ranked first). L-BFGS-B from scipy; hybrid weights bounded at ≥ 0."""
    from scipy.optimize import minimize

    xs = np.vstack([x for x, _ in groups]) if groups else np.zeros((0, len(FEATURES)))
    ys = np.concatenate([y for _, y in groups]) if groups else np.zeros(0)
    n = max(len(ys), 1)
    bounds = [(0.0, None) if f in MONOTONE else (None, None) for f in FEATURES] + [(None, None)]
    pos_groups = [(x, y) for x, y in groups if y.any()]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        z = xs @ w + b
        p = 1.0 / (1.0 + np.exp(-z))
        eps = 1e-12
        val = -np.sum(ys * np.log(p + eps) + (1 - ys) * np.log(1 - p + eps)) / n
        g = np.append(xs.T @ (p - ys) / n, np.sum(p - ys) / n)
        if listwise and pos_groups:
            lv, lg = 0.0, np.zeros_like(w)
            for x, y in pos_groups:
                s = x @ w
                s = s - s.max()
                e = np.exp(s)
                soft = e / e.sum()
                target = y / y.sum()
                lv += -float(np.sum(target * np.log(soft + 1e-12)))
                lg += x.T @ (soft - target)
            val += listwise * lv / len(pos_groups)
            g[:-1] += listwise * lg / len(pos_groups)
        val += l2 * float(w @ w)
        g[:-1] += 2 * l2 * w
        return val, g

    theta0 = np.zeros(len(FEATURES) + 1)
    theta0[0] = 1.0
    res = minimize(loss, theta0, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 500})
    return LogisticModel(res.x[:-1].copy(), float(res.x[-1]))


class LearnedRanker:
    """A trained model loaded for search: the memory, the logistic weights and the manifest."""

    def __init__(self, name: str, directory: Path, memory: AnswerMemory, model: LogisticModel,
                 manifest: dict) -> None:
        self.name = name
        self.directory = directory
        self.memory = memory
        self.model = model
        self.manifest = manifest

    @classmethod
    def load(cls, directory: Path) -> LearnedRanker:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        model = LogisticModel.from_json(json.loads((directory / "ranker.json").read_text(encoding="utf-8")))
        return cls(manifest.get("name", directory.name), directory, AnswerMemory.load(directory), model, manifest)

    def rerank(self, fused: list[Ranked], q_tokens: Sequence[str], qv: np.ndarray | None,
               article_of: Callable[[int], str], article_row: Callable[[str], int | None],
               allowed: Callable[[int], bool], exclude: Collection[int] = ()) -> list[Ranked]:
        ev = self.memory.evidence(q_tokens, qv, exclude)
        rows, _keys, x, _ = features(fused, article_of, ev, article_row, allowed, gate=self.model.gate)
        if not rows:
            return fused
        p = self.model.proba(x)
        legs_of = {r: legs for r, _, legs in fused}
        order = sorted(range(len(rows)), key=lambda i: (-p[i], i))
        head = []
        for i in order:
            legs = dict(legs_of.get(rows[i], {}))
            vote = float(x[i, FEATURES.index("lex_vote_x_family")] + x[i, FEATURES.index("dense_vote_x_family")])
            if vote:
                legs["archive"] = vote
            head.append((rows[i], float(p[i]), legs))
        taken = set(rows)
        low = min((s for _, s, _ in head), default=0.0)
        tail = [(r, low * math.exp(-0.01 * (i + 1)), legs) for i, (r, _, legs) in enumerate(fused)
                if r not in taken]
        return head + tail
