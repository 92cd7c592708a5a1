"""BM25 over Kiwi morphemes, persisted on disk and kept in step with the store.

Tokenising Korean is the expensive part, so tokens are cached per chunk id (content-addressed)
in ``lexical.db``; adding documents tokenises only the new chunks, removing documents drops
theirs. The BM25 weight matrix is derived from the cached tokens and saved beside them,
keyed by a fingerprint of the chunk set, so a search after an unchanged store loads it as is.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from dasan.korean.tokenize import tokenize_many, tokenize_query
from dasan.sqliteutil import retry_locked

Tokenizer = Callable[[str], list[str]]
BatchTokenizer = Callable[[list[str]], list[list[str]]]


@dataclass
class Bm25Params:
    k1: float = 1.2
    b: float = 0.75


class Bm25Matrix:
    """An in-memory BM25 index over token lists: rows = documents, columns = terms."""

    def __init__(self, docs: Sequence[Sequence[str]], params: Bm25Params | None = None) -> None:
        self.params = params or Bm25Params()
        vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        lengths = np.zeros(len(docs), dtype=np.float32)
        for i, toks in enumerate(docs):
            lengths[i] = len(toks)
            for term, tf in Counter(toks).items():
                j = vocab.setdefault(term, len(vocab))
                rows.append(i)
                cols.append(j)
                tfs.append(tf)
        self.vocab = vocab
        n = len(docs)
        tf_arr = np.asarray(tfs, dtype=np.float32)
        col_arr = np.asarray(cols, dtype=np.int64)
        row_arr = np.asarray(rows, dtype=np.int64)
        df = np.bincount(col_arr, minlength=len(vocab)).astype(np.float32) if len(vocab) else np.zeros(0)
        self.idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        avgdl = float(lengths.mean()) if n else 1.0
        k1, b = self.params.k1, self.params.b
        denom = tf_arr + k1 * (1 - b + b * lengths[row_arr] / max(avgdl, 1e-9))
        w = tf_arr * (k1 + 1) / denom * self.idf[col_arr] if len(vocab) else tf_arr
        self.matrix = sparse.csc_matrix(
            (w, (row_arr, col_arr)), shape=(n, max(len(vocab), 1)), dtype=np.float32
        )
        self.n = n

    @classmethod
    def from_arrays(cls, matrix: sparse.csc_matrix, vocab: dict[str, int], idf: np.ndarray) -> Bm25Matrix:
        self = cls.__new__(cls)
        self.params = Bm25Params()
        self.matrix, self.vocab, self.idf, self.n = matrix, vocab, idf, matrix.shape[0]
        return self

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every document (zeros where no query term occurs)."""
        q = Counter(t for t in query_tokens if t in self.vocab)
        if not q or self.n == 0:
            return np.zeros(self.n, dtype=np.float32)
        idx = np.fromiter((self.vocab[t] for t in q), dtype=np.int64)
        weights = np.fromiter(q.values(), dtype=np.float32)
        return np.asarray(self.matrix[:, idx] @ weights).ravel()


