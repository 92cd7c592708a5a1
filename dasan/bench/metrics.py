"""Ranking metrics over article- or document-level relevance.

A gold entry is either a statute citation (``철도안전법 시행령 제60조의6``) or, when it names no
article, a **document**: the stem of a source file (``"105459"`` for
``../data/press-moe/105459.hwpx``). A result hits a citation gold when its citation names the
same statute and article (:func:`article_key`), and a document gold when its document's
source-file stem is that name.

Ranked lists are per statute article for statutes (the retriever returns one chunk per
article) and per document for every other kind: several chunks of one press release are
collapsed into its first, so Recall@5 of a press question counts five distinct releases.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np

from dasan.types import article_key

_CITATION_RE = re.compile(r"제\d+조(?:의\d+)?(?=\s|$)")


def is_article_citation(entry: str) -> bool:
    """``철도안전법 제41조``: a gold entry naming a statute article (else it names a document)."""
    return bool(_CITATION_RE.search(entry.strip()))


def source_stem(source_path: str | None) -> str:
    """``/…/press-moe/105459.hwpx`` → ``105459`` (empty when unknown)."""
    return PurePath(source_path).stem if source_path else ""


@dataclass(frozen=True)
class Result:
    """One retrieved chunk as the metrics see it: its citation label, its document's
    source-file stem and its document kind (``law`` ranks per article)."""

    citation: str
    stem: str = ""
    kind: str = ""

    @property
    def unit(self) -> str:
        """The ranking unit: the article for a statute chunk (or a bare label), else the document."""
        if self.kind == "law" or not self.stem:
            return "article:" + article_key(self.citation)
        return "doc:" + self.stem


def _as_result(r: str | Result | tuple[str, ...]) -> Result:
    if isinstance(r, Result):
        return r
    if isinstance(r, tuple):
        return Result(*r)
    return Result(r)


def hits_gold(r: str | Result | tuple[str, ...], gold_entry: str) -> bool:
    """Whether a result hits one gold entry (article rule or document-stem rule)."""
    res = _as_result(r)
    g = gold_entry.strip()
    if is_article_citation(g):
        return article_key(res.citation) == article_key(g)
    return bool(res.stem) and res.stem == g


def collapse(results: Sequence[str | Result | tuple[str, ...]]) -> list[Result]:
    """Results reduced to their first chunk per document, in rank order. Statute results are
    left as they are: the retriever already returns one chunk per article (as before)."""
    seen: set[str] = set()
    out: list[Result] = []
    for r in map(_as_result, results):
        unit = r.unit
        if unit.startswith("doc:"):
            if unit in seen:
                continue
            seen.add(unit)
        out.append(r)
    return out


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


def score_query(ranked_results: Sequence[str | Result | tuple[str, ...]], gold: Sequence[str]) -> dict[str, float]:
    """Metrics of one question. ``ranked_results`` are citation labels (statutes) or
    :class:`Result` / ``(citation, stem[, kind])`` tuples; they are collapsed to one entry per article
    or document before ranks are counted."""
    ranked = collapse(ranked_results)
    # statute entries by article (two gold paragraphs of one article are one gold article)
    gold_entries = list(dict.fromkeys(article_key(g) if is_article_citation(g) else g.strip() for g in gold))
    # Each ranked unit is named by the first gold entry it hits (or by itself when it hits none).
    names = [next((g for g in gold_entries if hits_gold(r, g)), "\0" + r.unit) for r in ranked]
    g = set(gold_entries)
    return {
        "recall@1": recall_at(names, g, 1),
        "recall@5": recall_at(names, g, 5),
        "recall@10": recall_at(names, g, 10),
        "mrr@10": mrr_at(names, g, 10),
        "ndcg@10": ndcg_at(names, g, 10),
    }
