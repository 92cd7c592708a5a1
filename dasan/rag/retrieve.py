"""Hybrid search over the store: Kiwi BM25 + dense embeddings, fused.

Filters are turned into one boolean mask over the indexed chunks and applied inside each leg
before its top-k cut, so a filtered-out chunk can never push a permitted one out of the results.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from dasan.index.fusion import rrf
from dasan.index.lexical import LexicalIndex, top_k
from dasan.korean.tokenize import kiwi
from dasan.store.base import Store
from dasan.types import Hit

Mode = Literal["hybrid", "lexical", "dense"]


@dataclass
class SearchFilter:
    collection: str | None = None
    kinds: tuple[str, ...] | None = None


@dataclass
class RetrievalConfig:
    embedder: str | None = None  # None: lexical only (set to "e5" once embedders land)
    depth: int = 50  # candidates taken from each leg before fusion
    k0: float = 60.0
    weights: dict[str, float] = field(default_factory=lambda: {"bm25": 1.0, "dense": 1.0})


class Retriever:
    def __init__(self, store: Store, data_dir: Path, config: RetrievalConfig | None = None) -> None:
        self.store = store
        self.config = config or RetrievalConfig()
        self.index_dir = data_dir / "index"
        self.lexical = LexicalIndex(self.index_dir)
        self._dense = None
        self._rows: list = []
        self._fp = ""
        self._generation = -1
        self.timings_ms: dict[str, float] = {}

    @property
    def dense(self):
        if self._dense is None and self.config.embedder:
            from dasan.index.dense import DenseIndex
            from dasan.index.embed import get_embedder

            self._dense = DenseIndex(self.index_dir, get_embedder(self.config.embedder))
        return self._dense

    @staticmethod
    def index_text(row) -> str:
        return f"{row['context']}\n{row['text']}" if row["context"] else row["text"]

    def refresh(self, progress=None) -> None:
        """Bring every leg in step with the store (only new chunks are processed)."""
        gen = self.store.generation()
        if gen == self._generation:
            return
        rows = self.store.index_rows()
        fp = LexicalIndex.fingerprint_of([r["id"] for r in rows])
        self._generation = gen
        if fp == self._fp:
            return
        pairs = [(r["id"], self.index_text(r)) for r in rows]
        self.lexical.sync(pairs, progress=progress)
        if self.dense is not None:
            self.dense.sync(pairs, progress=progress)
        self._rows = rows
        self._collections = np.array([r["collection"] for r in rows], dtype=object)
        self._kinds = np.array([r["kind"] for r in rows], dtype=object)
        self._fp = fp

    def _mask(self, flt: SearchFilter | None) -> np.ndarray | None:
        if flt is None or (not flt.collection and not flt.kinds):
            return None
        mask = np.ones(len(self._rows), dtype=bool)
        if flt.collection:
            mask &= self._collections == flt.collection
        if flt.kinds:
            mask &= np.isin(self._kinds, list(flt.kinds))
        return mask

    def rank(self, query: str, k: int = 10, flt: SearchFilter | None = None,
             mode: Mode = "hybrid") -> list[tuple[int, float, dict[str, float]]]:
        """Ranked ``(row, score, per_leg_scores)`` for ``query``; rows index :attr:`rows`."""
        self.refresh()
        mask = self._mask(flt)
        depth = max(k, self.config.depth)
        legs: dict[str, list[tuple[int, float]]] = {}
        t = time.perf_counter()
        if mode in ("hybrid", "lexical"):
            legs["bm25"] = top_k(self.lexical.scores(query), depth if mode == "hybrid" else k, mask)
        t_lex = time.perf_counter()
        if mode in ("hybrid", "dense") and self.dense is not None:
            qv = self.dense.embed_query(query)
            legs["dense"] = self.dense.search_vector(qv, depth if mode == "hybrid" else k, mask)
        t_dense = time.perf_counter()
        self.timings_ms = {"bm25": (t_lex - t) * 1000, "dense": (t_dense - t_lex) * 1000}
        if len(legs) == 1:
            [(name, ranked)] = legs.items()
            return [(r, s, {name: s}) for r, s in ranked[:k]]
        return rrf(legs, self.config.weights, self.config.k0)[:k]

    def search(self, query: str, k: int = 10, flt: SearchFilter | None = None, mode: Mode = "hybrid") -> list[Hit]:
        ranked = self.rank(query, k, flt, mode)
        ids = [self._rows[r]["id"] for r, _, _ in ranked]
        chunks = {c.id: c for c in self.store.get_chunks(ids)}
        terms = set(self.lexical.tokenizer(query))
        return [
            Hit(chunk=chunks[cid], score=score, rank=i, snippet=snippet(chunks[cid].text, terms), scores=legs)
            for i, ((_, score, legs), cid) in enumerate(zip(ranked, ids, strict=True), 1)
        ]

    @property
    def rows(self) -> list:
        return self._rows


def snippet(text: str, terms: set[str], width: int = 160) -> str:
    """A window of ``text`` around the densest query-term region, terms wrapped in 【】."""
    flat = re.sub(r"\s+", " ", text).strip()
    if not terms:
        return flat[:width]
    spans = [(tok.start, tok.start + tok.len) for tok in kiwi().tokenize(flat) if tok.form in terms]
    if not spans:
        return flat[:width]
    best_start, best_n = 0, -1
    for s, _ in spans:
        n = sum(1 for a, _ in spans if s <= a < s + width)
        if n > best_n:
            best_start, best_n = s, n
    start = max(0, best_start - width // 4)
    end = min(len(flat), start + width)
    out, pos = [], start
    for a, b in sorted(spans):
        if a < start or b > end or a < pos:
            continue
        out.append(flat[pos:a])
        out.append(f"【{flat[a:b]}】")
        pos = b
    out.append(flat[pos:end])
    return ("…" if start > 0 else "") + "".join(out) + ("…" if end < len(flat) else "")
