"""Ingest throughput: files/s, chunks/s and peak memory, with read-only and re-ingest baselines.

With ``embed=N`` it also embeds N of the ingested chunks (a fixed random sample, index text as
the search index embeds it) with e5 through :class:`~dasan.index.dense.DenseIndex`, no cache,
and reports sustained chunks/s in wall time and per CPU-second (the CPUs are often shared, so
wall time alone understates the runtime), plus ingest + embedding combined.
"""

from __future__ import annotations

import os
import platform
import random
import resource
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from dasan.errors import DasanError
from dasan.ingest.pipeline import discover, ingest_paths
from dasan.ingest.readers import read_file
from dasan.store import open_store


class PeakRss:
    """Samples this process's resident memory in a background thread."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._proc = psutil.Process()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self.peak = self._proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


def machine() -> dict[str, Any]:
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
    }


def bench_embed(pairs: list[tuple[str, str]], directory: Path, *, baseline: bool = False) -> dict[str, Any]:
    """Sustained e5 embedding of ``pairs`` = [(chunk id, index text)] as ingestion runs it."""
    from dasan.index.dense import DenseIndex
    from dasan.index.embed import get_embedder

    t0 = time.perf_counter()
    emb = get_embedder("e5")
    emb.embed_passages(["모델 준비"])
    load_s = time.perf_counter() - t0
    modes = [("sequential", False)] if baseline else []
    modes.append(("pipelined", bool(getattr(emb, "thread_safe", False))))
    out: dict[str, Any] = {"embed_chunks": len(pairs), "model_load_s": round(load_s, 2)}
    for name, safe in modes:
        emb.thread_safe = safe  # type: ignore[attr-defined]
        index = DenseIndex(directory / name, emb)
        load0 = os.getloadavg()[0]
        t, c = time.perf_counter(), time.process_time()
        index.sync(pairs)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        index.close()
        out[name] = {
            "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "chunks_per_s": round(len(pairs) / wall, 1), "chunks_per_cpu_s": round(len(pairs) / cpu, 1),
            "cpu_per_wall": round(cpu / wall, 2), "load_avg": [round(load0, 2), round(os.getloadavg()[0], 2)],
        }
    tokens = [len(emb.token_ids(text, "passage", emb.max_tokens - 2)) + 2 for _, text in pairs]
    out["mean_tokens"] = round(float(sum(tokens) / max(1, len(tokens))), 1)
    out["cores"] = os.cpu_count()
    return out


def bench_ingest(paths: list[str], recursive: bool = True, embed: int = 0,
                 embed_baseline: bool = False) -> dict[str, Any]:
    files, _ = discover(paths, recursive)
    total_bytes = sum(f.stat().st_size for f in files)

    # Baseline 1: readers alone (no structure parsing, chunking or storage).
    t0 = time.perf_counter()
    read_ok = 0
    for f in files:
        try:
            read_file(f)
            read_ok += 1
        except DasanError:
            pass
    read_s = time.perf_counter() - t0

    with tempfile.TemporaryDirectory(prefix="dasan-bench-") as tmp:
        store = open_store(Path(tmp))
        rss_before = psutil.Process().memory_info().rss
        with PeakRss() as peak:
            t0, c0 = time.perf_counter(), time.process_time()
            report = ingest_paths(store, files, collection="bench")
            ingest_s, ingest_cpu_s = time.perf_counter() - t0, time.process_time() - c0
        # Baseline 2: re-ingest of unchanged files (must do no work beyond hashing).
        t0 = time.perf_counter()
        again = ingest_paths(store, files, collection="bench")
        reingest_s = time.perf_counter() - t0
        db_bytes = sum(p.stat().st_size for p in Path(tmp).glob("dasan.db*"))
        emb_result: dict[str, Any] | None = None
        if embed > 0:
            from dasan.rag.retrieve import Retriever

            rows = store.index_rows()
            sample = random.Random(0).sample(range(len(rows)), min(embed, len(rows)))
            pairs = [(rows[i].id, Retriever.index_text(rows[i])) for i in sample]
            del rows
            emb_result = bench_embed(pairs, Path(tmp) / "embed", baseline=embed_baseline)
        store.close()
    s = report.summary()
    result = {
        "machine": machine(),
        "files": len(files),
        "bytes": total_bytes,
        "ingested": s["ingested"],
        "failed": len(s["failed"]),
        "chunks": s["chunks"],
        "read_only_s": round(read_s, 2),
        "ingest_s": round(ingest_s, 2),
        "ingest_cpu_s": round(ingest_cpu_s, 2),
        "files_per_s": round(len(files) / ingest_s, 2) if ingest_s else None,
        "chunks_per_s": round(s["chunks"] / ingest_s, 1) if ingest_s else None,
        "mb_per_s": round(total_bytes / 2**20 / ingest_s, 2) if ingest_s else None,
        "parse_chunk_store_overhead_x": round(ingest_s / read_s, 2) if read_s else None,
        "reingest_unchanged_s": round(reingest_s, 3),
        "reingest_unchanged": again.count("unchanged"),
        "reingest_ratio": round(reingest_s / ingest_s, 4) if ingest_s else None,
        "peak_rss_mb": round(peak.peak / 2**20, 1),
        "rss_growth_mb": round((peak.peak - rss_before) / 2**20, 1),
        "max_rss_process_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "store_mb": round(db_bytes / 2**20, 2),
    }
    if emb_result is not None:
        run = emb_result["pipelined"]
        per_chunk_wall = ingest_s / max(1, s["chunks"]) + run["wall_s"] / max(1, emb_result["embed_chunks"])
        per_chunk_cpu = ingest_cpu_s / max(1, s["chunks"]) + run["cpu_s"] / max(1, emb_result["embed_chunks"])
        emb_result["ingest_plus_embed_chunks_per_s"] = round(1 / per_chunk_wall, 1)
        emb_result["ingest_plus_embed_chunks_per_cpu_s"] = round(1 / per_chunk_cpu, 1)
        result["embedding"] = emb_result
    return result
