"""Real-browser end-to-end test of the web interface (tests/e2e/run.mjs in headless Chromium).

Starts a real server on a free port with a temporary data directory, sets up users and keys with the
CLI, ingests a 민감 document with the CLI, then drives Debian's /usr/bin/chromium through
playwright-core: login, HWPX upload, streamed answer with citations, highlighted source passage,
admin pages, and a 공개 user for whom the 민감 document must appear nowhere.
Screenshots go to tests/e2e/artifacts/web/. Missing node/chromium/playwright-core: skip locally, FAIL under CI.
"""

from __future__ import annotations

import json
from pathlib import Path

import browser

HWPX = sorted((browser.ROOT / "examples" / "press").glob("*.hwpx"))
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




def test_web_interface_end_to_end(tmp_path: Path) -> None:
    browser.node()
    assert HWPX, "examples/press/*.hwpx missing"

    from dasan.ingest.readers import read_file

    doc = read_file(HWPX[0])
    assert EXPECT in doc.text, "the sample HWPX no longer answers the test question"
    title = doc.title or ""
    assert title

    home, env = browser.home_env(tmp_path)
    _cli = browser.cli
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

    with browser.server(home, env, tmp_path) as srv:
        cfg = {
            "url": srv.url, "adminKey": admin_key, "userKey": user_key, "hwpx": str(HWPX[0]),
            "question": QUESTION, "expect": EXPECT, "title": title, "artifacts": str(browser.artifacts("web")),
            "secret": {"title": SECRET_TITLE, "marker": SECRET_MARKER, "question": SECRET_QUESTION,
                       "facts": SECRET_FACTS, "xss": XSS, "documentId": secret_doc["id"], "chunkId": secret_chunk,
                       "chunkIds": secret_chunks, "collection": COLLECTION},
        }
        out = browser.run_script("run.mjs", cfg, tmp_path, srv)
    res_stderr, server_log = out["stderr"], srv.log_tail()
    failed = {k: v for k, v in out["checks"].items() if v is not True and k != "secret_question_refused"}
    assert out["ok"] and out["returncode"] == 0, (
        f"e2e failed at {out['error']}\nfailed checks: {failed}\npage errors: {out['page_errors']}\n"
        f"stderr: {res_stderr}\nserver log:\n{server_log}")
    assert not failed
    print(json.dumps({"seconds": out["seconds"], "timings": out["timings"], "checks": len(out["checks"]),
                      "console_errors": out["console_errors"],
                      "screenshots": [Path(p).name for p in out["screenshots"]]}, ensure_ascii=False))
    for name in ("secret_appears_nowhere", "user_collection_count_excludes_secret", "mark_contains_expected",
                 "chat_used_sse", "upload_ingested", "narrow_no_horizontal_scroll"):
        assert out["checks"].get(name) is True, name
    assert len(out["screenshots"]) >= 12
    assert all(Path(p).is_file() for p in out["screenshots"])
