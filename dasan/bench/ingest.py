"""Ingest throughput: files/s, chunks/s and peak memory, with read-only and re-ingest baselines."""

from __future__ import annotations

import os
import platform
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


def bench_ingest(paths: list[str], recursive: bool = True) -> dict[str, Any]:
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
            t0 = time.perf_counter()
            report = ingest_paths(store, files, collection="bench")
            ingest_s = time.perf_counter() - t0
        # Baseline 2: re-ingest of unchanged files (must do no work beyond hashing).
        t0 = time.perf_counter()
        again = ingest_paths(store, files, collection="bench")
        reingest_s = time.perf_counter() - t0
        db_bytes = sum(p.stat().st_size for p in Path(tmp).glob("dasan.db*"))
        store.close()
    s = report.summary()
    return {
        "machine": machine(),
        "files": len(files),
        "bytes": total_bytes,
        "ingested": s["ingested"],
        "failed": len(s["failed"]),
        "chunks": s["chunks"],
        "read_only_s": round(read_s, 2),
        "ingest_s": round(ingest_s, 2),
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