def top_k(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
    """Indices and scores of the ``k`` best positive scores, restricted to ``mask`` *before* the cut."""
    s = scores if mask is None else np.where(mask, scores, -np.inf)
    positive = np.flatnonzero(s > 0)
    if positive.size == 0:
        return []
    if positive.size > k:
        part = np.argpartition(-s[positive], k - 1)[:k]
        positive = positive[part]
    order = positive[np.argsort(-s[positive], kind="stable")]
    return [(int(i), float(s[i])) for i in order]


class LexicalIndex:
    """BM25 over chunk texts of one store, with a persistent per-chunk token cache."""

    def __init__(
        self,
        index_dir: Path,
        *,
        tokenizer: Tokenizer = tokenize_query,
        batch_tokenizer: BatchTokenizer = tokenize_many,
        name: str = "kiwi",
    ) -> None:
        self.dir = index_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.tokenizer = tokenizer
        self.batch_tokenizer = batch_tokenizer
        self._db = sqlite3.connect(self.dir / f"{name}-tokens.db", check_same_thread=False)
        retry_locked(lambda: self._db.execute("PRAGMA journal_mode=WAL"))
        retry_locked(lambda: self._db.execute(
            "CREATE TABLE IF NOT EXISTS tokens (chunk_id TEXT PRIMARY KEY, tokens TEXT NOT NULL)"
        ))
        self.chunk_ids: list[str] = []
        self.bm25: Bm25Matrix | None = None
        self.fingerprint = ""

    @staticmethod
    def fingerprint_of(chunk_ids: Sequence[str]) -> str:
        h = hashlib.sha256()
        for cid in chunk_ids:
            h.update(cid.encode())
            h.update(b"\n")
        return h.hexdigest()[:32]

    def prepare(self, chunks: Sequence[tuple[str, str]], progress: Callable[[int], None] | None = None) -> LexicalIndex:
        """A new state of this index for ``chunks`` (tokens cached, BM25 matrix built) without
        touching the one searches use; :meth:`publish` swaps it in. ``self`` when nothing changed."""
        if self.fingerprint_of([cid for cid, _ in chunks]) == self.fingerprint and self.bm25 is not None:
            return self
        new = copy.copy(self)
        new.sync(chunks, progress=progress)
        return new

    def publish(self, new: LexicalIndex) -> None:
        self.bm25, self.chunk_ids, self.fingerprint = new.bm25, new.chunk_ids, new.fingerprint

    def sync(
        self,
        chunks: Sequence[tuple[str, str]],
        batch: int = 256,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Bring the index in step with ``chunks`` = [(chunk_id, index_text)] in store order."""
        ids = [cid for cid, _ in chunks]
        fp = self.fingerprint_of(ids)
        if fp == self.fingerprint and self.bm25 is not None:
            return
        if self._load(fp):
            self.chunk_ids = ids
            return
        known = self.known_ids()
        todo = [(cid, text) for cid, text in chunks if cid not in known]
        for start in range(0, len(todo), batch):
            part = todo[start : start + batch]
            toks = self.batch_tokenizer([t for _, t in part])
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO tokens(chunk_id, tokens) VALUES (?, ?)",
                    [(cid, " ".join(tk)) for (cid, _), tk in zip(part, toks, strict=True)],
                )
            if progress:
                progress(len(part))
        wanted = set(ids)
        stale = known - wanted
        if stale:
            with self._db:
                self._db.executemany("DELETE FROM tokens WHERE chunk_id = ?", [(s,) for s in stale])
        token_map = {cid: toks for cid, toks in self._db.execute("SELECT chunk_id, tokens FROM tokens")}
        docs = [token_map[cid].split(" ") if token_map[cid] else [] for cid in ids]
        self.bm25 = Bm25Matrix(docs)
        self.chunk_ids = ids
        self.fingerprint = fp
        self._save(fp)

    def prewarm(self, chunks: Sequence[tuple[str, str]]) -> int:
        """Tokenise ``[(chunk_id, index_text)]`` into the token cache ahead of a :meth:`sync`
        (e.g. in an ingestion thread), so the sync only rebuilds the matrix. Uses its own
        connection; safe to call while another thread searches. Returns how many were added."""
        con = sqlite3.connect(self.dir / f"{self.name}-tokens.db", timeout=30)
        try:
            todo = [(cid, text) for cid, text in chunks
                    if con.execute("SELECT 1 FROM tokens WHERE chunk_id = ?", (cid,)).fetchone() is None]
            if todo:
                toks = self.batch_tokenizer([t for _, t in todo])
                with con:
                    con.executemany("INSERT OR REPLACE INTO tokens(chunk_id, tokens) VALUES (?, ?)",
                                    [(cid, " ".join(tk)) for (cid, _), tk in zip(todo, toks, strict=True)])
            return len(todo)
        finally:
            con.close()

    def known_ids(self) -> set[str]:
        """Chunk ids whose tokens are cached (their texts need not be fetched again)."""
        return {r[0] for r in self._db.execute("SELECT chunk_id FROM tokens")}

    def _paths(self) -> tuple[Path, Path]:
        return self.dir / f"{self.name}-bm25.npz", self.dir / f"{self.name}-bm25.json"

    def _save(self, fp: str) -> None:
        assert self.bm25 is not None
        npz, meta = self._paths()
        m = self.bm25.matrix
        tmp = npz.with_suffix(".tmp.npz")
        np.savez(
            tmp, data=m.data, indices=m.indices, indptr=m.indptr, shape=np.array(m.shape), idf=self.bm25.idf
        )
        tmp.replace(npz)
        tmpm = meta.with_suffix(".tmp")
        tmpm.write_text(json.dumps({"fingerprint": fp, "vocab": self.bm25.vocab}, ensure_ascii=False))
        tmpm.replace(meta)

    def _load(self, fp: str) -> bool:
        npz, meta = self._paths()
        try:
            info = json.loads(meta.read_text())
            if info.get("fingerprint") != fp:
                return False
            z = np.load(npz)
            m = sparse.csc_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
            self.bm25 = Bm25Matrix.from_arrays(m, info["vocab"], z["idf"])
            self.fingerprint = fp
            return True
        except (OSError, ValueError, KeyError, json.JSONDecodeError):
            return False

    def scores(self, query: str) -> np.ndarray:
        return self.scores_tokens(self.tokenizer(query))

    def scores_tokens(self, tokens: Sequence[str]) -> np.ndarray:
        if self.bm25 is None:
            return np.zeros(0, dtype=np.float32)
        return self.bm25.scores(tokens)

    def search(self, query: str, k: int = 10, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        return [(self.chunk_ids[i], s) for i, s in top_k(self.scores(query), k, mask)]

    def close(self) -> None:
        self._db.close()
