"""BM25 over Kiwi morphemes, persisted on disk and kept in step with the store.

Tokenising Korean is the expensive part, so tokens are cached per chunk id (content-addressed)
in ``lexical.db``; adding documents tokenises only the new chunks, removing documents drops
theirs. The BM25 weight matrix is derived from the cached tokens and saved beside them,
keyed by a fingerprint of the chunk set, so a search after an unchanged store loads it as is.
Between rebuilds, :meth:`LexicalIndex.append` adds new chunks as rows of a small delta segment
and tombstones removed ones (:class:`Bm25Matrix`); that state is not saved (a restart rebuilds
the matrix from the cached tokens).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
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


def _term_freqs(docs: Sequence[Sequence[str]], vocab: dict[str, int], row0: int = 0):
    """(rows, cols, tfs, lengths) of ``docs``, new terms added to ``vocab``."""
    rows, cols, tfs = [], [], []
    lengths = np.zeros(len(docs), dtype=np.float32)
    for i, toks in enumerate(docs):
        lengths[i] = len(toks)
        for term, tf in Counter(toks).items():
            rows.append(row0 + i)
            cols.append(vocab.setdefault(term, len(vocab)))
            tfs.append(tf)
    return (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64),
            np.asarray(tfs, dtype=np.float32), lengths)


class Bm25Matrix:
    """An in-memory BM25 index over token lists: rows = documents, columns = terms.

    Term frequencies are kept in one or more row segments (a base and, after :meth:`append`, one
    small delta), and beside them the BM25 term weights without idf, ``tf·(k1+1) / (tf + k1·(1 −
    b + b·len/avgdl))``, recomputed from the frequencies whenever avgdl changes (one pass over
    the entries). The idf is applied per query column at query time. An appended or tombstoned
    row thus changes N, avgdl and df exactly as a rebuild over the live rows would: every score
    equals that of a :class:`Bm25Matrix` built over the live rows alone (the same float
    operations per row and term)."""

    def __init__(self, docs: Sequence[Sequence[str]], params: Bm25Params | None = None) -> None:
        self.params = params or Bm25Params()
        vocab: dict[str, int] = {}
        rows, cols, tfs, lengths = _term_freqs(docs, vocab)
        n = len(docs)
        seg = sparse.csc_matrix((tfs, (rows, cols)), shape=(n, max(len(vocab), 1)), dtype=np.float32)
        self._set(vocab, [(0, _tf(seg))], lengths, None)

    @classmethod
    def from_arrays(cls, matrix: sparse.csc_matrix, vocab: dict[str, int], lengths: np.ndarray) -> Bm25Matrix:
        """From a term-frequency matrix (documents × terms) and the documents' token counts."""
        self = cls.__new__(cls)
        self.params = Bm25Params()
        self._set(vocab, [(0, _tf(matrix))], np.asarray(lengths, dtype=np.float32), None)
        return self

    def _set(self, vocab: dict[str, int], segments: list[tuple[int, sparse.csc_matrix]], lengths: np.ndarray,
             live: np.ndarray | None, df: np.ndarray | None = None) -> None:
        """``df``: the document frequencies over the live rows when the caller knows them (an
        append: the previous ones plus the new rows' minus the newly tombstoned rows'), else
        counted here (one pass over every entry)."""
        self.vocab, self.segments, self.lengths = vocab, segments, lengths
        self.live = None if live is None or live.all() else live  # None: no tombstones
        self.n = len(lengths)  # rows, tombstoned ones included (row numbers never move)
        self.n_live = self.n if self.live is None else int(self.live.sum())
        if df is None:
            df = np.zeros(len(vocab), dtype=np.int64)
            for off, m in segments:
                present = np.ones(m.nnz, dtype=np.int64) if self.live is None else \
                    self.live[off : off + m.shape[0]][m.indices].astype(np.int64)
                c = np.concatenate([[0], np.cumsum(present)])
                df[: m.shape[1]] += c[m.indptr[1:]] - c[m.indptr[:-1]]
        self.df = df
        n_live = self.n_live
        rare = np.log1p((n_live - 1 + 0.5) / (1 + 0.5))  # a term only tombstoned rows had: like the rarest
        self.idf = np.where(df > 0, np.log1p((n_live - df + 0.5) / (df + 0.5)), rare).astype(np.float32)
        total = float(lengths.sum(dtype=np.float64) if self.live is None else lengths[self.live].sum(dtype=np.float64))
        avgdl = total / n_live if n_live else 1.0
        k1, b = self.params.k1, self.params.b
        # The term weights tf·(k1+1)/(tf + norm[row]) are computed per query column from the term
        # frequencies (:meth:`_column_weights`), not kept: avgdl moves with every append, and
        # recomputing every entry's weight then cost a pass over the whole matrix per update.
        self.norm = (k1 * (1 - b + b * lengths / max(avgdl, 1e-9))).astype(np.float32)  # per row
        self._matrix = None

    def _column_weights(self, off: int, m: sparse.csc_matrix) -> sparse.csc_matrix:
        """BM25 term weights without idf of the term-frequency segment ``m`` (rows from ``off``)."""
        tf = m.data.astype(np.float32)
        w = tf * np.float32(self.params.k1 + 1) / (tf + self.norm[off + m.indices])
        return sparse.csc_matrix((w, m.indices, m.indptr), shape=m.shape)

    @property
    def matrix(self) -> sparse.csc_matrix:
        """BM25 term weights without idf, documents × terms (every segment; tombstoned rows
        included: their scores are zeroed). Computed on first use."""
        if self._matrix is None:
            width = max(len(self.vocab), 1)
            parts = []
            for off, m in self.segments:
                w = self._column_weights(off, m)
                parts.append(sparse.csc_matrix(
                    (w.data, w.indices, np.concatenate([w.indptr, np.full(width - w.shape[1], w.nnz)])),
                    shape=(w.shape[0], width)))
            self._matrix = parts[0] if len(parts) == 1 else sparse.vstack(parts, format="csc")
        return self._matrix

    def nbytes(self) -> int:
        """Bytes the index holds: term-frequency segments, row lengths and norms, df and idf (the
        weights are computed per query column, not held)."""
        seg = sum(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes for _, m in self.segments)
        return int(seg + self.lengths.nbytes + self.norm.nbytes + self.df.nbytes + self.idf.nbytes)

    @property
    def delta_rows(self) -> int:
        """Rows appended since the base was built."""
        return sum(m.shape[0] for off, m in self.segments if off)

    def append(self, docs: Sequence[Sequence[str]], removed: Sequence[int] = ()) -> Bm25Matrix:
        """A new matrix: this one with ``docs`` appended as rows ``n, n+1, ...`` and the rows
        ``removed`` tombstoned (``self`` is left as it is: searches using it go on)."""
        new = Bm25Matrix.__new__(Bm25Matrix)
        new.params = self.params
        vocab = dict(self.vocab) if docs else self.vocab
        rows, cols, tfs, lengths = _term_freqs(docs, vocab, self.n)
        # document frequencies kept exact without a pass over every entry: the new rows' added,
        # the newly tombstoned rows' taken away (the same integers a recount gives)
        df = np.zeros(len(vocab), dtype=np.int64)
        df[: len(self.df)] = self.df
        df += np.bincount(cols, minlength=len(vocab))[: len(vocab)]
        gone = np.asarray(removed, dtype=np.int64)
        if gone.size:
            gone = gone[gone < self.n]
            if self.live is not None:
                gone = gone[self.live[gone]]
        if gone.size:
            dead = np.zeros(self.n, dtype=bool)
            dead[gone] = True
            for off, m in self.segments:
                hit = np.flatnonzero(dead[off : off + m.shape[0]][m.indices])
                if hit.size:
                    col = np.searchsorted(m.indptr, hit, side="right") - 1
                    df[: m.shape[1]] -= np.bincount(col, minlength=m.shape[1])
        base = self.segments[0]
        delta = [(off, m) for off, m in self.segments[1:]]
        if len(docs):
            if delta:  # one delta segment: the previous delta and the new rows merged
                off, m = delta[0]
                coo = m.tocoo()
                rows = np.concatenate([coo.row.astype(np.int64) + off, rows])
                cols = np.concatenate([coo.col.astype(np.int64), cols])
                tfs = np.concatenate([coo.data.astype(np.float32), tfs])
            else:
                off = self.n
            seg = sparse.csc_matrix((tfs, (rows - off, cols)), shape=(self.n + len(docs) - off, max(len(vocab), 1)),
                                    dtype=np.float32)
            delta = [(off, _tf(seg))]
        live = np.ones(self.n + len(docs), dtype=bool)
        if self.live is not None:
            live[: self.n] = self.live
        live[np.asarray(removed, dtype=np.int64)] = False
        new._set(vocab, [base, *delta], np.concatenate([self.lengths, lengths]), live, df)
        return new

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every document (zeros where no query term occurs, and for tombstones)."""
        q = Counter(t for t in query_tokens if t in self.vocab)
        if not q or self.n == 0:
            return np.zeros(self.n, dtype=np.float32)
        idx = np.fromiter((self.vocab[t] for t in q), dtype=np.int64)  # in the order of the query
        weights = np.fromiter(q.values(), dtype=np.float32) * self.idf[idx]
        k1p = np.float32(self.params.k1 + 1)
        if len(self.segments) == 1:
            out = np.asarray(self._column_weights(0, self.segments[0][1][:, idx]) @ weights).ravel()
        else:
            (_, base), deltas = self.segments[0], self.segments[1:]
            out = np.zeros(self.n, dtype=np.float32)
            inside = idx < base.shape[1]
            if inside.any():
                out[: base.shape[0]] = np.asarray(self._column_weights(0, base[:, idx[inside]])
                                                  @ weights[inside]).ravel()
            for off, m in deltas:  # small: its posting lists directly (the same float operations)
                for j, w in zip(idx.tolist(), weights.tolist(), strict=True):
                    if j < m.shape[1] and m.indptr[j] < m.indptr[j + 1]:
                        a, b = m.indptr[j], m.indptr[j + 1]
                        rows = off + m.indices[a:b]
                        tf = m.data[a:b].astype(np.float32)
                        out[rows] += tf * k1p / (tf + self.norm[rows]) * np.float32(w)
        if self.live is not None:
            out[~self.live] = 0.0
        return out

    def coverage(self, tokens: Sequence[str], row: int) -> float:
        """The share of the idf mass of the distinct ``tokens`` (those of live rows) present in
        ``row`` (see :func:`dasan.index.fusion.lexical_coverage`)."""
        cols = [j for j in dict.fromkeys(self.vocab[t] for t in tokens if t in self.vocab) if self.df[j] > 0]
        if not cols or row < 0:
            return 0.0
        weights = self.idf[cols]
        total = float(weights.sum())
        if total <= 0:
            return 0.0
        off, m = next((off, m) for off, m in reversed(self.segments) if row >= off)
        present = np.array([j < m.shape[1] and m[row - off, j] > 0 for j in cols])
        return float(weights[present].sum()) / total


def _tf(m: sparse.csc_matrix) -> sparse.csc_matrix:
    """Term frequencies stored compactly (uint16; a chunk never repeats a term 65,535 times)."""
    m = m.tocsc()
    m.sum_duplicates()
    return sparse.csc_matrix((np.minimum(m.data, 65535).astype(np.uint16), m.indices, m.indptr), shape=m.shape)


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

    def append(self, chunks: Sequence[tuple[str, str]], removed: Sequence[int], fingerprint: str) -> LexicalIndex:
        """A new state: ``chunks`` = [(chunk_id, index_text)] appended as new rows (tokenised
        once, through the token cache) and the rows ``removed`` tombstoned; the BM25 statistics
        become those of the live rows. The state searches use is not touched (see
        :meth:`Bm25Matrix.append`). Not saved: a restart rebuilds the matrix from cached tokens."""
        assert self.bm25 is not None
        ids = [cid for cid, _ in chunks]
        cached: dict[str, str] = {}
        for a in range(0, len(ids), 500):
            part = ids[a : a + 500]
            cached.update(self._db.execute(
                f"SELECT chunk_id, tokens FROM tokens WHERE chunk_id IN ({','.join('?' * len(part))})", part))
        todo = [(cid, text) for cid, text in chunks if cid not in cached]
        if todo:
            toks = self.batch_tokenizer([t for _, t in todo])
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO tokens(chunk_id, tokens) VALUES (?, ?)",
                                     [(cid, " ".join(tk)) for (cid, _), tk in zip(todo, toks, strict=True)])
            cached.update((cid, " ".join(tk)) for (cid, _), tk in zip(todo, toks, strict=True))
        docs = [cached[cid].split(" ") if cached[cid] else [] for cid, _ in chunks]
        new = copy.copy(self)
        new.bm25 = self.bm25.append(docs, removed)
        new.fingerprint = fingerprint
        return new

    def forget(self, chunk_ids: Sequence[str]) -> None:
        """Drop cached tokens of chunks no longer in the store."""
        with self._db:
            self._db.executemany("DELETE FROM tokens WHERE chunk_id = ?", [(c,) for c in chunk_ids])

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
        """Both files carry the fingerprint: each is replaced atomically, but a process killed
        between the two renames leaves a new matrix beside the old vocabulary (see :meth:`_load`)."""
        assert self.bm25 is not None
        npz, meta = self._paths()
        [(_, m)] = self.bm25.segments  # saved after a full build: one segment of term frequencies
        tmp = npz.with_name(f"{npz.stem}.{os.getpid()}.tmp.npz")  # its own name: processes may save at once
        np.savez(tmp, data=m.data, indices=m.indices, indptr=m.indptr, shape=np.array(m.shape),
                 lengths=self.bm25.lengths, fingerprint=np.array(fp))
        tmp.replace(npz)
        tmpm = meta.with_name(f"{meta.stem}.{os.getpid()}.tmp")
        tmpm.write_text(json.dumps({"fingerprint": fp, "format": "tf", "vocab": self.bm25.vocab}, ensure_ascii=False))
        tmpm.replace(meta)

    def _load(self, fp: str) -> bool:
        """The saved matrix when both files are of ``fp`` and agree; anything else (missing,
        half-written, of another build) is a miss and the matrix is rebuilt."""
        npz, meta = self._paths()
        try:
            info = json.loads(meta.read_text())
            if info.get("fingerprint") != fp or info.get("format") != "tf":  # older files held weights
                return False
            with np.load(npz) as z:
                if "fingerprint" not in z.files or str(z["fingerprint"]) != fp:
                    return False
                m = sparse.csc_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
                lengths = z["lengths"]
            if m.shape[0] != len(lengths) or m.shape[1] > len(info["vocab"]):
                return False
            self.bm25 = Bm25Matrix.from_arrays(m, info["vocab"], lengths)
            self.fingerprint = fp
            return True
        except Exception:  # a cache: an unreadable file (a bad zip, …) is rebuilt
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
