"""The archive's answered questions as evidence for statute articles.

A new question is compared with the archive's questions two ways — Kiwi BM25 over their words and
e5 cosine over their embeddings — and each article cited by a close neighbour's official answer
collects a vote weighted by how close that neighbour is. Votes are features for the learned
ranker (:mod:`dasan.learn.ranker`), never a ranking on their own."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dasan.index.lexical import Bm25Matrix, top_k

NEIGHBOURS = 20  # per channel (lexical, dense)
TEMPERATURE = 0.05  # dense vote weight exp((cos - best cos) / T)


@dataclass
class Evidence:
    """Per-article votes for one question."""

    lex: dict[str, float]  # share of lexical neighbour weight citing the article
    dense: dict[str, float]  # share of dense neighbour weight citing the article
    best_cos: dict[str, float]  # cosine of the closest neighbour citing the article
    top_cos: float  # cosine of the closest neighbour at all (how familiar the question is)
    top_lex: float  # best BM25 score over the archive divided by the query's token count

    def articles(self) -> list[str]:
        return sorted(set(self.lex) | set(self.dense), key=lambda a: -(self.lex.get(a, 0) + self.dense.get(a, 0)))


class AnswerMemory:
    def __init__(self, ids: list[str], labels: list[list[str]], tokens: list[list[str]],
                 vectors: np.ndarray | None) -> None:
        self.ids = ids
        self.labels = labels
        self.tokens = tokens
        self.vectors = vectors if vectors is not None and len(vectors) else None
        self.bm25 = Bm25Matrix(tokens) if tokens else None
        self.row_of = {rid: i for i, rid in enumerate(ids)}

    def __len__(self) -> int:
        return len(self.ids)

    # persistence -------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        with (directory / "memory.jsonl").open("w", encoding="utf-8") as f:
            for rid, lab, tok in zip(self.ids, self.labels, self.tokens, strict=True):
                f.write(json.dumps({"id": rid, "labels": lab, "tokens": tok}, ensure_ascii=False) + "\n")
        if self.vectors is not None:
            np.save(directory / "memory-vectors.npy", self.vectors.astype(np.float32))

    @classmethod
    def load(cls, directory: Path) -> AnswerMemory:
        ids, labels, tokens = [], [], []
        with (directory / "memory.jsonl").open(encoding="utf-8") as f:
            for line in f:
                obj = json.loads(line)
                ids.append(obj["id"])
                labels.append(list(obj["labels"]))
                tokens.append(list(obj["tokens"]))
        vpath = directory / "memory-vectors.npy"
        vectors = np.load(vpath) if vpath.exists() else None
        if vectors is not None and len(vectors) != len(ids):
            vectors = None
        return cls(ids, labels, tokens, vectors)

    # evidence ----------------------------------------------------------------------------
    def evidence(self, q_tokens: Sequence[str], qv: np.ndarray | None,
                 exclude: Collection[int] = ()) -> Evidence:
        lex: dict[str, float] = {}
        dense: dict[str, float] = {}
        best: dict[str, float] = {}
        top_cos = 0.0
        top_lex = 0.0
        if self.bm25 is not None and q_tokens:
            scores = self.bm25.scores(q_tokens)
            if exclude:
                scores[list(exclude)] = 0.0
            nb = [(i, s) for i, s in top_k(scores, NEIGHBOURS) if s > 0]
            if nb:
                smax = nb[0][1]
                top_lex = smax / max(len(set(q_tokens)), 1)
                weights = [(i, (s / smax) ** 2) for i, s in nb]
                total = sum(w for _, w in weights)
                for i, w in weights:
                    for a in self.labels[i]:
                        lex[a] = lex.get(a, 0.0) + w / total
        if self.vectors is not None and qv is not None and qv.size == self.vectors.shape[1]:
            cos = self.vectors @ qv.astype(np.float32)
            if exclude:
                cos[list(exclude)] = -1.0
            order = np.argsort(-cos)[:NEIGHBOURS]
            top_cos = float(cos[order[0]]) if len(order) else 0.0
            ws = np.exp((cos[order] - top_cos) / TEMPERATURE)
            total = float(ws.sum()) or 1.0
            for i, w in zip(order, ws, strict=True):
                for a in self.labels[int(i)]:
                    dense[a] = dense.get(a, 0.0) + float(w) / total
                    best[a] = max(best.get(a, -1.0), float(cos[i]))
        return Evidence(lex, dense, best, top_cos, top_lex)
