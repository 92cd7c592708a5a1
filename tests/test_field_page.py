"""The field workers' phone page (/field) in real headless Chromium at 360 px (tests/e2e/field.mjs):
login with a key, a situation answered in three cards (지금 할 일 · 법적 의무 · 과거 사례), a
question without a source refused, a 사고 보고 draft; no horizontal scroll, thumb-sized controls,
large text, no request leaving the server. Screenshots go to tests/e2e/artifacts/.
Missing node/Chromium/playwright-core: skip locally, FAIL under CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import shared_path
from test_e2e_browser import CHROMIUM, E2E, ROOT, _cli, _free_port, _need, _wait_ready

ARTIFACTS = E2E / "artifacts"


def test_field_page_on_a_phone(tmp_path: Path) -> None:
    node = shutil.which("node")
    _need(node is not None, "node is not installed")
    _need(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}")
    _need((E2E / "node_modules" / "playwright-core" / "package.json").exists(),
          "playwright-core is not installed in tests/e2e/node_modules")
    laws = shared_path("data", "laws", "철도안전법")
    home = tmp_path / "home"
    env = {**os.environ, "DASAN_HOME": str(home), "DASAN_EMBEDDER": "none", "DASAN_AUDIT_SYNC": "normal",
           "PYTHONUNBUFFERED": "1"}
    env.pop("DASAN_USER", None)
    _cli(env, "users", "add", "crew", "--clearance", "민감", "--role", "user")
    key = json.loads(_cli(env, "keys", "create", "--user", "crew", "--json"))["key"]
    _cli(env, "ingest", str(ROOT / "examples" / "field"), str(laws), "--collection", "현장", "--recursive", "--json")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "dasan.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(url, server)
        for old in ARTIFACTS.glob("field-*.png"):
            old.unlink()
        cfg = {"url": url, "key": key, "chromium": CHROMIUM, "artifacts": str(ARTIFACTS),
               "question": "열차 안에서 연기가 나요, 뭐부터 해요?", "offTopic": "구내식당 이번 주 점심 메뉴가 뭐예요?",
               "report": "오늘 오전 8시 40분 3호선 별빛역 전동차 내 화재로 운행 중지, 승객 4명 부상"}
        cfg_path = tmp_path / "field.json"
        cfg_path.write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")
        res = subprocess.run([node, str(E2E / "field.mjs"), str(cfg_path)], cwd=E2E, capture_output=True, text=True,
                             timeout=300)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    server_log = (tmp_path / "server.log").read_text(errors="replace")[-3000:]
    assert lines, f"no result from field.mjs: {res.stderr[-3000:]}\nserver log:\n{server_log}"
    out = json.loads(lines[-1])
    assert out["ok"] and res.returncode == 0, f"{out['error']}\nchecks: {out['checks']}\nserver log:\n{server_log}"
    assert len(out["screenshots"]) == 4 and all(Path(p).is_file() for p in out["screenshots"])
