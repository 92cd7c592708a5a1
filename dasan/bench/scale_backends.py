"""``dasan bench scale --backend sqlite|postgresql --chunks N``: the store and the dense leg of
one backend at N synthetic chunks (issue 19).

Self-contained and synthetic, so both backends see identical data: N chunks in documents of 50,
spread over 40 collections (one collection keeps 2.5 % of the rows; with level 민감, which 40 %
of documents carry, 1 %; two collections 5 %), each with a 384-d unit vector drawn around one of
200 cluster centres plus a shared offset (anisotropic, as real embeddings are; an isotropic
cloud is the hard case for HNSW). Queries are 60 perturbed chunk vectors.

Reported: ingest throughput (documents and chunks through ``Store.put_document``, then vectors
into the dense index), dense search p50/p95 without and with filters, recall@10 of each against
an exact float32 search of the permitted rows, and the process's memory (RSS) growth for the
index, i.e. what each replica holds. For PostgreSQL also the recall of a *naive* filtered HNSW
query (the filter in WHERE, pgvector's defaults) — what a filtered search silently loses
without iterative scan or an exact scan of a small permitted set.
"""

from __future__ import annotations

import gc
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

DIM = 384
DOC_CHUNKS = 50
COLLECTIONS = 40


class TableEmbedder:
    """Returns the prepared vector of each text (the bench measures indexes, not a model)."""

    name = "scale-synthetic-384"
    dim = DIM
    thread_safe = False

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self.table = table

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.table[t] for t in texts])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)


