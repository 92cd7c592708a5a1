"""Dense vector index over chunk embeddings.

Vectors are cached per chunk id (content-addressed) in ``dense-<model>.db``, so re-ingesting
unchanged text never re-embeds. Search is exact (one matrix product) up to
``hnsw_threshold`` chunks and uses a persisted usearch HNSW graph above it. Filters are applied
before the top-k cut in both modes: exact search masks the scores; HNSW search widens its
candidate list until enough permitted chunks are found and falls back to exact search over the
permitted subset when that subset is small.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from dasan.index.lexical import LexicalIndex, top_k

HNSW_THRESHOLD = 100_000


class DenseIndex:
    def __init__(
        self, index_dir: Path, embedder, *, hnsw_threshold: int = HNSW_THRESHOLD, batch: int = 32
    ) -> None:
        self.dir = index_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.embedder = embedder
        self.batch = batch
        self.hnsw_threshold = hnsw_threshold
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in embedder.name)
        self.key = safe
        self._db = sqlite3.connect(self.dir / f"dense-{safe}.db", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (chunk_id TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        self.chunk_ids: list[str] = []
        self.matrix = np.zeros((0, embedder.dim), dtype=np.float32)
        self.fingerprint = ""
        self._hnsw = None

    def sync(self, chunks: Sequence[tuple[str, str]], progress: Callable[[int], None] | None = None) -> None:
        ids = [cid for cid, _ in chunks]
        fp = LexicalIndex.fingerprint_of(ids)
        if fp == self.fingerprint:
            return
        known = {r[0] for r in self._db.execute("SELECT chunk_id FROM vectors")}
        todo = [(cid, text) for cid, text in chunks if cid not in known]
        # Embed in length-sorted batches: padding waste is the main cost of batched encoders.
        todo.sort(key=lambda x: len(x[1]))
        for start in range(0, len(todo), self.batch):
            part = todo[start : start + self.batch]
            vecs = np.asarray(self.embedder.embed_passages([t for _, t in part]), dtype=np.float32)
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors(chunk_id, vec) VALUES (?, ?)",
                    [(cid, v.tobytes()) for (cid, _), v in zip(part, vecs, strict=True)],
                )
            if progress:
                progress(len(part))
        wanted = set(ids)
        stale = known - wanted
        if stale:
            with self._db:
                self._db.executemany("DELETE FROM vectors WHERE chunk_id = ?", [(s,) for s in stale])
        vec_map = dict(self._db.execute("SELECT chunk_id, vec FROM vectors"))
        dim = self.embedder.dim
        m = np.empty((len(ids), dim), dtype=np.float32)
        for i, cid in enumerate(ids):
            m[i] = np.frombuffer(vec_map[cid], dtype=np.float32)
        self.matrix, self.chunk_ids, self.fingerprint = m, ids, fp
        self._hnsw = self._build_hnsw(fp) if len(ids) > self.hnsw_threshold else None

    def _build_hnsw(self, fp: str):
        from usearch.index import Index

        path = self.dir / f"dense-{self.key}-{fp}.usearch"
        index = Index(ndim=self.matrix.shape[1], metric="ip", dtype="f16", connectivity=16)
        if path.exists():
            try:
                index.load(str(path))
                if len(index) == len(self.chunk_ids):
                    return index
            except Exception:  # a corrupt index file is rebuilt
                index = Index(ndim=self.matrix.shape[1], metric="ip", dtype="f16", connectivity=16)
        index.add(np.arange(len(self.chunk_ids), dtype=np.uint64), self.matrix)
        for old in self.dir.glob(f"dense-{self.key}-*.usearch"):
            old.unlink(missing_ok=True)
        index.save(str(path))
        return index

    def embed_query(self, query: str) -> np.ndarray:
        return np.asarray(self.embedder.embed_queries([query]), dtype=np.float32)[0]

    def scores(self, qvec: np.ndarray) -> np.ndarray:
        """Cosine similarity of every chunk (vectors are L2-normalised)."""
        return self.matrix @ qvec

    def search_vector(
        self, qvec: np.ndarray, k: int, mask: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        n = len(self.chunk_ids)
        if n == 0:
            return []
        if self._hnsw is None:
            s = self.scores(qvec) + 1.0  # shift into (0, 2] so top_k keeps non-positive cosines
            return [(i, v - 1.0) for i, v in top_k(s, k, mask)]
        allowed = n if mask is None else int(mask.sum())
        if allowed == 0:
            return []
        if allowed <= max(20_000, 50 * k):
            idx = np.flatnonzero(mask)
            s = self.matrix[idx] @ qvec
            order = np.argsort(-s)[:k]
            return [(int(idx[i]), float(s[i])) for i in order]
        want = k
        while True:
            want = min(n, want * 4)
            m = self._hnsw.search(qvec, want)
            out = [
                (int(key), 1.0 - float(dist))
                for key, dist in zip(m.keys, m.distances, strict=True)
                if mask is None or mask[int(key)]
            ]
            if len(out) >= k or want >= n:
                return out[:k]

    def close(self) -> None:
        self._db.close()
