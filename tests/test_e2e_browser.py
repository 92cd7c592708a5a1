"""Real-browser end-to-end test of the web interface (tests/e2e/run.mjs in headless Chromium).

Starts a real server on a free port with a temporary data directory, sets up users and keys with the
CLI, ingests a 민감 document with the CLI, then drives Debian's /usr/bin/chromium through
playwright-core: login, HWPX upload, streamed answer with citations, highlighted source passage,
admin pages, and a 공개 user for whom the 민감 document must appear nowhere.
Screenshots go to tests/e2e/artifacts/. Missing node/chromium/playwright-core: skip locally, FAIL under CI.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
E2E = ROOT / "tests" / "e2e"
ARTIFACTS = E2E / "artifacts"
CHROMIUM = os.environ.get("DASAN_CHROMIUM", "/usr/bin/chromium")
HWPX = sorted((ROOT / "examples" / "press").glob("*.hwpx"))
COLLECTION = "press"
QUESTION = "폭염특보가 발령되면 옥외 선로 작업은 언제 중지하나요?"
EXPECT = "오후 2시부터 5시까지"  # the HWPX's answer to QUESTION
SECRET_TITLE = "2027년 도시철도 방호시설 비공개 점검 계획"
XSS = '<img src=x onerror="window.__xss=1">'  # must be shown as text, never run
SECRET_MARKER = "청룡칠칠삼일 방호구역"
SECRET_TEXT = f"""# {SECRET_TITLE}

이 문서는 민감 등급입니다.

{SECRET_MARKER}의 출입 통제 장비는 2027년 3월 15일에 교체하며, 예비 통제실의 위치는 외부에 공개하지 않는다.
{SECRET_MARKER} 점검반은 매주 목요일 새벽 1시에 순찰한다.

표기 예시: {XSS} 이 표기는 글자 그대로 보여야 한다.
"""
SECRET_QUESTION = f"{SECRET_MARKER}의 출입 통제 장비는 언제 교체하나요?"
SECRET_FACTS = ["2027년 3월 15일", "예비 통제실", "새벽 1시"]  # only the 민감 document says these


def _need(cond: bool, msg: str) -> None:
    if cond:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{msg} (run `make e2e-deps`)")
    pytest.skip(msg)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> str:
    res = subprocess.run([sys.executable, "-m", "dasan.cli", *args], env=env, capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert res.returncode == 0, f"dasan {' '.join(args)} failed: {res.stderr[-2000:]}"
    return res.stdout


def _has_serve(env: dict[str, str]) -> bool:
    res = subprocess.run([sys.executable, "-m", "dasan.cli", "--help"], env=env, capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    return any(line.strip().startswith("serve") for line in res.stdout.splitlines())


LAUNCHER = """
import sys
from pathlib import Path
import uvicorn
from dasan.server.app import create_app
uvicorn.run(create_app(Path(sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("server did not become ready in time")


def test_web_interface_end_to_end(tmp_path: Path) -> None:
    node = shutil.which("node")
    _need(node is not None, "node is not installed")
    _need(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}")
    _need((E2E / "node_modules" / "playwright-core" / "package.json").exists(),
          "playwright-core is not installed in tests/e2e/node_modules")
    assert HWPX, "examples/press/*.hwpx missing"

    from dasan.ingest.readers import read_file

    doc = read_file(HWPX[0])
    assert EXPECT in doc.text, "the sample HWPX no longer answers the test question"
    title = doc.title or ""
    assert title

    home = tmp_path / "home"
    env = {**os.environ, "DASAN_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("DASAN_USER", None)
    _cli(env, "users", "add", "chief", "--clearance", "기밀", "--role", "admin")
    admin_scopes = [a for s in ("search", "ask", "docs", "audit", "admin") for a in ("--scope", s)]
    admin_key = json.loads(_cli(env, "keys", "create", "--user", "chief", *admin_scopes, "--json"))["key"]
    _cli(env, "users", "add", "reader", "--clearance", "공개", "--role", "user")
    user_key = json.loads(_cli(env, "keys", "create", "--user", "reader", "--json"))["key"]
    secret = tmp_path / "secret.md"
    secret.write_text(SECRET_TEXT, encoding="utf-8")
    _cli(env, "ingest", str(secret), "--collection", COLLECTION, "--level", "민감", "--json")
    docs = json.loads(_cli(env, "docs", "list", "--json"))
    secret_doc = next(d for d in docs if d["title"] == SECRET_TITLE)
    shown = json.loads(_cli(env, "docs", "show", secret_doc["id"], "--chunks", "--json"))
    secret_chunks = [c["id"] for c in shown["chunks"]]
    secret_chunk = next(c["id"] for c in shown["chunks"] if SECRET_MARKER in c["text"])

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    if _has_serve(env):
        cmd = [sys.executable, "-m", "dasan.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    else:
        cmd = [sys.executable, "-c", LAUNCHER, str(home), str(port)]
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(url, server)
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        cfg = {
            "url": url, "adminKey": admin_key, "userKey": user_key, "hwpx": str(HWPX[0]),
            "question": QUESTION, "expect": EXPECT, "title": title, "chromium": CHROMIUM,
            "artifacts": str(ARTIFACTS),
            "secret": {"title": SECRET_TITLE, "marker": SECRET_MARKER, "question": SECRET_QUESTION, "facts": SECRET_FACTS,
                       "xss": XSS,
                       "documentId": secret_doc["id"], "chunkId": secret_chunk,
                       "chunkIds": secret_chunks, "collection": COLLECTION},
        }
        cfg_path = tmp_path / "e2e.json"
        cfg_path.write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")
        res = subprocess.run([node, str(E2E / "run.mjs"), str(cfg_path)], cwd=E2E, capture_output=True,
                             text=True, timeout=600)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    server_log = (tmp_path / "server.log").read_text(errors="replace")[-3000:]
    assert lines, f"no result from run.mjs: {res.stderr[-3000:]}\nserver log:\n{server_log}"
    out = json.loads(lines[-1])
    failed = {k: v for k, v in out["checks"].items() if v is not True and k != "secret_question_refused"}
    assert out["ok"] and res.returncode == 0, (
        f"e2e failed at {out['error']}\nfailed checks: {failed}\npage errors: {out['page_errors']}\n"
        f"stderr: {res.stderr[-2000:]}\nserver log:\n{server_log}")
    assert not failed
    print(json.dumps({"seconds": out["seconds"], "timings": out["timings"], "checks": len(out["checks"]),
                      "console_errors": out["console_errors"],
                      "screenshots": [Path(p).name for p in out["screenshots"]]}, ensure_ascii=False))
    for name in ("secret_appears_nowhere", "user_collection_count_excludes_secret", "mark_contains_expected",
                 "chat_used_sse", "upload_ingested", "narrow_no_horizontal_scroll"):
        assert out["checks"].get(name) is True, name
    assert len(out["screenshots"]) >= 12
    assert all(Path(p).is_file() for p in out["screenshots"])
