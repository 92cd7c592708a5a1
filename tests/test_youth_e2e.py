"""Real-browser test of the citizen page 청년 혜택 찾기 (tests/e2e/youth.mjs in headless Chromium, 360 px).

Starts a real server on a free port over a temporary store filled with the shared 온통청년 catalogue
(``dasan youth ingest``), plus one 공개 policy whose name is an HTML injection attempt and one 민감
policy that must never appear. No account is created: the page must work without a key.
Screenshots go to tests/e2e/artifacts/youth/. Missing node/chromium/playwright-core: skip locally,
FAIL under CI.
"""

from __future__ import annotations

import json
from pathlib import Path

import browser
from conftest import shared_path

SENTENCE = "관악구 사는 27살 취준생인데 월세 지원 있어요?"
XSS_NAME = '관악 청년 면접 정장 대여 <img src=x onerror="window.__xss=1">'
SECRET_NAME = "청룡칠칠 비공개 면접 시험 정책"


def _record(base: dict, **over: str) -> dict:
    rec = {**base, **over}
    for k in ("addAplyQlfcCndCn", "ptcpPrpTrgtCn", "earnEtcCn"):
        rec[k] = ""
    rec.update({"sprtTrgtAgeLmtYn": "Y", "sprtTrgtMinAge": "0", "sprtTrgtMaxAge": "0", "jobCd": "0013010",
                "schoolCd": "0049010", "mrgSttsCd": "0055003", "sbizCd": "0014010", "plcyMajorCd": "0011009",
                "earnCndSeCd": "0043001", "zipCd": "11620", "lclsfNm": "일자리", "aplyYmd": "",
                "aplyUrlAddr": "https://www.youthcenter.go.kr/", "lastMdfcnDt": "2025-08-01 00:00:00"})
    return rec


def test_youth_page_at_360px(tmp_path: Path) -> None:
    browser.node()
    data = shared_path("data", "youth-policy")
    home, env = browser.home_env(tmp_path)
    cli = browser.cli
    cli(env, "youth", "ingest", str(data / "ontong_policies_2025.csv"), str(data / "seoul_policies_2024.json"))
    base = json.loads((data / "seoul_policies_2024.json").read_text(encoding="utf-8"))[0]
    xss = tmp_path / "xss.json"
    xss.write_text(json.dumps([_record(base, plcyNo="E2E-XSS-1", plcyNm=XSS_NAME, plcyKywdNm="면접")],
                              ensure_ascii=False), encoding="utf-8")
    cli(env, "youth", "ingest", str(xss))
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps([_record(base, plcyNo="E2E-SECRET-1", plcyNm=SECRET_NAME, plcyKywdNm="면접")],
                                 ensure_ascii=False), encoding="utf-8")
    cli(env, "youth", "ingest", str(secret), "--level", "민감")
    with browser.server(home, env, tmp_path, ready="/healthz") as srv:
        out = browser.run_script("youth.mjs", {
            "url": srv.url, "artifacts": str(browser.artifacts("youth")), "date": "2025-09-01",
            "sentence": SENTENCE, "xssName": XSS_NAME, "secretName": SECRET_NAME}, tmp_path, srv)
    failed = {k: v for k, v in out["checks"].items() if v is not True}
    assert out["ok"] and out["returncode"] == 0, (
        f"youth e2e failed at {out['error']}\nfailed checks: {failed}\npage errors: {out['page_errors']}\n"
        f"console: {out['console_errors']}\nserver log:\n{srv.log_tail()}")
    for name in ("no_login_needed", "parsed_region", "eligible_group_first", "asks_one_missing_fact",
                 "narrow_results_no_horizontal_scroll", "secret_policy_absent", "no_script_injection",
                 "no_keys_sent", "no_external_requests"):
        assert out["checks"].get(name) is True, name
    assert len(out["screenshots"]) >= 8 and all(Path(p).is_file() for p in out["screenshots"])
