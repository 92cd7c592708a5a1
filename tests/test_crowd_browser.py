"""The 밀집위험 page in real headless Chromium (tests/e2e/crowd.mjs) at a laptop width (1280 px)
and a phone width (360 px), with screenshots in tests/e2e/artifacts/crowd/.

A real server runs over a data directory filled with the CLI from the real line-2 files (two
stations, history to 2024-03-31), a forecast with the example thresholds, and a short backtest.
Missing node/chromium/playwright-core: skip locally, FAIL under CI."""

from __future__ import annotations

import json
from pathlib import Path

import browser
from conftest import shared_path


def _slice(src: Path, out: Path) -> Path:
    lines = src.read_text(encoding="utf-8").splitlines()
    keep = [lines[0]] + [x for x in lines[1:] if "2022-01-01" <= x[:10] <= "2024-03-31"
                         and x.split(",")[1] in ("강남", "홍대입구")]
    out.write_text("\n".join(keep) + "\n", encoding="utf-8")
    return out


def test_crowd_page_in_chromium(tmp_path: Path) -> None:
    browser.node()
    metro = shared_path("data", "seoul-metro")
    hist = _slice(metro / "line2_daily_2018_2025H1.csv", tmp_path / "hist.csv")

    home, env = browser.home_env(tmp_path, DASAN_AUDIT_SYNC="normal")
    cli = browser.cli
    cli(env, "crowd", "ingest", str(hist), str(metro / "congestion_2023_by_30min.csv"),
        str(metro / "event_days_2023.csv"))
    examples = browser.ROOT / "examples" / "crowd"
    out = json.loads(cli(env, "crowd", "forecast", "--thresholds", str(examples / "thresholds.json"), "--json"))
    assert out["new_alerts"], "the example thresholds raise no alert on this history"
    cli(env, "crowd", "backtest", "--history", str(hist), "--eval-days", "42", "--refit-every", "240",
        "--horizon", "14")
    cli(env, "users", "add", "viewer", "--clearance", "공개", "--role", "user")
    key = json.loads(cli(env, "keys", "create", "--user", "viewer", "--json"))["key"]
    with browser.server(home, env, tmp_path) as srv:
        result = browser.run_script("crowd.mjs", {"url": srv.url, "key": key, "place": "강남", "horizon": 14,
                                                  "artifacts": str(browser.artifacts("crowd"))}, tmp_path, srv)
    failed = {k: v for k, v in result["checks"].items() if v is not True}
    assert result["ok"] and result["returncode"] == 0, (
        f"crowd e2e failed at {result['error']}\nfailed: {failed}\npage errors: {result['page_errors']}\n"
        f"server log:\n{srv.log_tail()}")
    for name in ("interval_bands_drawn", "thresholds_drawn", "alerts_listed", "backtest_drawn",
                 "phone_no_horizontal_scroll", "phone_charts_fit", "no_external_requests"):
        assert result["checks"].get(name) is True, name
    assert len(result["screenshots"]) >= 5 and all(Path(p).is_file() for p in result["screenshots"])
