"""Replicas smoke test (issue 19): two ``dasan serve`` replicas and one ``dasan worker`` on one
PostgreSQL database; uploads of 민감 documents through replica A while a 공개 user searches
replica B; the worker killed with -9 once and restarted; then ``dasan audit verify``.

    python -m dasan.store.postgres.smoke postgresql://…/empty_db 60 [WORKDIR]

Prints uploads, jobs done, errors, leaked texts and how long after its job ended each upload
became searchable on the other replica (p50/p95/max). Lexical search only (DASAN_EMBEDDER=none)
so that it runs in seconds; ports 8711 and 8712.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

PY = sys.executable
REPO = str(Path(__file__).resolve().parents[3])
CLI = "from dasan.cli import main; main()"


def _cli(env: dict[str, str], home: str, *args: str) -> str:
    r = subprocess.run([PY, "-c", CLI, *args], env={**env, "DASAN_HOME": home}, capture_output=True, text=True,
                       cwd=REPO)
    if r.returncode:
        raise SystemExit(f"command failed: {args}: {r.stdout} {r.stderr}")
    return r.stdout


def _start(env: dict[str, str], home: str, log: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([PY, "-c", CLI, *args], env={**env, "DASAN_HOME": home}, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=log.open("a"))


def _wait_ready(port: int) -> None:
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"replica on port {port} did not become ready")


def run(url: str, seconds: float, work: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": REPO, "DASAN_DATABASE_URL": url, "DASAN_EMBEDDER": "none",
           "DASAN_AUDIT_SYNC": "normal"}
    a, b = str(work / "a"), str(work / "b")
    _cli(env, a, "users", "add", "admin", "--clearance", "기밀", "--role", "admin")
    _cli(env, a, "users", "add", "kim", "--clearance", "공개")
    admin = json.loads(_cli(env, a, "keys", "create", "--user", "admin", "--scope", "search", "--scope", "docs",
                            "--json"))["key"]
    kim = json.loads(_cli(env, b, "keys", "create", "--user", "kim", "--scope", "search", "--json"))["key"]
    sa = _start(env, a, work / "a.log", "serve", "--port", "8711", "--no-samples")
    sb = _start(env, b, work / "b.log", "serve", "--port", "8712", "--no-samples")
    w = _start(env, a, work / "worker.log", "worker", "--lease", "10")
    ha, hk = {"Authorization": f"Bearer {admin}"}, {"Authorization": f"Bearer {kim}"}
    errors, leaks, delays, jobs, killed, n = 0, 0, [], [], False, 0
    try:
        _wait_ready(8711)
        _wait_ready(8712)
        t0 = time.time()
        while time.time() - t0 < seconds:
            if not killed and time.time() - t0 > seconds / 3:
                w.send_signal(signal.SIGKILL)
                w.wait()
                w = _start(env, a, work / "worker.log", "worker", "--lease", "10")
                killed = True
            token = f"비밀{secrets.token_hex(4)}"
            r = httpx.post("http://127.0.0.1:8711/v1/documents", headers=ha, timeout=30,
                           data={"collection": "내부", "level": "민감"},
                           files={"files": (f"doc{n}.txt", f"{token} 내부 검토 문서 {n}: 예산 재배정 계획.".encode(),
                                            "text/plain")})
            n += 1
            if r.status_code != 202:
                errors += 1
                continue
            job = r.json()["job"]
            jobs.append(job)
            while not httpx.get(f"http://127.0.0.1:8711/v1/jobs/{job}", headers=ha, timeout=30).json()["done"]:
                time.sleep(0.05)
            done, found = time.time(), False
            while time.time() - done < 10 and not found:
                res = httpx.post("http://127.0.0.1:8712/v1/search", headers=ha, json={"query": token}, timeout=30)
                if res.status_code != 200:
                    errors += 1
                    break
                found = token in res.text
            delays.append(time.time() - done if found else 99.0)
            for query in (token, "예산 재배정 계획"):
                res = httpx.post("http://127.0.0.1:8712/v1/search", headers=hk, json={"query": query}, timeout=30)
                errors += res.status_code != 200
                leaks += "비밀" in res.text
        done_jobs = sum(bool(httpx.get(f"http://127.0.0.1:8711/v1/jobs/{j}", headers=ha).json()["done"]) for j in jobs)
    finally:
        for p in (sa, sb, w):
            p.send_signal(signal.SIGTERM)
        for p in (sa, sb, w):
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
    ds = sorted(delays) or [99.0]
    return {"uploads": n, "jobs_done": done_jobs, "errors": errors, "leaks": leaks,
            "searchable_on_other_replica_s": {"p50": round(statistics.median(ds), 3),
                                               "p95": round(ds[int(0.95 * (len(ds) - 1))], 3), "max": round(ds[-1], 3)},
            "worker_killed": killed, "audit_verify": _cli(env, a, "audit", "verify").strip()}


if __name__ == "__main__":
    work = Path(sys.argv[3]) if len(sys.argv) > 3 else Path(tempfile.mkdtemp(prefix="dasan-smoke-"))
    print(json.dumps(run(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 60, work), ensure_ascii=False))
