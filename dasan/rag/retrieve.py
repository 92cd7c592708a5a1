"""Search over the store: filters applied inside each leg before the top-k cut."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dasan.index.lexical import LexicalIndex, top_k
from dasan.korean.tokenize import kiwi
from dasan.store.base import Store
from dasan.types import Hit


@dataclass
class SearchFilter:
    collection: str | None = None
    kinds: tuple[str, ...] | None = None


class Retriever:
    def __init__(self, store: Store, data_dir: Path) -> None:
        self.store = store
        self.lexical = LexicalIndex(data_dir / "index")
        self._rows: list = []

    def refresh(self) -> None:
        self._rows = self.store.index_rows()
        self.lexical.sync([(r["id"], f"{r['context']}\n{r['text']}") for r in self._rows])
        self._collections = np.array([r["collection"] for r in self._rows], dtype=object)
        self._kinds = np.array([r["kind"] for r in self._rows], dtype=object)

    def _mask(self, flt: SearchFilter | None) -> np.ndarray | None:
        if flt is None:
            return None
        mask = np.ones(len(self._rows), dtype=bool)
        if flt.collection:
            mask &= self._collections == flt.collection
        if flt.kinds:
            mask &= np.isin(self._kinds, list(flt.kinds))
        return mask

    def search(self, query: str, k: int = 10, flt: SearchFilter | None = None) -> list[Hit]:
        self.refresh()
        ranked = top_k(self.lexical.scores(query), k, self._mask(flt))
        ids = [self._rows[i]["id"] for i, _ in ranked]
        chunks = {c.id: c for c in self.store.get_chunks(ids)}
        terms = set(self.lexical.tokenizer(query))
        hits = []
        for rank, (i, score) in enumerate(ranked, 1):
            c = chunks[self._rows[i]["id"]]
            hits.append(Hit(chunk=c, score=score, rank=rank, snippet=snippet(c.text, terms),
                            scores={"bm25": score}))
        return hits


def snippet(text: str, terms: set[str], width: int = 160) -> str:
    """A window of ``text`` around the densest query-term region, terms wrapped in 【】."""
    flat = re.sub(r"\s+", " ", text).strip()
    if not terms:
        return flat[:width]
    # Locate occurrences of the surface forms of matched morphemes.
    spans = []
    for tok in kiwi().tokenize(flat):
        if tok.form in terms:
            spans.append((tok.start, tok.start + tok.len))
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
