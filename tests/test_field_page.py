"""The field workers' phone page (/field) in real headless Chromium at 360 px (tests/e2e/field.mjs):
login with a key, a situation answered in three cards (지금 할 일 · 법적 의무 · 과거 사례), a
question without a source refused, a 사고 보고 draft; no horizontal scroll, thumb-sized controls,
large text, no request leaving the server. Screenshots go to tests/e2e/artifacts/field/.
Missing node/Chromium/playwright-core: skip locally, FAIL under CI."""

from __future__ import annotations

import json
from pathlib import Path

import browser
from conftest import shared_path


def test_field_page_on_a_phone(tmp_path: Path) -> None:
    browser.node()
    laws = shared_path("data", "laws", "철도안전법")
    home, env = browser.home_env(tmp_path, DASAN_EMBEDDER="none", DASAN_AUDIT_SYNC="normal")
    browser.cli(env, "users", "add", "crew", "--clearance", "민감", "--role", "user")
    key = json.loads(browser.cli(env, "keys", "create", "--user", "crew", "--json"))["key"]
    browser.cli(env, "ingest", str(browser.ROOT / "examples" / "field"), str(laws), "--collection", "현장",
                "--recursive", "--json")
    with browser.server(home, env, tmp_path) as srv:
        out = browser.run_script("field.mjs", {
            "url": srv.url, "key": key, "artifacts": str(browser.artifacts("field")),
            "question": "열차 안에서 연기가 나요, 뭐부터 해요?", "offTopic": "구내식당 이번 주 점심 메뉴가 뭐예요?",
            "report": "오늘 오전 8시 40분 3호선 별빛역 전동차 내 화재로 운행 중지, 승객 4명 부상"}, tmp_path, srv)
    assert out["ok"] and out["returncode"] == 0, f"{out['error']}\nchecks: {out['checks']}\nserver log:\n{srv.log_tail()}"
    assert len(out["screenshots"]) == 4 and all(Path(p).is_file() for p in out["screenshots"])