def synthetic(n: int, seed: int = 0) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(200, DIM)).astype(np.float32)
    offset = rng.normal(size=DIM).astype(np.float32) * 1.5
    which = rng.integers(0, 200, n)
    vecs = centres[which] + offset + rng.normal(scale=0.8, size=(n, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    rows = []
    for i in range(n):
        d = i // DOC_CHUNKS
        rows.append({"doc": d, "ord": i % DOC_CHUNKS, "collection": f"scale-c{d % COLLECTIONS:02d}",
                     "level": "민감" if (d // COLLECTIONS) % 5 < 2 else "공개",
                     "text": f"합성 조문 {d}-{i % DOC_CHUNKS}: 안전 점검과 보고 절차 {which[i]}번 유형."})
    q = vecs[rng.choice(n, 60, replace=False)] + rng.normal(scale=0.05, size=(60, DIM)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return rows, vecs, q


def _rss() -> int:
    return psutil.Process().memory_info().rss


def run(backend: str, n: int, *, url: str = "", seed: int = 0, bulk: bool = False,
        log: Any = lambda s: None) -> dict[str, Any]:
    """``bulk``: documents through ``Store.put_documents`` (2,000 per call) and, on PostgreSQL,
    vectors through ``PgDenseIndex.bulk_load`` (binary COPY, then one HNSW build); otherwise
    ``put_document`` per document and vectors inserted row by row into the indexed table."""
    from dasan.store.base import DocumentRecord
    from dasan.store.ids import PIPELINE_VERSION
    from dasan.types import Chunk, Citation

    rows, vecs, queries = synthetic(n, seed)
    table = {r["text"]: v for r, v in zip(rows, vecs, strict=True)}
    emb = TableEmbedder(table)
    tmp = Path(tempfile.mkdtemp(prefix="dasan-scale-"))
    if backend == "postgresql":
        from dasan.store.postgres import PostgresStore

        store: Any = PostgresStore(url, tmp)
        if store.list_documents():
            raise SystemExit("--backend postgresql에는 빈 데이터베이스를 주세요 (벤치가 문서를 씁니다).")
    else:
        from dasan.store.sqlite import SqliteStore

        store = SqliteStore(tmp)
    out: dict[str, Any] = {"backend": backend, "chunks": n, "ingest_path": "bulk" if bulk else "per-document"}
    log(f"  synthetic data ready ({n} chunks)")
    t0 = time.perf_counter()
    docs = n // DOC_CHUNKS + (n % DOC_CHUNKS > 0)
    pending: list[tuple[Any, list[Any]]] = []
    for d in range(docs):
        part = rows[d * DOC_CHUNKS:(d + 1) * DOC_CHUNKS]
        did = f"scale{d:08d}"
        rec = DocumentRecord(id=did, collection=part[0]["collection"], source_path=f"/scale/{did}.md",
                             content_hash=did, pipeline_version=PIPELINE_VERSION, format="md", kind="generic",
                             title=did, pages=None, size_bytes=100, n_chunks=0, classification=part[0]["level"])
        chunks = [Chunk(id=f"{did}-{r['ord']:03d}", document_id=did, ordinal=r["ord"], text=r["text"],
                        citation=Citation(label=f"{did} {r['ord']}"), classification=r["level"]) for r in part]
        if bulk:
            pending.append((rec, chunks))
            if len(pending) >= 2000 or d == docs - 1:
                store.put_documents(pending)
                pending = []
                log(f"  {(d + 1) * DOC_CHUNKS} chunks stored")
        else:
            store.put_document(rec, chunks)
            if d and d % 500 == 0:
                log(f"  {d * DOC_CHUNKS} chunks stored")
    store_s = time.perf_counter() - t0
    out["ingest_store_s"] = round(store_s, 1)
    out["ingest_store_chunks_per_s"] = round(n / store_s, 1)
    idx_rows = store.index_rows()
    ids = [r.id for r in idx_rows]
    order = {f"scale{r['doc']:08d}-{r['ord']:03d}": i for i, r in enumerate(rows)}
    perm = np.array([order[i] for i in ids])  # index row → synthetic row
    pairs = [(r.id, r.text) for r in idx_rows]
    del idx_rows
    exact_all = queries @ vecs[perm].T  # index rows' vectors
    colls = np.array([rows[i]["collection"] for i in perm])
    levels = np.array([rows[i]["level"] for i in perm])
    filters = {
        "none": None,
        "1 collection, 공개 (~1.5%)": (colls == "scale-c03") & (levels == "공개"),
        "1 collection (2.5%)": colls == "scale-c07",
        "2 collections (5%)": np.isin(colls, ["scale-c11", "scale-c12"]),
    }
    for name, mask in list(filters.items()):
        if mask is not None and not mask.any():  # too few chunks for this filter
            del filters[name]
    gc.collect()
    rss0 = _rss()
    t0 = time.perf_counter()
    if backend == "postgresql":
        from dasan.index.pgvector import PgDenseIndex

        dense: Any = PgDenseIndex(store.db, tmp / "index", emb, hnsw_threshold=0, batch=500)
        dense.bulk_min = 0 if bulk else None
    else:
        from dasan.index.dense import DenseIndex

        dense = DenseIndex(tmp / "index", emb, batch=500, hnsw_threshold=1 << 62)
    dense.sync(pairs)
    vec_s = time.perf_counter() - t0
    log(f"  vectors stored in {vec_s:.1f} s")
    if backend != "postgresql":  # the HNSW graph (on above DASAN_HNSW_THRESHOLD chunks), timed on its own
        from dasan.index.dense import default_hnsw_threshold

        if n > default_hnsw_threshold():  # what the int8 scan (+ rescoring) would give instead
            out["search_int8_scan"] = {name: _measure(dense, queries, exact_all, mask)
                                       for name, mask in filters.items()}
            log(f"  int8 scan: {out['search_int8_scan']}")
        t0 = time.perf_counter()
        dense.set_hnsw_threshold(default_hnsw_threshold())
        out["hnsw_build_s"] = round(time.perf_counter() - t0, 1) if dense.hnsw_active else None
        vec_s += time.perf_counter() - t0
        log(f"  hnsw build {out['hnsw_build_s']} s")
    if backend == "postgresql":
        out["pg_bulk_load"] = dense.last_load or None
        with store.db.tx() as c:
            # tables with their indexes; the vector table's heap (with TOAST) and its HNSW index apart
            out["database_mb"] = {name: round(c.execute(f"SELECT {fn}(%s)", (rel,)).fetchone()[0] / 2**20, 1)
                                  for name, fn, rel in (("chunks", "pg_total_relation_size", "chunks"),
                                                        ("documents", "pg_total_relation_size", "documents"),
                                                        ("vectors", "pg_table_size", dense.table),
                                                        ("hnsw_index", "pg_relation_size", f"{dense.table}_hnsw"))}
        log(f"  bulk load {out['pg_bulk_load']}, database {out['database_mb']}")
    out["ingest_vectors_s"] = round(vec_s, 1)
    del pairs
    gc.collect()
    out["ingest_vectors_per_s"] = round(n / vec_s, 1)
    out["ingest_total_chunks_per_s"] = round(n / (store_s + vec_s), 1)
    out["index_rss_mb"] = round((_rss() - rss0) / 2**20, 1)
    out["process_rss_mb"] = round(_rss() / 2**20, 1)
    log(f"  ingest {out['ingest_total_chunks_per_s']} chunks/s, index RSS {out['index_rss_mb']} MB")
    out["dense_nbytes_mb"] = round(dense.nbytes() / 2**20, 1)  # what the index object itself holds
    res: dict[str, Any] = {}
    for name, mask in filters.items():
        res[name] = _measure(dense, queries, exact_all, mask)
        res[name]["kept"] = round(float(mask.mean()) if mask is not None else 1.0, 4)
        log(f"  {name}: {res[name]}")
    if backend != "postgresql" and dense.hnsw_active:
        keep = dense.hnsw_expansion
        for ef in (512, 1024, 2048):  # usearch expansion_search (default: 256, or 2x the candidates)
            dense.hnsw_expansion = ef
            res[f"none, HNSW expansion_search {ef}"] = _measure(dense, queries, exact_all, None)
            log(f"  expansion {ef}: {res[f'none, HNSW expansion_search {ef}']}")
        dense.hnsw_expansion = keep
    if backend == "postgresql":
        keep = dense.exact_max
        dense.exact_max = 0  # the iterative HNSW path for the filtered searches too
        for name in list(filters)[1:]:
            res[f"{name} via iterative HNSW"] = _measure(dense, queries, exact_all, filters[name])
        dense.exact_max = keep
        for name in list(filters)[1:]:
            res[f"{name} naive HNSW (filter in WHERE, defaults)"] = _naive(store, dense, queries, exact_all,
                                                                           filters[name], colls, levels)
    out["search"] = res
    store.close()
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return out


def _measure(dense: Any, queries: np.ndarray, exact_all: np.ndarray, mask: np.ndarray | None) -> dict[str, Any]:
    lat, rec = [], []
    for qi, q in enumerate(queries):
        t = time.perf_counter()
        got = {r for r, _ in dense.search_vector(q, 10, mask)}
        lat.append((time.perf_counter() - t) * 1000)
        s = exact_all[qi] if mask is None else np.where(mask, exact_all[qi], -np.inf)
        truth = set(np.argsort(-s)[:10].tolist())
        rec.append(len(got & truth) / 10)
    return {"recall@10": round(float(np.mean(rec)), 4), "p50_ms": round(float(np.percentile(lat, 50)), 2),
            "p95_ms": round(float(np.percentile(lat, 95)), 2)}


def _naive(store: Any, dense: Any, queries: np.ndarray, exact_all: np.ndarray, mask: np.ndarray,
           colls: np.ndarray, levels: np.ndarray) -> dict[str, Any]:
    from dasan.index.pgvector import _vec_text

    wanted_colls = sorted(set(colls[mask]))
    wanted_levels = sorted(set(levels[mask]))
    lat, rec = [], []
    for qi, q in enumerate(queries):
        t = time.perf_counter()
        with store.db.tx() as c:
            got = [r[0] for r in c.execute(
                f"""SELECT v.chunk_id FROM {dense.table} v JOIN chunks c ON c.id = v.chunk_id
                    WHERE c.collection = ANY(%s) AND c.classification = ANY(%s)
                    ORDER BY v.embedding <=> %s::vector LIMIT 10""", (wanted_colls, wanted_levels, _vec_text(q)))]
        lat.append((time.perf_counter() - t) * 1000)
        rows = {dense._row_of[cid] for cid in got}
        truth = set(np.argsort(-np.where(mask, exact_all[qi], -np.inf))[:10].tolist())
        rec.append(len(rows & truth) / 10)
    return {"recall@10": round(float(np.mean(rec)), 4), "p50_ms": round(float(np.percentile(lat, 50)), 2),
            "p95_ms": round(float(np.percentile(lat, 95)), 2)}


def pg_search_sweep(url: str, n: int, efs: list[int], seed: int = 0, log: Any = print) -> dict[str, Any]:
    """On the database a ``--backend postgresql --chunks N`` run left behind (same N and seed):
    recall@10 / latency of unfiltered HNSW at several ``hnsw.ef_search`` values, and of each
    filter through an exact scan of its permitted rows (``exact_max`` raised above them).

        python -m dasan.bench.scale_backends sweep URL N 40,168,400,1000
    """
    from dasan.index.pgvector import PgDenseIndex
    from dasan.store.postgres import PostgresStore

    rows, vecs, queries = synthetic(n, seed)
    tmp = Path(tempfile.mkdtemp(prefix="dasan-sweep-"))
    store = PostgresStore(url, tmp)
    dense = PgDenseIndex(store.db, tmp / "index", TableEmbedder({}), hnsw_threshold=0)
    idx_rows = store.index_rows(with_text=False)
    ids = [r.id for r in idx_rows]
    if len(ids) != n:
        raise SystemExit(f"the database holds {len(ids)} chunks, not {n}")
    order = {f"scale{r['doc']:08d}-{r['ord']:03d}": i for i, r in enumerate(rows)}
    perm = np.array([order[i] for i in ids])
    dense.sync([(i, "") for i in ids])
    exact_all = queries @ vecs[perm].T
    colls = np.array([rows[i]["collection"] for i in perm])
    levels = np.array([rows[i]["level"] for i in perm])
    out: dict[str, Any] = {"chunks": n}
    for ef in efs:
        dense.candidates = lambda k, ef=ef: ef // 2  # ef_search = 2 x candidates
        out[f"hnsw ef_search={ef}"] = r = _measure(dense, queries, exact_all, None)
        log(f"  ef_search {ef}: {r}")
    dense.exact_max = 1 << 62
    for name, mask in (("1 collection, 공개 (~1.5%)", (colls == "scale-c03") & (levels == "공개")),
                       ("1 collection (2.5%)", colls == "scale-c07"),
                       ("2 collections (5%)", np.isin(colls, ["scale-c11", "scale-c12"]))):
        out[f"{name} exact scan of permitted rows"] = r = _measure(dense, queries, exact_all, mask)
        log(f"  {name} exact: {r} (plan {dense.last_plan})")
    store.close()
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return out


def pg_insert_rate(url: str, extra: int = 5000, seed: int = 1) -> dict[str, Any]:
    """On the database a ``--backend postgresql`` run left behind: ``extra`` more chunks stored
    (``put_documents``) and their vectors inserted the normal way (``PgDenseIndex.sync``: row
    INSERTs into the indexed table, the graph maintained per row), timed; then removed.

        python -m dasan.bench.scale_backends insert-rate URL 5000
    """
    from dasan.index.pgvector import PgDenseIndex
    from dasan.store.base import DocumentRecord
    from dasan.store.ids import PIPELINE_VERSION
    from dasan.store.postgres import PostgresStore
    from dasan.types import Chunk, Citation

    _, vecs, _ = synthetic(extra, seed)
    tmp = Path(tempfile.mkdtemp(prefix="dasan-insert-"))
    store = PostgresStore(url, tmp)
    items = []
    for d in range(0, extra, DOC_CHUNKS):
        did = f"extra{d // DOC_CHUNKS:07d}"
        rec = DocumentRecord(id=did, collection="scale-extra", source_path=f"/extra/{did}.md", content_hash=did,
                             pipeline_version=PIPELINE_VERSION, format="md", kind="generic", title=did, pages=None,
                             size_bytes=100, n_chunks=0)
        items.append((rec, [Chunk(id=f"{did}-{i:03d}", document_id=did, ordinal=i, text=f"extra {d + i}",
                                  citation=Citation(label=f"{did} {i}")) for i in range(DOC_CHUNKS)]))
    table = {f"extra {i}": v for i, v in enumerate(vecs)}
    dense = PgDenseIndex(store.db, tmp / "index", TableEmbedder(table), hnsw_threshold=0, batch=500)
    try:
        with store.db.tx() as c:
            before = c.execute(f"SELECT COUNT(*) FROM {dense.table}").fetchone()[0]
        store.put_documents(items)
        pairs = [(r.id, r.text or "") for r in store.index_rows()]
        t = time.perf_counter()
        dense.sync(pairs)
        s = time.perf_counter() - t
    finally:
        for rec, _ in items:
            store.remove_document(rec.id)
        store.close()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return {"rows_in_index_before": before, "inserted": extra, "seconds": round(s, 1),
            "rows_per_s": round(extra / s, 1)}


def lexical_in_database(url: str, tokens_db: Path, questions: Path) -> dict[str, Any]:
    """The measurement behind keeping BM25 in memory per replica: the same Kiwi tokens as a
    postings table (term, chunk, tf) scored as BM25 in SQL (idf and lengths at query time, so
    it stays right as rows change) against the in-memory matrix. Run on an empty database:

        python -m dasan.bench.scale_backends postings URL index/kiwi-tokens.db QUESTIONS.jsonl
    """
    import collections
    import json
    import sqlite3

    import psycopg

    from dasan.index.lexical import Bm25Matrix, top_k
    from dasan.korean.tokenize import tokenize_many

    src = sqlite3.connect(f"file:{tokens_db}?mode=ro", uri=True)
    rows = src.execute("SELECT chunk_id, tokens FROM tokens ORDER BY chunk_id").fetchall()
    src.close()
    ids = [r[0] for r in rows]
    toks = [r[1].split(" ") if r[1] else [] for r in rows]
    bm = Bm25Matrix(toks)
    qtoks = tokenize_many([json.loads(line)["question"] for line in questions.open(encoding="utf-8")])
    sql = """WITH q(term, qtf) AS (SELECT * FROM unnest(%s::text[], %s::int[])),
      s AS (SELECT COUNT(*)::float8 AS n, AVG(len)::float8 AS avgdl FROM bench_doclen),
      df AS (SELECT p.term, COUNT(*)::float8 AS df FROM bench_postings p JOIN q USING (term) GROUP BY p.term)
      SELECT p.chunk_id, SUM(q.qtf * ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5)) * p.tf * 2.2
                            / (p.tf + 1.2 * (0.25 + 0.75 * d.len / s.avgdl))) AS score
      FROM bench_postings p JOIN q USING (term) JOIN df USING (term) JOIN bench_doclen d USING (chunk_id)
      CROSS JOIN s GROUP BY p.chunk_id ORDER BY score DESC, p.chunk_id LIMIT 120"""
    with psycopg.connect(url, autocommit=True) as c:
        c.execute('CREATE TABLE bench_postings (term text COLLATE "C", chunk_id text COLLATE "C", tf int,'
                  ' PRIMARY KEY (term, chunk_id))')
        c.execute('CREATE TABLE bench_doclen (chunk_id text COLLATE "C" PRIMARY KEY, len int)')
        t = time.perf_counter()
        with c.cursor().copy("COPY bench_postings FROM STDIN") as cp:
            for cid, tk in zip(ids, toks, strict=True):
                for term, tf in collections.Counter(tk).items():
                    cp.write_row((term, cid, tf))
        with c.cursor().copy("COPY bench_doclen FROM STDIN") as cp:
            for cid, tk in zip(ids, toks, strict=True):
                cp.write_row((cid, len(tk)))
        c.execute("ANALYZE bench_postings")
        c.execute("ANALYZE bench_doclen")
        load = time.perf_counter() - t
        size = c.execute("SELECT pg_total_relation_size('bench_postings') + pg_total_relation_size('bench_doclen')"
                         ).fetchone()[0]
        lat, overlap = [], []
        for qt in qtoks:
            cnt = collections.Counter(t for t in qt if t in bm.vocab)
            if not cnt:
                continue
            t = time.perf_counter()
            got = [r[0] for r in c.execute(sql, (list(cnt), list(cnt.values())))]
            lat.append((time.perf_counter() - t) * 1000)
            mem = [ids[i] for i, _ in top_k(bm.scores(qt), 120)]
            overlap.append(len(set(got[:10]) & set(mem[:10])) / max(1, min(10, len(mem))))
        c.execute("DROP TABLE bench_postings")
        c.execute("DROP TABLE bench_doclen")
    t = time.perf_counter()
    for qt in qtoks:
        top_k(bm.scores(qt), 120)
    mem_ms = (time.perf_counter() - t) * 1000 / max(1, len(qtoks))
    return {"chunks": len(ids), "load_s": round(load, 1), "postings_mb": round(size / 2**20, 1),
            "sql_p50_ms": round(float(np.percentile(lat, 50)), 1), "sql_p95_ms": round(float(np.percentile(lat, 95)), 1),
            "top10_overlap_with_memory": round(float(np.mean(overlap)), 4), "memory_mean_ms": round(mem_ms, 2),
            "memory_matrix_mb": round(bm.nbytes() / 2**20, 1)}


if __name__ == "__main__":
    import json
    import sys

    if sys.argv[1:2] == ["sweep"]:
        print(json.dumps(pg_search_sweep(sys.argv[2], int(sys.argv[3]), [int(x) for x in sys.argv[4].split(",")]),
                         ensure_ascii=False))
    if sys.argv[1:2] == ["insert-rate"]:
        print(json.dumps(pg_insert_rate(sys.argv[2], int(sys.argv[3]))))
    if sys.argv[1:2] == ["postings"]:
        print(json.dumps(lexical_in_database(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))))
