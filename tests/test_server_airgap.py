"""Air-gapped operation: ``dasan serve`` started inside a network namespace that has nothing but
loopback (``unshare -n``) ingests the samples, builds the e5 index and answers a question — no
download, no outside connection. Runs where ``unshare -n`` works (root on Linux); under CI=true
its absence is a failure, not a skip."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dasan.config import REPO_ROOT

SCRIPT = r"""
set -u
ip link set lo up
"$PY" -c 'from dasan.server.serve import serve; serve()' --port 8123 > "$LOG" 2>&1 &
pid=$!
"$PY" - <<'EOF'
import json, os, re, sys, time
import httpx
log = open(os.environ["LOG"], encoding="utf-8")
deadline = time.time() + 240
while time.time() < deadline:
    try:
        if httpx.get("http://127.0.0.1:8123/readyz", timeout=2).status_code == 200:
            break
    except httpx.HTTPError:
        pass
    time.sleep(0.5)
else:
    sys.exit("server not ready")
key = re.search(r"dsn_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", log.read()).group(0)
try:
    httpx.get("http://1.1.1.1/", timeout=3)
    outside = "reachable"
except httpx.HTTPError as e:
    outside = type(e).__name__
r = httpx.post("http://127.0.0.1:8123/v1/chat/completions", timeout=60,
               headers={"Authorization": "Bearer " + key},
               json={"model": "dasan", "messages": [{"role": "user", "content": "열차가 접근하면 어떻게 대피하나요?"}]})
body = r.json()
print(json.dumps({"status": r.status_code, "outside": outside, "answer": body["choices"][0]["message"]["content"],
                  "citations": [c["citation"] for c in body["citations"]]}, ensure_ascii=False))
EOF
rc=$?
kill $pid
wait $pid 2>/dev/null
exit $rc
"""


def _unshare_works() -> bool:
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def test_serve_answers_without_network(tmp_path: Path) -> None:
    if not _unshare_works():
        msg = "`unshare -n` is not available here (needs root and util-linux)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)
    env = {**os.environ, "DASAN_HOME": str(tmp_path / "home"), "LOG": str(tmp_path / "serve.log"),
           "PY": sys.executable, "PYTHONPATH": str(REPO_ROOT), "DASAN_AUDIT_SYNC": "normal",
           "HTTP_PROXY": "", "HTTPS_PROXY": "", "http_proxy": "", "https_proxy": ""}
    proc = subprocess.run(["unshare", "-n", "sh", "-c", SCRIPT], env=env, capture_output=True, text=True,
                          timeout=300, cwd=REPO_ROOT)
    log = (tmp_path / "serve.log").read_text(encoding="utf-8", errors="replace")
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}\n--- server log ---\n{log}"
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["status"] == 200 and out["outside"] != "reachable"
    assert "[1]" in out["answer"] and any("대피" in c for c in out["citations"])
    assert "처음 실행: 관리자 사용자 'admin'의 API 키" in log and "http://127.0.0.1:8123/" in log
