"""The dense leg in PostgreSQL: chunk embeddings in a pgvector table with an HNSW (cosine) index.

Used instead of :class:`dasan.index.dense.DenseIndex` when the store is PostgreSQL (the store
provides it through ``Store.dense_index``; the Retriever calls the same methods). Embeddings are
stored once in the database and shared by every replica: a replica that refreshes after another
one embedded new chunks reads their vectors instead of embedding them again (``missing``).

Searching, with the access mask of the request (a permitted row set):

* no mask, table up to ``DASAN_HNSW_THRESHOLD`` rows: an exact scan (same results as the
  embedded index, which is exact at that size);
* no mask, larger: the HNSW index (``hnsw.ef_search`` at least twice the candidates wanted);
* a mask permitting most rows (over 20 %) of a table up to the threshold: an exact scan, nearest
  first, each row checked against the mask, fetching more until enough are permitted;
* a mask permitting at most ``exact_max`` rows: an exact scan of just those rows, found through
  the primary-key btree (``chunk_id = ANY(…)``) — a filtered HNSW search would lose results;
* a larger mask: HNSW with ``hnsw.iterative_scan = relaxed_order``, every candidate checked
  against the mask, fetching more until enough permitted candidates are found (or all rows
  were seen), so a filter never silently shortens the result.

Each table holds one embedding model (``dense_<model>``; the dimension is the model's).
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dasan.index.columns import IdList
from dasan.index.lexical import LexicalIndex

log = logging.getLogger("dasan.index")


def _vec_text(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.9g}" for x in np.asarray(v, dtype=np.float32)) + "]"


_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)  # binary COPY header, no flags


def copy_vectors_binary(cur: Any, table: str, rows: Iterable[tuple[Sequence[str], np.ndarray]], dim: int,
                        progress: Callable[[int], None] | None = None) -> int:
    """Stream (chunk ids, float32 matrix) blocks into ``table(chunk_id, embedding)`` with one
    binary ``COPY`` (pgvector's binary form: dimension, 0, big-endian float4s); returns the rows."""
    n = 0
    vec_head = struct.pack(">ihh", 4 + 4 * dim, dim, 0)
    with cur.copy(f"COPY {table}(chunk_id, embedding) FROM STDIN (FORMAT BINARY)") as cp:
        cp.write(_COPY_SIGNATURE)
        for ids, vecs in rows:
            big = np.ascontiguousarray(vecs, dtype=">f4")
            if big.shape != (len(ids), dim):
                raise ValueError(f"vectors of shape {big.shape} for {len(ids)} ids of dimension {dim}")
            buf = bytearray()
            for cid, v in zip(ids, big, strict=True):
                b = cid.encode()
                buf += struct.pack(">hi", 2, len(b))
                buf += b
                buf += vec_head
                buf += v.tobytes()
            cp.write(bytes(buf))
            n += len(ids)
            if progress is not None:
                progress(n)
        cp.write(b"\xff\xff")
    return n


def build_hnsw_index(c: Any, table: str, *, m: int = 16, ef_construction: int = 64, memory: str = "4GB",
                     workers: int = 1) -> None:
    """``CREATE INDEX <table>_hnsw`` (cosine) over the rows already in ``table``, inside the
    caller's transaction, with the build's memory and parallel workers set for it alone."""
    c.execute(f"SET LOCAL maintenance_work_mem = '{memory}'")
    c.execute(f"SET LOCAL max_parallel_maintenance_workers = {int(workers)}")
    c.execute(f"CREATE INDEX {table}_hnsw ON {table} USING hnsw (embedding vector_cosine_ops)"
              f" WITH (m = {int(m)}, ef_construction = {int(ef_construction)})")


class PgDenseIndex:
    """Same interface as :class:`dasan.index.dense.DenseIndex`, vectors kept in PostgreSQL."""

    #: when set, :meth:`sync` into an *empty* table with at least this many vectors bulk loads
    #: them (:meth:`bulk_load`: binary COPY, then one HNSW build) instead of inserting them in
    #: committed batches with the graph maintained per row (~235 rows/s on 2 cores). Off by
    #: default: with a model embedding ~30 passages/s the batches are not the bottleneck, and
    #: they keep hours of embedding committed as they go (a bulk load is one transaction that
    #: locks the table until the build ends). Set for loads of ready vectors (the scale bench).
    bulk_min: int | None = None
    #: HNSW build parameters of a bulk load (pgvector's defaults; the per-row index uses them too)
    hnsw_m = 16
    hnsw_ef_construction = 64
    #: session settings of the build: the graph must fit in maintenance_work_mem (~2 KB per
    #: 384-d row), or pgvector falls back to a much slower on-disk build
    build_memory = "4GB"
    build_workers = 1

    def __init__(self, db: Any, index_dir: Path, embedder: Any, *, hnsw_threshold: int | None = None,
                 exact_max: int = 50_000, batch: int = 32) -> None:
        from dasan.index.dense import default_hnsw_threshold

        self.db = db
        self.dir = index_dir
        self.embedder = embedder
        self.batch = batch
        self.hnsw_threshold = default_hnsw_threshold() if hnsw_threshold is None else hnsw_threshold
        # Up to 50,000 permitted rows are scanned exactly: measured at 1M chunks (docs/benchmarks.md,
        # PostgreSQL scale) the exact scan of 25k / 50k permitted rows took p95 91 / 160 ms with
        # recall 1.0, while iterative HNSW on the same filters found 0.57–0.80 of the true top 10.
        self.exact_max = exact_max
        self.rescore = True
        safe = "".join(ch if ch.isalnum() else "_" for ch in embedder.name).lower()[:40]
        self.key = safe
        self.table = f"dense_{safe}"
        self.ids = IdList()
        self.fingerprint = ""
        self._row_of: dict[str, int] = {}
        self.last_plan: str = ""  # how the latest search ran (exact / hnsw / filtered-exact / iterative)
        self._ensure_table()

    # -- schema ----------------------------------------------------------------------------
    def _ensure_table(self) -> None:
        dim = int(self.embedder.dim)
        with self.db.tx() as c:
            c.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.table,))
            c.execute(
                f"""CREATE TABLE IF NOT EXISTS {self.table} (
                        chunk_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
                        embedding vector({dim}) NOT NULL)""")
            c.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_hnsw ON {self.table} "
                      "USING hnsw (embedding vector_cosine_ops)")
        self.last_load: dict[str, Any] = {}  # timings of the latest bulk load

    # -- the DenseIndex interface ------------------------------------------------------------
    @property
    def chunk_ids(self) -> IdList:
        return self.ids

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def hnsw_active(self) -> bool:
        return self.size > self.hnsw_threshold

    def nbytes(self) -> int:
        """Bytes held in this process (ids and their row map; the vectors live in the database)."""
        return self.ids.nbytes() + 100 * len(self._row_of)

    def missing(self, ids: Sequence[str]) -> set[str]:
        with self.db.tx() as c:
            known = {r[0] for r in c.execute(f"SELECT chunk_id FROM {self.table}")}
        return {i for i in ids if i not in known}

    def prepare(self, chunks: Sequence[tuple[str, str]], progress: Callable[[int], None] | None = None) -> PgDenseIndex:
        import copy

        if LexicalIndex.fingerprint_of([cid for cid, _ in chunks]) == self.fingerprint:
            return self
        new = copy.copy(self)
        new.sync(chunks, progress)
        return new

    def publish(self, new: PgDenseIndex) -> None:
        if new is self:
            return
        self.ids, self.fingerprint, self._row_of = new.ids, new.fingerprint, new._row_of

    def sync(self, chunks: Sequence[tuple[str, str]], progress: Callable[[int], None] | None = None) -> None:
        ids = [cid for cid, _ in chunks]
        fp = LexicalIndex.fingerprint_of(ids)
        if fp == self.fingerprint:
            return
        need = self.missing(ids)
        todo = sorted(((cid, text) for cid, text in chunks if cid in need), key=lambda x: len(x[1]))
        if (self.bulk_min is not None and len(todo) >= self.bulk_min and len(need) == len(ids)
                and self.bulk_load(todo, progress)):
            todo = []
        done = 0
        for a in range(0, len(todo), self.batch):
            part = todo[a:a + self.batch]
            vecs = np.asarray(self.embedder.embed_passages([t for _, t in part]), dtype=np.float32)
            with self.db.tx() as c:
                c.cursor().executemany(
                    f"INSERT INTO {self.table}(chunk_id, embedding) VALUES (%s, %s::vector) ON CONFLICT DO NOTHING",
                    [(cid, _vec_text(v)) for (cid, _), v in zip(part, vecs, strict=True)])
            done += len(part)
            if progress is not None:
                progress(done)
        self.ids = IdList(ids)
        self._row_of = {cid: i for i, cid in enumerate(ids)}
        self.fingerprint = fp

    def bulk_load(self, todo: Sequence[tuple[str, str]], progress: Callable[[int], None] | None = None) -> bool:
        """Embed ``todo`` and load it into the empty table in one transaction: the HNSW index
        dropped, the vectors streamed with binary ``COPY``, the index built once over all rows
        (``maintenance_work_mem`` = :attr:`build_memory`, :attr:`build_workers` parallel
        workers). False (nothing done) when the table is no longer empty. Meant for an initial
        load: the table is locked against other writers and readers until the build ends."""
        dim = int(self.embedder.dim)
        with self.db.tx() as c:
            c.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.table,))
            if c.execute(f"SELECT EXISTS (SELECT 1 FROM {self.table})").fetchone()[0]:
                return False
            t0 = time.perf_counter()
            c.execute(f"DROP INDEX IF EXISTS {self.table}_hnsw")

            def blocks() -> Iterable[tuple[list[str], np.ndarray]]:
                for a in range(0, len(todo), self.batch):
                    part = todo[a:a + self.batch]
                    yield [cid for cid, _ in part], np.asarray(self.embedder.embed_passages([t for _, t in part]),
                                                               dtype=np.float32)

            n = copy_vectors_binary(c.cursor(), self.table, blocks(), dim, progress)
            t1 = time.perf_counter()
            build_hnsw_index(c, self.table, m=self.hnsw_m, ef_construction=self.hnsw_ef_construction,
                             memory=self.build_memory, workers=self.build_workers)
            # statistics at once: right after a load the planner has none and may pick plans
            # for the table as if it were empty
            c.execute(f"ANALYZE {self.table}")
            t2 = time.perf_counter()
        self.last_load = {"rows": n, "copy_s": round(t1 - t0, 1), "hnsw_build_s": round(t2 - t1, 1),
                          "m": self.hnsw_m, "ef_construction": self.hnsw_ef_construction,
                          "maintenance_work_mem": self.build_memory, "parallel_workers": self.build_workers}
        log.info("bulk load of %s: %s", self.table, self.last_load)
        return True

    def vectors(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        dim = int(self.embedder.dim)
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros((len(rows), dim), dtype=np.float32)
        if not len(rows):
            return out
        ids = [self.ids[int(r)] for r in rows]
        with self.db.tx() as c:
            got = {r[0]: r[1] for r in c.execute(
                f"SELECT chunk_id, embedding::real[] FROM {self.table} WHERE chunk_id = ANY(%s)", (ids,))}
        for i, cid in enumerate(ids):
            if cid in got:
                out[i] = np.asarray(got[cid], dtype=np.float32)
        return out

    def embed_query(self, query: str) -> np.ndarray:
        return np.asarray(self.embedder.embed_queries([query]), dtype=np.float32)[0]

    def scores(self, qvec: np.ndarray) -> np.ndarray:
        """Cosine of every chunk (an exact scan in the database)."""
        out = np.full(self.size, -1.0, dtype=np.float32)
        with self.db.tx() as c:
            for cid, s in c.execute(f"SELECT chunk_id, 1 - (embedding <=> %s::vector) FROM {self.table}",
                                    (_vec_text(qvec),)):
                r = self._row_of.get(cid)
                if r is not None:
                    out[r] = s
        return out

    def candidates(self, k: int) -> int:
        return 2 * k + 64

    # -- search --------------------------------------------------------------------------------
    def search_vector(self, qvec: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        n = self.size
        if n == 0 or k <= 0:
            return []
        allowed = n if mask is None else int(mask.sum())
        if allowed == 0:
            return []
        want = min(allowed, k)
        q = _vec_text(qvec)
        with self.db.tx() as c:
            if mask is None and n <= self.hnsw_threshold:
                self.last_plan = "exact"
                c.execute("SET LOCAL enable_indexscan = off")
                got = self._fetch(c, q, want)
            elif mask is None:
                self.last_plan = "hnsw"
                c.execute(f"SET LOCAL hnsw.ef_search = {min(1000, max(40, 2 * self.candidates(k)))}")
                got = self._fetch(c, q, want)
            elif n <= self.hnsw_threshold and allowed * 5 > n:
                self.last_plan = "exact-overfetch"  # most rows permitted: scan all, check each
                got = self._overfetch(c, q, want, mask, n)
            elif allowed <= self.exact_max or n <= self.hnsw_threshold:
                self.last_plan = "filtered-exact"
                ids = [self.ids[int(i)] for i in np.flatnonzero(mask)]
                c.execute("SET LOCAL enable_indexscan = off")  # btree on the primary key, not HNSW
                got = [(cid, s) for cid, s in c.execute(
                    f"""SELECT chunk_id, 1 - (embedding <=> %s::vector) AS s FROM {self.table}
                        WHERE chunk_id = ANY(%s) ORDER BY embedding <=> %s::vector, chunk_id LIMIT %s""",
                    (q, ids, q, want))]
            else:
                self.last_plan = "iterative"
                got = self._iterative(c, q, want, mask, n)
        out = []
        for cid, s in got:
            r = self._row_of.get(cid)
            if r is not None and (mask is None or mask[r]):
                out.append((r, float(s)))
        out.sort(key=lambda x: (-x[1], x[0]))
        return out[:k]

    def _fetch(self, c: Any, q: str, limit: int) -> list[tuple[str, float]]:
        return [(cid, s) for cid, s in c.execute(
            f"""SELECT chunk_id, 1 - (embedding <=> %s::vector) AS s FROM {self.table}
                ORDER BY embedding <=> %s::vector LIMIT %s""", (q, q, limit))]

    def _overfetch(self, c: Any, q: str, want: int, mask: np.ndarray, n: int) -> list[tuple[str, float]]:
        """An exact scan of every row, nearest first, until ``want`` permitted rows are found
        (a permitted share above 20 % needs at most ~5x ``want`` rows; the list of permitted
        ids would be the larger message)."""
        c.execute("SET LOCAL enable_indexscan = off")
        fetch = max(2 * want * n // max(1, int(mask.sum())), want + 16)
        while True:
            fetch = min(n, fetch)
            got = self._fetch(c, q, fetch)
            ok = [(cid, s) for cid, s in got if (r := self._row_of.get(cid)) is not None and mask[r]]
            if len(ok) >= want or fetch >= n:
                return ok
            fetch *= 4

    def _iterative(self, c: Any, q: str, want: int, mask: np.ndarray, n: int) -> list[tuple[str, float]]:
        """HNSW with iterative scan; candidates checked against the mask; more fetched until
        ``want`` permitted ones are found or every row was seen (never a silently short list)."""
        c.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        fetch = max(4 * want, 100)
        while True:
            fetch = min(n, fetch)
            c.execute(f"SET LOCAL hnsw.ef_search = {min(1000, max(40, fetch))}")
            c.execute(f"SET LOCAL hnsw.max_scan_tuples = {max(20_000, 4 * fetch)}")
            got = self._fetch(c, q, fetch)
            ok = [(cid, s) for cid, s in got if (r := self._row_of.get(cid)) is not None and mask[r]]
            if len(ok) >= want or fetch >= n:
                if len(ok) < want and fetch >= n and len(got) < n:
                    # the index scan stopped early: finish with an exact scan of the permitted rows
                    ids = [self.ids[int(i)] for i in np.flatnonzero(mask)]
                    c.execute("SET LOCAL enable_indexscan = off")
                    ok = [(cid, s) for cid, s in c.execute(
                        f"""SELECT chunk_id, 1 - (embedding <=> %s::vector) FROM {self.table}
                            WHERE chunk_id = ANY(%s) ORDER BY embedding <=> %s::vector LIMIT %s""",
                        (q, ids, q, want))]
                return ok
            fetch *= 4

    def close(self) -> None:
        pass
