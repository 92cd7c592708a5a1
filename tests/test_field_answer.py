"""One field answer from three kinds of source (issue 15, items 4–5): the example operator's HWPX
manual and XLSX register, the real 철도안전법 and 산업안전보건법 (../shared/data/laws) and a slice
of the real 국민행동요령 — answers in labelled parts, refusals without a source, counts checked
against the file itself, report drafts with deadlines, the API profile and access control."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import shared_path
from fastapi.testclient import TestClient

from dasan import config
from dasan.apps.field.answer import LAW, NOW, PAST, field_answer
from dasan.apps.field.duties import Incident, add_months
from dasan.apps.field.procedures import GUIDE, MANUAL
from dasan.apps.field.records import load_tables
from dasan.apps.field.report import TODO, draft_report, parse_when
from dasan.cli import cli
from dasan.ingest.chunking import text_heading_level
from dasan.ingest.pipeline import ingest_paths
from dasan.rag.retrieve import RetrievalConfig, Retriever
from dasan.store import open_store
from dasan.types import Principal

FIELD = config.examples_dir() / "field"
REGISTER = FIELD / "한빛도시철도_사고대장_2021-2025.xlsx"
MANUAL_HWPX = FIELD / "한빛도시철도_현장안전매뉴얼.hwpx"
GUIDE_CATEGORIES = ("화재", "철도·지하철·유도선 사고", "전기·가스사고", "지진")
LEXICAL = RetrievalConfig(embedder=None, model=None)


def register_rows() -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(REGISTER, read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = shared_path("data", "safety-guides", "mois_action_guides.jsonl")
    lines = [x for x in src.read_text(encoding="utf-8").splitlines()
             if x.strip() and json.loads(x).get("category2") in GUIDE_CATEGORIES]
    corpus = tmp_path_factory.mktemp("corpus")
    (corpus / "mois_action_guides.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name in ("철도안전법", "산업안전보건법"):
        shutil.copytree(shared_path("data", "laws", name), corpus / name)
    d = tmp_path_factory.mktemp("field-answer")
    store = open_store(d)
    report = ingest_paths(store, [MANUAL_HWPX, corpus], collection="현장", recursive=True)
    assert not report.summary()["failed"]
    # the register is 민감: only cleared staff see past incidents
    report = ingest_paths(store, [REGISTER], collection="사고기록", classification="민감")
    assert not report.summary()["failed"]
    store.close()
    return d


@pytest.fixture(scope="module")
def env(data: Path) -> Iterator[tuple[Any, Retriever]]:
    store = open_store(data)
    yield store, Retriever(store, data, LEXICAL)
    store.close()


def test_headings_are_recognised_from_their_text() -> None:
    assert text_heading_level("제3장 승강장안전문과 출입문 끼임") == 1
    assert text_heading_level("제2절 보고") == 2
    assert text_heading_level("3.1 승강장안전문 끼임") == 2
    assert text_heading_level("3.1.2 수동 개방") == 3
    assert text_heading_level("Ⅱ. 추진 계획") == 1
    for not_heading in ("1. 무전으로 종합상황실에 보고한다.", "3.1 작업자는 즉시 보고한다.", "2024.3 개정",
                        "제3장 총칙\n이 매뉴얼은 …", "※ 안전문 센서를 세척한다."):
        assert text_heading_level(not_heading) is None, not_heading


def test_a_numbered_title_over_a_sub_list_is_a_heading() -> None:
    from dasan.ingest.chunking import _with_text_headings
    from dasan.types import Block

    blocks = [Block(kind="paragraph", text=t) for t in (
        "1. 열차 화재", "(1) 종합상황실에 보고한다.", "(2) 승객을 대피시킨다.", "2. 정전", "가. 비상조명을 확인한다.",
        "3. 다음 역까지 운행한다.", "4. 119에 신고한다.")]
    heads = [b.text for b in _with_text_headings(blocks) if b.kind == "heading"]
    assert heads == ["1. 열차 화재", "2. 정전"]  # "3." followed by "4." is a step, not a title


def test_hwpx_manual_keeps_its_chapters_and_sections(env: tuple[Any, Retriever]) -> None:
    store, _ = env
    doc = next(d for d in store.list_documents() if d.format == "hwpx")
    contexts = [c.context for c in store.chunks_of(doc.id)]
    assert any(c.endswith("제3장 승강장안전문과 출입문 끼임 > 3.1 승강장안전문 끼임") for c in contexts)
    assert any(c.endswith("제9장 사고 보고 > 9.1 보고 순서") for c in contexts)


def test_smoke_in_a_train_gets_three_parts(env: tuple[Any, Retriever]) -> None:
    store, retriever = env
    ans = field_answer("열차 안에서 연기가 나요, 뭐부터 해요?", retriever, store)
    assert not ans.refused and ans.parts() == {NOW: True, LAW: True, PAST: True}
    assert [c.source for c in ans.steps] == [MANUAL, GUIDE]
    manual = ans.steps[0]
    assert manual.section.endswith("2.1 열차 안에서 연기나 불꽃이 보일 때(승무원)")
    assert [s.n for s in manual.steps] == [1, 2, 3, 4, 5, 6] and "종합상황실" in manual.steps[0].text
    assert "화재" in ans.steps[1].section
    duty = ans.duties[0]
    assert duty.name == "철도사고등 즉시 보고" and duty.applies == "확인 필요"  # stopped or not is not said
    assert [s.citation for s in duty.sources] == ["철도안전법 제61조", "철도안전법 시행령 제57조", "철도안전법 시행규칙 제86조"]
    assert all(s.시행일자 and s.in_force is True for s in duty.sources)
    assert "화재" in duty.sources[1].text  # the quoted article says why
    similar = [it for _, items in ans.similar for it in items]
    assert similar and all(it.record.fields["사고유형"] == "화재(연기)" for it in similar)
    text = ans.text()
    assert text.index(f"■ {NOW}") < text.index(f"■ {LAW}") < text.index(f"■ {PAST}")
    assert text.startswith("먼저: 객실 비상인터폰")


@pytest.mark.parametrize("question, expect", [
    ("2024년에 2호선에서 스크린도어 끼임이 몇 건이었어?",
     lambda r: r["발생일시"].startswith("2024") and r["호선"] == "2호선" and r["사고유형"] == "승강장안전문 끼임"),
    ("2023년 에스컬레이터 넘어짐 사고는 모두 몇 건?",
     lambda r: r["발생일시"].startswith("2023") and r["사고유형"] == "에스컬레이터 넘어짐"),
])
def test_counts_match_the_file(env: tuple[Any, Retriever], question: str, expect: Any) -> None:
    store, retriever = env
    want = sum(1 for r in register_rows() if expect(r))
    ans = field_answer(question, retriever, store)
    assert ans.count is not None and len(ans.count.matched) == want
    assert ans.text().startswith(f"해당 기록은 {want}건입니다.")
    assert {c["citation"].split("#")[-1] for c in ans.citations() if c["part"] == PAST} == {
        r.record_id for r in ans.count.matched}


def test_group_question_names_the_top_value(env: tuple[Any, Retriever]) -> None:
    store, retriever = env
    counts: dict[str, int] = {}
    for r in register_rows():
        if r["사고유형"] == "신호장애":
            counts[r["역"]] = counts.get(r["역"], 0) + 1
    top = max(counts.items(), key=lambda x: x[1])
    ans = field_answer("신호장애가 가장 많이 난 역은 어디야?", retriever, store)
    assert ans.text().startswith(f"가장 많은 역: {top[0]} ({top[1]}건)")


@pytest.mark.parametrize("question", ["역 화장실 청소는 몇 시에 하나요?", "구내식당 이번 주 점심 메뉴가 뭐예요?",
                                      "역무원 여름 제복은 언제부터 입어요?"])
def test_no_source_no_answer(env: tuple[Any, Retriever], question: str) -> None:
    store, retriever = env
    ans = field_answer(question, retriever, store)
    assert ans.refused and ans.citations() == []
    assert "근거 없이" in ans.text()


def test_records_follow_the_callers_clearance(env: tuple[Any, Retriever]) -> None:
    from dasan.security.guard import search_filter

    store, retriever = env
    public = Principal(name="kim", clearance="공개")
    ans = field_answer("2호선 스크린도어에 승객이 끼었어요", retriever, store, public, search_filter(store, public))
    assert ans.steps and not ans.similar and ans.count is None  # the 민감 register is not theirs
    assert "비슷한 과거 기록을 찾지 못했습니다" in ans.text()
    cleared = Principal(name="lee", clearance="민감")
    ans = field_answer("2호선 스크린도어에 승객이 끼었어요", retriever, store, cleared, search_filter(store, cleared))
    assert ans.similar and all(it.record.fields["사고유형"] == "승강장안전문 끼임" for _, its in ans.similar for it in its)


def test_incident_facts_and_deadlines() -> None:
    inc = Incident.of("3호선 전동차 내 화재로 운행 중지, 승객 네 명 부상")
    assert inc.fire and inc.stopped and inc.injured == 4 and not inc.worker
    worker = Incident.of("선로 작업 중 협력업체 작업자 1명 감전 사망")
    assert worker.worker and worker.deaths == 1 and worker.injured == 0
    assert add_months(datetime(2026, 1, 31, 9), 1) == datetime(2026, 2, 28, 9)
    now = datetime(2026, 12, 6, 15, 0)
    assert parse_when("오늘 오후 2시 20분 도담역", now) == datetime(2026, 12, 6, 14, 20)
    assert parse_when("어제 23:50 별빛역", now) == datetime(2026, 12, 5, 23, 50)
    assert parse_when("12월 5일 오전 8시 40분", now) == datetime(2026, 12, 5, 8, 40)
    assert parse_when("2025-03-02 07:15 가온역", now) == datetime(2025, 3, 2, 7, 15)
    assert parse_when("승강장에서 승객이 넘어짐", now) is None


def test_report_draft(env: tuple[Any, Retriever]) -> None:
    store, retriever = env
    n_docs = len(store.list_documents())
    draft = draft_report("어제 밤 11시 10분 2호선 도담역 선로 작업 중 협력업체 작업자 1명 감전 사망",
                         load_tables(store), retriever, now=datetime(2026, 12, 6, 9, 0))
    f = draft.fields
    assert list(f)[:6] == ["사고번호", "발생일시", "호선", "역", "장소", "사고유형"]
    assert f["발생일시"] == "2026-12-05 23:10" and f["호선"] == "2호선" and f["역"] == "도담역"
    assert f["사고번호"].startswith("HB-2026-0001") and f["원인"] == TODO and "사망 1명" in f["피해"]
    reports = {d["name"]: d for d in draft.duties}
    assert reports["중대재해 발생 보고"]["applies"] == "해당"
    assert reports["중대재해 발생 보고"]["due"].startswith("지체 없이")
    assert reports["산업재해조사표 제출"]["due"].startswith("2027-01-05까지")
    assert [s["citation"] for s in reports["산업재해조사표 제출"]["sources"]] == [
        "산업안전보건법 제57조", "산업안전보건법 시행규칙 제73조"]
    assert "자동으로 제출되지 않습니다" in draft.text()
    assert len(store.list_documents()) == n_docs  # nothing filed


def test_field_cli(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASAN_EMBEDDER", "none")
    runner = CliRunner()
    out = runner.invoke(cli, ["--data-dir", str(data), "field", "ask", "에스컬레이터에서 승객이 넘어져 다쳤어요", "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert body["parts"] == {NOW: True, LAW: True, PAST: True} and body["now"][0]["section"].endswith(
        "4.1 에스컬레이터에서 승객이 넘어졌을 때")
    out = runner.invoke(cli, ["--data-dir", str(data), "field", "report",
                              "12월 5일 오전 8시 40분 3호선 별빛역 전동차 내 화재로 운행 중지, 승객 4명 부상"])
    assert out.exit_code == 0, out.output
    assert "철도사고등 즉시 보고 [해당]" in out.output and "시행령 제57조 제2호" in out.output


def test_field_profile_in_the_api(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dasan.security.access import check_key_scopes
    from dasan.server.app import create_app

    monkeypatch.setenv("DASAN_AUDIT_SYNC", "normal")
    app = create_app(data, retrieval=LEXICAL)
    state = app.state.dasan
    d = state.directory()
    d.add_user("kim", clearance="공개", role="user")
    d.add_user("lee", clearance="민감", role="user")
    keys = {u: d.create_key(u, check_key_scopes("user", ["search", "ask"])).key for u in ("kim", "lee")}
    with TestClient(app) as client:
        state.wait_ready(180)
        h = {u: {"Authorization": f"Bearer {k}"} for u, k in keys.items()}
        q = "2호선 스크린도어에 승객이 끼었어요"
        r = client.post("/v1/field/answer", json={"question": q}, headers=h["lee"])
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["parts"][PAST] and body["past"]["similar"][0]["records"]
        r = client.post("/v1/field/answer", json={"question": q}, headers=h["kim"])
        assert r.json()["parts"] == {NOW: True, LAW: True, PAST: False}
        assert "HB-20" not in json.dumps(r.json(), ensure_ascii=False)  # no record of the 민감 register leaks
        r = client.post("/v1/chat/completions", headers=h["lee"], json={
            "model": "dasan", "profile": "field", "messages": [{"role": "user", "content": "열차 안에서 연기가 나요"}]})
        assert r.status_code == 200, r.text
        chat = r.json()
        content = chat["choices"][0]["message"]["content"]
        assert f"■ {NOW}" in content and f"■ {LAW}" in content and f"■ {PAST}" in content
        assert {c["part"] for c in chat["citations"]} == {NOW, LAW, PAST} and chat["dasan"]["profile"] == "field"
        r = client.post("/v1/chat/completions", headers=h["lee"], json={
            "model": "dasan", "profile": "field", "messages": [{"role": "user", "content": "구내식당 점심 메뉴는?"}]})
        assert r.json()["dasan"]["refused"] is True and r.json()["citations"] == []
        r = client.post("/v1/search", headers=h["lee"], json={"query": "승강장안전문 끼임", "profile": "field"})
        assert r.status_code == 200 and r.json()["results"] and r.json()["field"]["now"]
        r = client.post("/v1/field/report", headers=h["kim"], json={"description": "오늘 오후 2시 가온역 정전"})
        assert r.status_code == 200 and r.json()["fields"]["발생일시"].endswith("14:00")
        assert r.json()["register"] is None  # kim may not see the register: generic columns
        assert client.get("/field").status_code == 200
        r = client.post("/v1/field/answer", json={"question": q})
        assert r.status_code == 401


def test_an_incident_is_read_from_whole_words() -> None:
    from dasan.apps.field.answer import _INCIDENT

    for said in ("불이 났어요", "불났어요", "불길이 보여요", "열차가 멈췄어요", "연기가 나요"):
        assert _INCIDENT.search(said), said
    for said in ("에스컬레이터가 불편해요", "불만 민원 접수", "승객이 불안해해요"):
        assert not _INCIDENT.search(said), said
