"""Search latency and index memory at scale (``dasan bench scale --chunks 100000``).

For each size a statute store is built in its own cached data dir under
``$DASAN_HOME/bench/scale/``: the real statute corpus (collection ``bench``, as in the retrieval
bench) topped up with synthetic statutes recombined from it (:mod:`dasan.bench.synthetic`),
ingested through the real pipeline and store. The real caches are pre-filled so the build takes
minutes, not hours: the embedding cache (keyed by content hash) with real e5 vectors where the
retrieval bench already computed them and synthetic vectors (convex mixes of real ones) for
the rest; the Kiwi token cache with tokens composed from once-tokenised pieces.

Each size is then measured in a fresh subprocess (clean RSS): index build (``Retriever.refresh``)
time and peak/steady RSS, and real questions through the full ``Retriever.rank`` path with every
query embedded by the model (the query cache is bypassed). At the largest size the HNSW path is
forced as well (threshold 0), with dense recall@k of each search mode against a float32 scan.
Bytes per chunk = slope of the RSS growth between the two sizes; the 1M estimate adds the
measured HNSW bytes per chunk (HNSW is on above 100k chunks).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np
import psutil

from dasan import config
from dasan.bench.ingest import PeakRss, machine

E5_NAME = "multilingual-e5-small"
REAL = "bench"  # real statutes' collection: chunk ids (and cached tokens) match the retrieval bench
SYNTH = "synthetic"
VERSION = 1
MAX_CHUNKS = 2_000_000
Log = Callable[[str], None]


def scale_dir(corpus: Path, size: int | None, seed: int) -> Path:
    key = hashlib.sha256(f"{corpus.resolve()}\0{size}\0{seed}\0{VERSION}".encode()).hexdigest()[:10]
    return config.data_dir() / "bench" / "scale" / f"{'real' if size is None else f'n{size}'}-{key}"


def _chunks(store) -> int:
    return sum(d.n_chunks for d in store.list_documents())


# -- building the store --------------------------------------------------------------------
def prepare(corpus: Path, size: int | None, *, seed: int = 0, pool_size: int = 3000, noise: float = 0.01,
            log: Log = lambda s: None) -> dict[str, Any]:
    """Build (or reuse) the store of ``size`` chunks (None: the real corpus alone) and fill the
    embedding and token caches. Returns what was built and how."""
    from dasan.ingest.pipeline import discover, ingest_paths
    from dasan.store import open_store

    ddir = scale_dir(corpus, size, seed)
    state_path = ddir / "scale.json"
    state: dict[str, Any] = json.loads(state_path.read_text()) if state_path.exists() else {}
    store = open_store(ddir)
    n = _chunks(store)
    real_files, _ = discover([corpus], recursive=True)
    t0 = time.perf_counter()
    if n == 0 or (size is not None and n < size):
        log(f"building store {ddir.name} ...")
        for f in real_files:
            ingest_paths(store, [f], collection=REAL)
            n = _chunks(store)
            if size is not None and n >= size:
                break
        if size is not None and n < size:
            from dasan.bench.synthetic import harvest, write_statutes

            mat = harvest([f for f in real_files if f.suffix == ".md"], seed=seed)
            rng = random.Random(f"{seed}:{state.get('round', 0)}")
            fam = state.get("next_family", 0)
            for rnd in range(state.get("round", 0), state.get("round", 0) + 8):
                deficit = size - n
                if deficit <= 0:
                    break
                src = ddir / "synthetic-src"
                files, fam = write_statutes(src / f"r{rnd}", fam, max(10, int(deficit * 0.94)), mat, rng)
                ingest_paths(store, files, collection=SYNTH)
                shutil.rmtree(src, ignore_errors=True)
                n = _chunks(store)
                state.update(next_family=fam, round=rnd + 1)
                log(f"  round {rnd}: {n} chunks")
        state["ingest_s"] = round(time.perf_counter() - t0, 1)
    state["chunks"] = n
    _fill_caches(store, ddir, corpus, state, seed=seed, pool_size=pool_size, noise=noise, log=log)
    if state.get("indexed_chunks") != n:  # first index build: BM25 from cached tokens, vectors from cache
        from dasan.rag.retrieve import Retriever

        log("first index build ...")
        r = Retriever(store, ddir)
        r.dense.hnsw_threshold = 1 << 62
        t = time.perf_counter()
        r.refresh()
        state.update(first_refresh_s=round(time.perf_counter() - t, 1), indexed_chunks=n)
        r.dense.close()
    state_path.write_text(json.dumps(state, ensure_ascii=False, indent=1))
    store.close()
    return {"data_dir": str(ddir), **state}


def _source_index(corpus: Path) -> Path:
    from dasan.bench.retrieval import bench_data_dir

    return bench_data_dir([str(corpus)]) / "index"


def _fill_caches(store, ddir: Path, corpus: Path, state: dict[str, Any], *, seed: int, pool_size: int,
                 noise: float, log: Log) -> None:
    from dasan.index.embed.cache import EmbeddingCache, cache_key
    from dasan.rag.retrieve import Retriever

    rows = store.index_rows()
    texts = [Retriever.index_text(r) for r in rows]
    real = np.array([r.collection == REAL for r in rows])
    keys = [cache_key(E5_NAME, "passage", t) for t in texts]
    cache = EmbeddingCache(ddir / "index" / "embed-cache", max_entries=max(200_000, 2 * len(rows)))
    have: set[bytes] = set()
    for i in range(0, len(keys), 5000):
        have.update(cache.get_many(keys[i : i + 5000], 384))
    missing = [i for i, k in enumerate(keys) if k not in have]
    if missing:
        src_path = _source_index(corpus) / "embed-cache"
        src = EmbeddingCache(src_path) if src_path.exists() else None
        found: dict[bytes, np.ndarray] = {}
        if src is not None:
            want = [keys[i] for i in missing if real[i]]
            for i in range(0, len(want), 5000):
                found.update(src.get_many(want[i : i + 5000], 384))
            src.close()
        cache.put_many(found.items())
        rng = np.random.default_rng(seed)
        real_idx = np.flatnonzero(real)
        sample = rng.choice(real_idx, min(pool_size, len(real_idx)), replace=False)
        pool_vecs = cache.get_many([keys[i] for i in sample], 384)
        pool_vecs.update({k: found[k] for k in (keys[i] for i in sample) if k in found})
        todo = [i for i in sample if keys[i] not in pool_vecs]
        if todo:
            from dasan.index.embed import get_embedder

            log(f"embedding {len(todo)} real passages for the vector pool (e5, ~30/s) ...")
            emb = get_embedder("e5")
            vecs = emb.embed_passages([texts[i] for i in todo])
            fresh = {keys[i]: v for i, v in zip(todo, vecs, strict=True)}
            cache.put_many(fresh.items())
            pool_vecs.update(fresh)
        pool = np.stack([pool_vecs[keys[i]] for i in sample])
        left = [i for i in missing if keys[i] not in found and keys[i] not in pool_vecs]
        from dasan.bench.synthetic import synthetic_vectors

        for a in range(0, len(left), 20_000):
            part = left[a : a + 20_000]
            cache.put_many(zip([keys[i] for i in part], synthetic_vectors(pool, len(part), rng, noise), strict=True))
        v = state.setdefault("vectors", {"real_copied": 0, "real_embedded": 0, "synthetic": 0})
        v.update(real_copied=v["real_copied"] + len(found), real_embedded=v["real_embedded"] + len(todo),
                 synthetic=v["synthetic"] + len(left), pool=len(pool), noise=noise)
        log(f"embedding cache: {len(found)} real vectors copied, {len(left)} synthetic")
    cache.close()
    _fill_tokens(rows, texts, real, ddir, corpus, state, seed=seed, log=log)


def _fill_tokens(rows, texts: list[str], real: np.ndarray, ddir: Path, corpus: Path, state: dict[str, Any],
                 *, seed: int, log: Log) -> None:
    from dasan.bench.synthetic import compose_tokens
    from dasan.korean.tokenize import tokenize_many

    db = sqlite3.connect(ddir / "index" / "kiwi-tokens.db")
    db.execute("CREATE TABLE IF NOT EXISTS tokens (chunk_id TEXT PRIMARY KEY, tokens TEXT NOT NULL)")
    known = {r[0] for r in db.execute("SELECT chunk_id FROM tokens")}
    todo = [i for i, r in enumerate(rows) if r.id not in known]
    src_path = _source_index(corpus) / "kiwi-tokens.db"
    if todo and src_path.exists():
        src = sqlite3.connect(src_path)
        want = [rows[i].id for i in todo if real[i]]
        for a in range(0, len(want), 500):
            part = want[a : a + 500]
            q = f"SELECT chunk_id, tokens FROM tokens WHERE chunk_id IN ({','.join('?' * len(part))})"
            with db:
                db.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?)", src.execute(q, part).fetchall())
        src.close()
        known = {r[0] for r in db.execute("SELECT chunk_id FROM tokens")}
        todo = [i for i in todo if rows[i].id not in known]
    synth = [i for i in todo if not real[i]]  # real chunks left over are tokenised by the index itself
    if synth:
        log(f"composing Kiwi tokens for {len(synth)} synthetic chunks ...")
        pieces: dict[str, list[str]] = {}
        for a in range(0, len(synth), 5000):
            part = synth[a : a + 5000]
            toks = compose_tokens([texts[i] for i in part], tokenize_many, pieces)
            with db:
                db.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?)",
                               [(rows[i].id, " ".join(t)) for i, t in zip(part, toks, strict=True)])
        check = random.Random(seed).sample(synth, min(200, len(synth)))
        full = tokenize_many([texts[i] for i in check])
        stored = dict(db.execute(f"SELECT chunk_id, tokens FROM tokens WHERE chunk_id IN ({','.join('?' * len(check))})",
                                 [rows[i].id for i in check]).fetchall())
        same, jac = 0, []
        for i, f in zip(check, full, strict=True):
            a, b = Counter(stored[rows[i].id].split(" ")), Counter(f)
            same += a == b
            jac.append(sum((a & b).values()) / max(1, sum((a | b).values())))
        state["token_check"] = {"sample": len(check), "identical": same, "mean_jaccard": round(float(np.mean(jac)), 4)}
    db.close()


# -- measuring (in a fresh process per size) ----------------------------------------------
def _rss() -> int:
    return psutil.Process().memory_info().rss


def _questions(paths: list[Path], limit: int | None) -> list[dict[str, Any]]:
    from dasan.bench.retrieval import load_questions

    qs = [q for p in paths for q in load_questions(p)]
    return qs[:limit] if limit else qs


def _run_queries(r, questions: list[dict[str, Any]], k: int = 10) -> dict[str, Any]:
    from dasan.bench.metrics import score_query

    for q in questions[:3]:
        r.rank(q["question"], k)
    wall, cpu, scored = [], [], []
    for q in questions:
        t, c = time.perf_counter(), time.process_time()
        ranked = r.rank(q["question"], k)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        if q.get("gold"):
            chunks = r.store.get_chunks([r.chunk_id(row) for row, _, _ in ranked])
            scored.append(score_query([c.citation.label for c in chunks], q["gold"]))
    return {
        "queries": len(wall),
        "p50_ms": round(float(np.percentile(wall, 50)), 1), "p95_ms": round(float(np.percentile(wall, 95)), 1),
        "mean_ms": round(float(np.mean(wall)), 1), "max_ms": round(float(np.max(wall)), 1),
        "cpu_p50_ms": round(float(np.percentile(cpu, 50)), 1), "cpu_p95_ms": round(float(np.percentile(cpu, 95)), 1),
        "recall@5": round(float(np.mean([s["recall@5"] for s in scored])), 4) if scored else None,
        "mrr@10": round(float(np.mean([s["mrr@10"] for s in scored])), 4) if scored else None,
    }


def _components(r) -> dict[str, int]:
    bm = r.lexical.bm25
    cols = sum(getattr(r, a).nbytes for a in ("_family_code", "_dates", "_repealed", "_prior", "_group", "_levels")
               if isinstance(getattr(r, a, None), np.ndarray))
    cols += 8 * (len(r._kinds) + len(r._family))  # object arrays: one pointer per row, shared strings
    out = {"bm25_matrix": bm.nbytes(), "columns": int(cols)}  # term frequencies (weights are per query)
    if r.dense is not None:
        out["dense_int8"] = int(r.dense.codes.nbytes + r.dense.scale.nbytes)
        out["ids"] = int(r.dense.ids.nbytes())
    return out


def _dense_recall(dense, qvecs: np.ndarray, ks: tuple[int, ...] = (10, 120)) -> dict[str, Any]:
    """Recall@k of each dense search mode against a float32 scan of the exact vectors."""
    n = dense.size
    vecs = dense.vectors(np.arange(n))
    exact = qvecs @ vecs.T
    del vecs
    hnsw, rescore = dense._hnsw, dense.rescore
    out: dict[str, Any] = {}
    modes = [("int8_scan", None, False), ("int8_scan+rescore", None, True)]
    if hnsw is not None:
        modes += [("hnsw", hnsw, False), ("hnsw+rescore", hnsw, True)]
    try:
        for name, graph, rs in modes:
            dense._hnsw, dense.rescore = graph, rs
            res, lat = {}, []
            for k in ks:
                hits = []
                for qi, q in enumerate(qvecs):
                    t = time.perf_counter()
                    got = {row for row, _ in dense.search_vector(q, k)}
                    lat.append((time.perf_counter() - t) * 1000)
                    truth = set(np.lexsort((np.arange(n), -exact[qi]))[:k].tolist())
                    hits.append(len(got & truth) / min(k, n))
                res[f"recall@{k}"] = round(float(np.mean(hits)), 4)
            res["p50_ms"] = round(float(np.percentile(lat, 50)), 2)
            out[name] = res
    finally:
        dense._hnsw, dense.rescore = hnsw, rescore
    return out


def measure(ddir: Path, questions: list[dict[str, Any]], *, hnsw: bool, log: Log = lambda s: None) -> dict[str, Any]:
    from dasan.index.columns import release_free_memory
    from dasan.index.embed.cache import CachedEmbedder
    from dasan.korean.tokenize import kiwi
    from dasan.rag.retrieve import Retriever
    from dasan.store import open_store

    store = open_store(ddir)
    r = Retriever(store, ddir)
    dense = r.dense
    dense.hnsw_threshold = 1 << 62  # exact first
    kiwi()
    r.lexical.tokenizer("철도 안전 점검")
    inner = dense.embedder.inner if isinstance(dense.embedder, CachedEmbedder) else dense.embedder
    inner.embed_queries(["워밍업"])
    gc.collect()
    release_free_memory()
    rss0, load0 = _rss(), os.getloadavg()[0]
    with PeakRss(0.02) as peak:
        t, c = time.perf_counter(), time.process_time()
        r.refresh()
        build_s, build_cpu = time.perf_counter() - t, time.process_time() - c
    dense = r.dense  # the published state's dense leg (each build makes a new one)
    gc.collect()
    release_free_memory()
    rss1 = _rss()
    n = r.size
    log(f"  {n} chunks: refresh {build_s:.1f}s, index RSS {(rss1 - rss0) / 2**20:.0f} MB")
    dense.embedder = inner  # every query below is embedded by the model
    out: dict[str, Any] = {
        "chunks": n, "rss_before_mb": round(rss0 / 2**20, 1),
        "refresh_s": round(build_s, 2), "refresh_cpu_s": round(build_cpu, 2),
        "index_rss_mb": round((rss1 - rss0) / 2**20, 1), "peak_rss_mb": round(peak.peak / 2**20, 1),
        "refresh_peak_growth_mb": round((peak.peak - rss0) / 2**20, 1),
        "components_bytes": _components(r),
    }
    out["exact"] = _run_queries(r, questions)
    gc.collect()
    release_free_memory()
    rss2 = _rss()
    out["steady_rss_mb"] = round(rss2 / 2**20, 1)
    out["steady_index_rss_mb"] = round((rss2 - rss0) / 2**20, 1)
    log(f"  exact: p50 {out['exact']['p50_ms']} ms, p95 {out['exact']['p95_ms']} ms")
    if hnsw:
        t = time.perf_counter()
        cached = any(ddir.glob("index/dense-*.usearch"))
        dense.set_hnsw_threshold(0)
        gc.collect()
        release_free_memory()
        rss3 = _rss()
        out["hnsw"] = {
            "build_s": round(time.perf_counter() - t, 1), "loaded_from_disk": cached,
            "rss_mb": round((rss3 - rss2) / 2**20, 1), "bytes_per_chunk": round((rss3 - rss2) / n),
            "usearch_memory_bytes": int(dense._hnsw.memory_usage),
        }
        out["hnsw"].update(_run_queries(r, questions))
        log(f"  hnsw: p50 {out['hnsw']['p50_ms']} ms, p95 {out['hnsw']['p95_ms']} ms")
    qvecs = np.stack([dense.embed_query(q["question"]) for q in questions[:60]])
    out["dense_recall_vs_float32"] = _dense_recall(dense, qvecs)
    out["load_avg"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    store.close()
    return out


def _measure_in_subprocess(ddir: Path, qpaths: list[Path], limit: int | None, hnsw: bool, log: Log) -> dict[str, Any]:
    args = json.dumps({"ddir": str(ddir), "questions": [str(p) for p in qpaths], "limit": limit, "hnsw": hnsw})
    proc = subprocess.run([sys.executable, "-m", "dasan.bench.scale", args], capture_output=True, text=True)
    for line in proc.stderr.splitlines():
        if line.startswith("  "):
            log(line)
    if proc.returncode != 0:
        raise click.ClickException(f"측정 프로세스가 실패했습니다 (종료 코드 {proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_scale(corpus: Path, sizes: list[int | None], qpaths: list[Path], *, seed: int = 0, pool_size: int = 3000,
                noise: float = 0.01, hnsw: bool = True, limit: int | None = None,
                log: Log = lambda s: None) -> dict[str, Any]:
    built = [prepare(corpus, size, seed=seed, pool_size=pool_size, noise=noise, log=log) for size in sizes]
    built.sort(key=lambda b: b["chunks"])
    runs = []
    for i, b in enumerate(built):
        log(f"measuring {b['chunks']} chunks ...")
        m = _measure_in_subprocess(Path(b["data_dir"]), qpaths, limit, hnsw and i == len(built) - 1, log)
        runs.append({"store": b, **m})
    out: dict[str, Any] = {"machine": machine(), "runs": runs, "notes": [
        "Dense vectors of synthetic chunks are synthetic: a random convex mix of 2-3 real e5 passage vectors "
        f"(pool of {pool_size}) plus N(0, {noise}^2) noise per component, renormalised; real statute chunks "
        "use their real e5 vectors. Queries are real questions, each embedded by the model during the timed call.",
        "Synthetic chunks' Kiwi tokens are composed from once-tokenised pieces (see store.token_check).",
    ]}
    if len(runs) >= 2:
        a, b = runs[0], runs[-1]
        slope = (b["steady_index_rss_mb"] - a["steady_index_rss_mb"]) * 2**20 / (b["chunks"] - a["chunks"])
        peak_slope = (b["refresh_peak_growth_mb"] - a["refresh_peak_growth_mb"]) * 2**20 / (b["chunks"] - a["chunks"])
        hn = b.get("hnsw", {}).get("bytes_per_chunk", 0)
        index_1m = a["steady_index_rss_mb"] * 2**20 + slope * (1_000_000 - a["chunks"]) + hn * 1_000_000
        out["memory"] = {
            "bytes_per_chunk_exact": round(slope), "hnsw_bytes_per_chunk": hn,
            "index_1m_gb": round(index_1m / 2**30, 2),
            "process_1m_gb": round((index_1m + b["rss_before_mb"] * 2**20) / 2**30, 2),
            "refresh_peak_bytes_per_chunk": round(peak_slope),
            # a 1M refresh peaks at its transient rows/texts or at the finished index with HNSW
            "process_peak_1m_gb": round((b["rss_before_mb"] * 2**20 + max(peak_slope * 1_000_000, index_1m)) / 2**30, 2),
        }
        out["latency_ratio_p50"] = round(b["exact"]["p50_ms"] / max(a["exact"]["p50_ms"], 1e-9), 2)
    return out


# -- incremental updates (issue 14 item 2) -------------------------------------------------
INSERT_COLLECTION = "insert-bench"


def _insert_doc(folder: Path, i: int, rng: random.Random, sentences: list[str]) -> tuple[Path, str]:
    """A small text document (about 6 chunks) with a marker word no other chunk holds."""
    marker = f"증분색인표식{i:03d}호"
    paras = [" ".join(rng.sample(sentences, min(6, len(sentences)))) for _ in range(6)]
    paras[rng.randrange(len(paras))] += f" 이 조항은 {marker} 확인 절차를 정한다."
    path = folder / f"insert-{i:03d}.txt"
    path.write_text("\n\n".join(paras) + "\n", encoding="utf-8")
    return path, marker


class _ThreadStores:
    """The store opened once per thread. On one shared SQLite connection, statements of several
    threads that keep overlapping keep one read transaction open, and with it an old snapshot of
    the database: the refresh could miss a commit for seconds (seen in this bench)."""

    def __init__(self, ddir: Path) -> None:
        import threading

        self._ddir, self._local = ddir, threading.local()

    def __getattr__(self, name: str) -> Any:
        s = getattr(self._local, "store", None)
        if s is None:
            from dasan.store import open_store

            s = self._local.store = open_store(self._ddir)
        return getattr(s, name)


def measure_inserts(ddir: Path, questions: list[dict[str, Any]], inserts: int, *, log: Log = lambda s: None,
                    seed: int = 0) -> dict[str, Any]:
    """Ingest ``inserts`` documents one at a time into the store while a thread searches, as the
    server does (its ingestion worker commits, then refreshes the shared
    :class:`~dasan.server.state.GuardedRetriever`); then one more with a full rebuild forced.
    Per insert: time from the commit to the new state being published (searchable), and the
    longest query that overlapped that interval. The inserted documents are removed at the end."""
    import tempfile
    import threading

    from dasan.index.embed.cache import CachedEmbedder
    from dasan.ingest.pipeline import ingest_paths
    from dasan.rag.retrieve import RetrievalConfig, SearchFilter
    from dasan.server.state import GuardedRetriever
    from dasan.store import open_store

    store = _ThreadStores(ddir)
    for d in store.list_documents(INSERT_COLLECTION):  # left over by an interrupted run
        store.remove_document(d.id)
    r = GuardedRetriever(store, ddir, RetrievalConfig(model=None))  # type: ignore[arg-type]
    dense = r.dense
    t = time.perf_counter()
    r.update()
    first_s = time.perf_counter() - t
    dense = r.dense  # the published state's dense leg (each build makes a new one)
    log(f"  {r.size} chunks: first refresh {first_s:.1f}s (hnsw {dense.hnsw_active})")
    inner = dense.embedder.inner if isinstance(dense.embedder, CachedEmbedder) else dense.embedder
    dense.embedder = inner  # queries and the new passages are embedded by the model
    texts = [t for t in store.chunk_texts([r.chunk_id(i) for i in range(0, r.size, max(1, r.size // 400))]).values()]
    sentences = [x.strip() + "." for t in texts for x in t.split(".") if 20 <= len(x.strip()) <= 120][:2000]
    for q in questions[:3]:
        r.rank(q["question"], 10)
    spans: list[tuple[float, float]] = []
    stop = threading.Event()

    def ask() -> None:
        i = 0
        while not stop.is_set():
            q = questions[i % len(questions)]["question"]
            a = time.perf_counter()
            r.rank(q, 10)
            spans.append((a, time.perf_counter()))
            i += 1

    def worst(a: float, b: float) -> float:
        return max([(e - s) * 1000 for s, e in spans if e >= a and s <= b] or [0.0])

    swaps: list[float] = []  # how long each publish took (a snapshot swap: searches never wait for it)
    publish = r.publish

    def timed_publish(built) -> None:
        a = time.perf_counter()
        publish(built)
        swaps.append((time.perf_counter() - a) * 1000)

    r.publish = timed_publish
    rng = random.Random(seed)
    writer = open_store(ddir)  # the ingestion worker's own connection
    per: list[dict[str, Any]] = []
    windows: list[tuple[float, float]] = []  # (commit, published) of each insert
    asker = threading.Thread(target=ask, daemon=True)
    with tempfile.TemporaryDirectory() as tmp:
        asker.start()
        time.sleep(2.0)
        try:
            for i in range(inserts + 1):
                full = i == inserts
                if full:
                    r.INCREMENTAL_SHARE = -1.0  # the same insert, rebuilt in full
                path, marker = _insert_doc(Path(tmp), i, rng, sentences)
                t0 = time.perf_counter()
                ingest_paths(writer, [path], collection=INSERT_COLLECTION)
                t1 = time.perf_counter()
                r.update()
                t2 = time.perf_counter()
                new_ids = [c.id for d in writer.list_documents(INSERT_COLLECTION) if d.source_path.endswith(path.name)
                           for c in writer.chunks_of(d.id)]
                indexed = bool(new_ids) and all(r._row(cid) is not None for cid in new_ids)
                hits = r.search(f"{marker} 확인 절차", k=10, flt=SearchFilter(collection=INSERT_COLLECTION))
                found = any(h.chunk.id in new_ids for h in hits)
                windows.append((t1, t2))
                rec = {"ingest_s": round(t1 - t0, 3), "searchable_s": round(t2 - t1, 3),
                       "build": r.last_build, "indexed": indexed, "found": found, "max_query_ms": round(worst(t1, t2), 1),
                       "swap_ms": round(swaps[-1], 2) if swaps else None, "error": r.last_refresh_error,
                       "phases_ms": {k: round(v) for k, v in r.build_ms.items()}}
                per.append(rec)
                log(f"  insert {i}: " + ", ".join(
                    f"{k} {' '.join(f'{a}={b}' for a, b in v.items()) if isinstance(v, dict) else v}"
                    for k, v in rec.items()))
                time.sleep(1.0)
        finally:
            stop.set()
            asker.join(60)
            r.INCREMENTAL_SHARE = type(r).INCREMENTAL_SHARE
            for d in writer.list_documents(INSERT_COLLECTION):
                writer.remove_document(d.id)
            writer.close()
    inc = [p for p in per[:-1] if p["build"] == "incremental"]
    quiet = [(e - s) * 1000 for s, e in spans if not any(e >= a and s <= b for a, b in windows)]
    sv = [p["searchable_s"] for p in inc]
    return {
        "chunks": r.size, "first_refresh_s": round(first_s, 2), "hnsw": dense.hnsw_active, "inserts": per,
        "incremental": {
            "count": len(inc), "all_indexed": all(p["indexed"] for p in inc), "all_found": all(p["found"] for p in inc),
            "searchable_p50_s": round(float(np.percentile(sv, 50)), 3) if sv else None,
            "searchable_p95_s": round(float(np.percentile(sv, 95)), 3) if sv else None,
            "searchable_max_s": round(max(sv), 3) if sv else None,
            "max_query_ms": max((p["max_query_ms"] for p in inc), default=None),
            "max_swap_ms": max((p["swap_ms"] or 0 for p in inc), default=None),
            "ingest_p50_s": round(float(np.percentile([p["ingest_s"] for p in inc], 50)), 3) if inc else None,
        },
        "full_rebuild": per[-1],
        "queries_outside_inserts": {"count": len(quiet), "p50_ms": round(float(np.percentile(quiet, 50)), 1),
                    "p99_ms": round(float(np.percentile(quiet, 99)), 1), "max_ms": round(max(quiet), 1)},
    }


def bench_insert(corpus: Path, size: int, qpaths: list[Path], inserts: int, *, seed: int = 0, pool_size: int = 3000,
                 noise: float = 0.01, limit: int | None = None, log: Log = lambda s: None) -> dict[str, Any]:
    """``dasan bench scale --insert N``: the store of ``size`` chunks as for the scale bench,
    then :func:`measure_inserts` in a fresh process."""
    b = prepare(corpus, size, seed=seed, pool_size=pool_size, noise=noise, log=log)
    log(f"measuring inserts at {b['chunks']} chunks ...")
    args = json.dumps({"ddir": b["data_dir"], "questions": [str(p) for p in qpaths], "limit": limit,
                       "insert": inserts, "seed": seed})
    proc = subprocess.run([sys.executable, "-m", "dasan.bench.scale", args], capture_output=True, text=True)
    for line in proc.stderr.splitlines():
        if line.startswith("  "):
            log(line)
    if proc.returncode != 0:
        raise click.ClickException(f"측정 프로세스가 실패했습니다 (종료 코드 {proc.returncode}):\n{proc.stderr[-2000:]}")
    return {"machine": machine(), "store": b, **json.loads(proc.stdout.strip().splitlines()[-1])}


@click.command("scale")
@click.option("--chunks", "size", type=int, default=100_000, show_default=True, help="큰 저장소의 청크 수")
@click.option("--small", type=int, default=0, show_default=True,
              help="비교용 작은 저장소의 청크 수 (0: 실제 법령 말뭉치만)")
@click.option("--corpus", type=click.Path(exists=True, file_okay=False), default=None,
              help="원본 법령 폴더 (기본: ../shared/data/laws)")
@click.option("--questions", "questions", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="질문 JSONL (여러 번 지정 가능; 기본: law_qa_dev + law_defs)")
@click.option("--limit", type=int, default=None, help="질문을 앞에서부터 이 개수만")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--pool", "pool_size", type=int, default=3000, show_default=True, help="합성 벡터의 재료가 될 실제 벡터 수")
@click.option("--noise", type=float, default=0.01, show_default=True, help="합성 벡터 잡음 (성분별 표준편차)")
@click.option("--hnsw/--no-hnsw", default=True, show_default=True, help="가장 큰 저장소에서 HNSW 경로도 측정")
@click.option("--backend", type=click.Choice(["sqlite", "postgresql"]), default=None,
              help="저장소 백엔드 비교 (합성 벡터, 필터 재현율; postgresql은 DASAN_DATABASE_URL의 빈 DB)")
@click.option("--bulk", is_flag=True,
              help="--backend와 함께: 문서·벡터를 일괄 적재 (put_documents; PostgreSQL은 COPY 후 HNSW 한 번에 생성)")
@click.option("--insert", "inserts", type=int, default=0, show_default=True,
              help="N>0: 검색 중에 문서 N개를 하나씩 넣어 증분 색인 반영 시간을 잽니다 (지연/메모리 측정 대신)")
@click.option("--json", "as_json", is_flag=True)
def scale(size: int, small: int, corpus: str | None, questions: tuple[str, ...], limit: int | None, seed: int,
          pool_size: int, noise: float, hnsw: bool, backend: str | None, bulk: bool, inserts: int,
          as_json: bool) -> None:
    """합성 법령 저장소(N청크)에서 검색 지연시간과 색인 메모리를 잽니다."""
    if not 1 <= size <= MAX_CHUNKS:
        raise click.BadParameter(f"1 이상 {MAX_CHUNKS:,} 이하로 지정하세요 (받은 값: {size}).", param_hint="--chunks")
    if backend is not None:  # issue 19: one backend's store and dense leg on synthetic data
        from dasan.bench.scale_backends import run
        from dasan.store import database_url

        url = database_url()
        if backend == "postgresql" and not url:
            raise click.ClickException("--backend postgresql에는 DASAN_DATABASE_URL(빈 데이터베이스)이 필요합니다.")
        result = run(backend, size, url=url, seed=seed, bulk=bulk, log=lambda m: click.echo(m, err=True))
        result["machine"] = machine()
        click.echo(json.dumps(result, ensure_ascii=False, indent=1 if as_json else None))
        return
    if small < 0 or (small and small >= size):
        raise click.BadParameter(f"0 또는 --chunks({size})보다 작은 값이어야 합니다 (받은 값: {small}).",
                                 param_hint="--small")
    if pool_size < 10 or not 0 <= noise < 1:
        raise click.BadParameter("--pool은 10 이상, --noise는 0 이상 1 미만이어야 합니다.")
    root = Path(corpus) if corpus else config.shared_dir() / "data" / "laws"
    if not root.is_dir():
        raise click.ClickException(f"법령 말뭉치 폴더가 없습니다: {root}. --corpus로 지정하세요.")
    qpaths = [Path(q) for q in questions] or [
        p for p in (config.shared_dir() / "bench" / n for n in ("law_qa_dev.jsonl", "law_defs.jsonl")) if p.exists()]
    if not qpaths:
        raise click.ClickException("질문 파일이 없습니다. --questions로 지정하세요.")
    if inserts > 0:
        res = bench_insert(root, size, qpaths, inserts, seed=seed, pool_size=pool_size, noise=noise, limit=limit,
                           log=lambda m: click.echo(m, err=True))
        if as_json:
            click.echo(json.dumps(res, ensure_ascii=False, indent=1))
            return
        inc, full = res["incremental"], res["full_rebuild"]
        click.echo(f"{res['chunks']:>9,} chunks  insert → searchable p50 {inc['searchable_p50_s']} / p95 "
                   f"{inc['searchable_p95_s']} s, max query {inc['max_query_ms']} ms ({inc['count']} inserts)")
        click.echo(f"{'':>17}full rebuild: searchable {full['searchable_s']} s, max query {full['max_query_ms']} ms")
        return
    result = bench_scale(root, [small or None, size], qpaths, seed=seed, pool_size=pool_size, noise=noise,
                         hnsw=hnsw, limit=limit, log=lambda m: click.echo(m, err=True))
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=1))
        return
    for run in result["runs"]:
        ex = run["exact"]
        click.echo(f"{run['chunks']:>9,} chunks  exact p50 {ex['p50_ms']} / p95 {ex['p95_ms']} ms  "
                   f"refresh {run['refresh_s']} s  index RSS {run['steady_index_rss_mb']} MB  peak {run['peak_rss_mb']} MB")
        if "hnsw" in run:
            h = run["hnsw"]
            click.echo(f"{'':>9}         hnsw  p50 {h['p50_ms']} / p95 {h['p95_ms']} ms  build {h['build_s']} s  "
                       f"+{h['rss_mb']} MB")
        click.echo(f"{'':>17}dense recall vs float32: {run['dense_recall_vs_float32']}")
    if "memory" in result:
        click.echo(f"memory: {result['memory']}")
    for note in result["notes"]:
        click.echo(f"note: {note}")


def _worker() -> None:
    args = json.loads(sys.argv[1])

    def log(m: str) -> None:
        print(m, file=sys.stderr, flush=True)

    qs = _questions([Path(p) for p in args["questions"]], args["limit"])
    if args.get("insert"):
        print(json.dumps(measure_inserts(Path(args["ddir"]), qs, args["insert"], log=log, seed=args["seed"]),
                         ensure_ascii=False))
        return
    res = measure(Path(args["ddir"]), qs, hnsw=args["hnsw"], log=log)
    print(json.dumps(res, ensure_ascii=False))


if __name__ == "__main__":
    _worker()
