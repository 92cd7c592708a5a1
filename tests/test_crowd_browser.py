"""The 밀집위험 page in real headless Chromium (tests/e2e/crowd.mjs) at a laptop width (1280 px)
and a phone width (360 px), with screenshots in tests/e2e/artifacts/crowd-*.png.

A real server runs over a data directory filled with the CLI from the real line-2 files (two
stations, history to 2024-03-31), a forecast with the example thresholds, and a short backtest.
Missing node/chromium/playwright-core: skip locally, FAIL under CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import shared_path
from test_e2e_browser import CHROMIUM, E2E, LAUNCHER, ROOT, _cli, _free_port, _has_serve, _need, _wait_ready

ARTIFACTS = E2E / "artifacts"


def _slice(src: Path, out: Path) -> Path:
    lines = src.read_text(encoding="utf-8").splitlines()
    keep = [lines[0]] + [x for x in lines[1:] if "2022-01-01" <= x[:10] <= "2024-03-31"
                         and x.split(",")[1] in ("강남", "홍대입구")]
    out.write_text("\n".join(keep) + "\n", encoding="utf-8")
    return out


def test_crowd_page_in_chromium(tmp_path: Path) -> None:
    node = shutil.which("node")
    _need(node is not None, "node is not installed")
    _need(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}")
    _need((E2E / "node_modules" / "playwright-core" / "package.json").exists(),
          "playwright-core is not installed in tests/e2e/node_modules")
    metro = shared_path("data", "seoul-metro")
    hist = _slice(metro / "line2_daily_2018_2025H1.csv", tmp_path / "hist.csv")

    home = tmp_path / "home"
    env = {**os.environ, "DASAN_HOME": str(home), "PYTHONUNBUFFERED": "1", "DASAN_AUDIT_SYNC": "normal"}
    env.pop("DASAN_USER", None)
    _cli(env, "crowd", "ingest", str(hist), str(metro / "congestion_2023_by_30min.csv"),
         str(metro / "event_days_2023.csv"))
    examples = ROOT / "examples" / "crowd"
    out = json.loads(_cli(env, "crowd", "forecast", "--thresholds", str(examples / "thresholds.json"), "--json"))
    assert out["new_alerts"], "the example thresholds raise no alert on this history"
    _cli(env, "crowd", "backtest", "--history", str(hist), "--eval-days", "42", "--refit-every", "240",
         "--horizon", "14")
    _cli(env, "users", "add", "viewer", "--clearance", "공개", "--role", "user")
    key = json.loads(_cli(env, "keys", "create", "--user", "viewer", "--json"))["key"]

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
        for old in ARTIFACTS.glob("crowd-*.png"):
            old.unlink()
        cfg = {"url": url, "key": key, "place": "강남", "horizon": 14, "artifacts": str(ARTIFACTS),
               "chromium": CHROMIUM}
        cfg_path = tmp_path / "crowd-e2e.json"
        cfg_path.write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")
        res = subprocess.run([node, str(E2E / "crowd.mjs"), str(cfg_path)], cwd=E2E, capture_output=True,
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
    assert lines, f"no result from crowd.mjs: {res.stderr[-3000:]}\nserver log:\n{server_log}"
    result = json.loads(lines[-1])
    failed = {k: v for k, v in result["checks"].items() if v is not True}
    assert result["ok"] and res.returncode == 0, (
        f"crowd e2e failed at {result['error']}\nfailed: {failed}\npage errors: {result['page_errors']}\n"
        f"server log:\n{server_log}")
    for name in ("interval_bands_drawn", "thresholds_drawn", "alerts_listed", "backtest_drawn",
                 "phone_no_horizontal_scroll", "phone_charts_fit", "no_external_requests"):
        assert result["checks"].get(name) is True, name
    assert len(result["screenshots"]) >= 5 and all(Path(p).is_file() for p in result["screenshots"])
