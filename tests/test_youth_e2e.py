"""Real-browser test of the citizen page 청년 혜택 찾기 (tests/e2e/youth.mjs in headless Chromium, 360 px).

Starts a real server on a free port over a temporary store filled with the shared 온통청년 catalogue
(``dasan youth ingest``), plus one 공개 policy whose name is an HTML injection attempt and one 민감
policy that must never appear. No account is created: the page must work without a key.
Screenshots go to tests/e2e/artifacts/youth/. Missing node/chromium/playwright-core: skip locally,
FAIL under CI.
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
from conftest import shared_path

ROOT = Path(__file__).resolve().parent.parent
E2E = ROOT / "tests" / "e2e"
ARTIFACTS = E2E / "artifacts" / "youth"
CHROMIUM = os.environ.get("DASAN_CHROMIUM", "/usr/bin/chromium")
SENTENCE = "관악구 사는 27살 취준생인데 월세 지원 있어요?"
XSS_NAME = '관악 청년 면접 정장 대여 <img src=x onerror="window.__xss=1">'
SECRET_NAME = "청룡칠칠 비공개 면접 시험 정책"
LAUNCHER = """
import sys
from pathlib import Path
import uvicorn
from dasan.server.app import create_app
uvicorn.run(create_app(Path(sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


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


def _record(base: dict, **over: str) -> dict:
    rec = {**base, **over}
    for k in ("addAplyQlfcCndCn", "ptcpPrpTrgtCn", "earnEtcCn"):
        rec[k] = ""
    rec.update({"sprtTrgtAgeLmtYn": "Y", "sprtTrgtMinAge": "0", "sprtTrgtMaxAge": "0", "jobCd": "0013010",
                "schoolCd": "0049010", "mrgSttsCd": "0055003", "sbizCd": "0014010", "plcyMajorCd": "0011009",
                "earnCndSeCd": "0043001", "zipCd": "11620", "lclsfNm": "일자리", "aplyYmd": "",
                "aplyUrlAddr": "https://www.youthcenter.go.kr/", "lastMdfcnDt": "2025-08-01 00:00:00"})
    return rec


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("server did not start in time")


def test_youth_page_at_360px(tmp_path: Path) -> None:
    node = shutil.which("node")
    _need(node is not None, "node is not installed")
    _need(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}")
    _need((E2E / "node_modules" / "playwright-core" / "package.json").exists(),
          "playwright-core is not installed in tests/e2e/node_modules")
    data = shared_path("data", "youth-policy")

    home = tmp_path / "home"
    env = {**os.environ, "DASAN_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("DASAN_USER", None)
    _cli(env, "youth", "ingest", str(data / "ontong_policies_2025.csv"), str(data / "seoul_policies_2024.json"))
    base = json.loads((data / "seoul_policies_2024.json").read_text(encoding="utf-8"))[0]
    xss = tmp_path / "xss.json"
    xss.write_text(json.dumps([_record(base, plcyNo="E2E-XSS-1", plcyNm=XSS_NAME, plcyKywdNm="면접")],
                              ensure_ascii=False), encoding="utf-8")
    _cli(env, "youth", "ingest", str(xss))
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps([_record(base, plcyNo="E2E-SECRET-1", plcyNm=SECRET_NAME, plcyKywdNm="면접")],
                                 ensure_ascii=False), encoding="utf-8")
    _cli(env, "youth", "ingest", str(secret), "--level", "민감")

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(home), str(port)], env=env, cwd=ROOT,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(url, server)
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        cfg = {"url": url, "artifacts": str(ARTIFACTS), "chromium": CHROMIUM, "date": "2025-09-01",
               "sentence": SENTENCE, "xssName": XSS_NAME, "secretName": SECRET_NAME}
        cfg_path = tmp_path / "youth-e2e.json"
        cfg_path.write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")
        res = subprocess.run([node, str(E2E / "youth.mjs"), str(cfg_path)], cwd=E2E, capture_output=True,
                             text=True, timeout=300)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    server_log = (tmp_path / "server.log").read_text(errors="replace")[-3000:]
    assert lines, f"no result from youth.mjs: {res.stderr[-3000:]}\nserver log:\n{server_log}"
    out = json.loads(lines[-1])
    failed = {k: v for k, v in out["checks"].items() if v is not True}
    assert out["ok"] and res.returncode == 0, (
        f"youth e2e failed at {out['error']}\nfailed checks: {failed}\npage errors: {out['page_errors']}\n"
        f"console: {out['console_errors']}\nserver log:\n{server_log}")
    for name in ("no_login_needed", "parsed_region", "eligible_group_first", "asks_one_missing_fact",
                 "narrow_results_no_horizontal_scroll", "secret_policy_absent", "no_script_injection",
                 "no_keys_sent", "no_external_requests"):
        assert out["checks"].get(name) is True, name
    assert len(out["screenshots"]) >= 8 and all(Path(p).is_file() for p in out["screenshots"])
