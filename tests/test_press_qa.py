"""Press questions answered like a press officer would, on real releases (../shared/data/press-moe).

A slice of seven real 교육부 releases is ingested once: contact answers come from the header,
a fact answer states the figure in its first sentence, a topic no release covers is refused,
a publishing time in the question bounds the 보도일 inside the search, a timeline is in date
order and respects access filters, and the bench counts a document gold by its file stem.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import shared_path

from dasan.apps.press.qa import is_contact_question, is_timeline_question
from dasan.apps.press.timeline import timeline
from dasan.bench.answers import score_answer
from dasan.bench.metrics import Result, collapse, hits_gold, is_article_citation, score_query
from dasan.bench.retrieval import corpus_files
from dasan.cli import cli
from dasan.ingest.pipeline import ingest_paths
from dasan.rag.answer import Answerer
from dasan.rag.retrieve import Retriever, SearchFilter
from dasan.rag.timewords import release_window
from dasan.security import guard
from dasan.store import open_store
from dasan.types import Principal

#: 보도일: 105222 01-28, 105238 02-03, 105401 02-23, 105415 02-25, 105636 03-12,
#: 105957 04-23, 106683 07-13 (three of them on the 대학 AI 기본교육과정 사업).
SLICE = ["105222.hwpx", "105238.hwpx", "105401.hwpx", "105415.hwp", "105636.hwpx", "105957.hwpx", "106683.hwpx"]
AI_COURSE = ["105401", "105957", "106683"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("press-qa")
    store = open_store(d)
    files = [shared_path("data", "press-moe", name) for name in SLICE]
    report = ingest_paths(store, files, collection="press")
    assert not report.failed, report.failed
    retriever = Retriever(store, d)
    retriever.refresh()
    yield d, store, retriever
    store.close()


def _stem(store, chunk) -> str:
    return Path(store.get_document(chunk.document_id).source_path).stem


def _dates(store, chunks) -> list[str]:
    return [c.meta.get("release_date") or store.get_document(c.document_id).metadata.get("release_date")
            for c in chunks]


def test_contact_question_names_department_and_phone_from_the_header(world) -> None:
    _, store, retriever = world
    q = "제9기 양성평등교육심의회 관련해서 문의하려면 교육부 어느 부서에 연락하면 돼요?"
    assert is_contact_question(q)
    ans = Answerer(retriever).ask(q)
    assert not ans.refused, ans.notes
    first = ans.text.splitlines()[0]
    assert "양성평등정책담당관" in first
    assert "044-203-7112" in first or "044-203-7115" in first
    assert [_stem(store, c.chunk) for c in ans.citations] == ["105222"]
    # officials' work numbers on a contact line are public: not masked on the way out
    store.set_collection_pii_policy("press", "mask_answer")
    try:
        shown = guard.redact_answer(store, ans)
    finally:
        store.set_collection_pii_policy("press", "off")
    assert "044-203-7112" in shown.text and "*" not in shown.text.splitlines()[0]


def test_fact_answer_states_the_figure_first(world) -> None:
    _, store, retriever = world
    ans = Answerer(retriever).ask("헌법교육을 꼭 해야 하는 민주시민교육 선도학교, 올해 몇 개교나 지정한대요?")
    assert not ans.refused, ans.notes
    assert "150개교" in ans.text.splitlines()[0]
    assert _stem(store, ans.citations[0].chunk) == "105238"
    assert "[1]" in ans.text.splitlines()[0] and "출처: [1]" in ans.text
    for c in ans.citations:  # quotes are the cited chunk's own text
        for line in c.quote.splitlines():
            assert line in c.chunk.text


@pytest.mark.parametrize("question", [
    "화성 탐사선의 다음 발사 일정은 언제인가요?",
    "대학생 학자금 대출 금리가 이번 2학기에는 몇 %로 정해졌어요?",
])
def test_question_no_release_covers_is_refused(world, question: str) -> None:
    _, _, retriever = world
    ans = Answerer(retriever).ask(question)
    assert ans.refused and not ans.citations, ans.text


def test_release_window_reads_publishing_times_only() -> None:
    ref = date(2026, 7, 20)
    w = release_window("3월에 발표한 늘봄학교 자료", ref)
    assert (w.date_from, w.date_to) == ("2026-03-01", "2026-03-31")
    w = release_window("지난달 교육부가 낸 보도자료", ref)
    assert (w.date_from, w.date_to) == ("2026-06-01", "2026-06-30")
    w = release_window("올해 초 나온 보도자료에서", ref)
    assert (w.date_from, w.date_to) == ("2026-01-01", "2026-02-28")
    assert release_window("11월에 발표한 계획", ref).date_from == "2025-11-01"  # the latest November
    assert release_window("3월 이후 발표된 보도자료", ref).date_to is None
    # the time of an event, not of a release
    assert release_window("작년엔 몇 명이 수료했고 올해는 몇 명 뽑아요?", ref) is None
    assert release_window("5월 말 보도자료 보니까 2023년에 지정된 대학", ref).date_from == "2026-05-18"


def test_time_in_the_question_bounds_the_release_date_inside_the_search(world) -> None:
    _, store, retriever = world
    answerer = Answerer(retriever, now=date(2026, 7, 20))
    q = "2월에 교육부가 대학 AI 기본교육과정 사업 공고 냈잖아요, 신청 접수는 언제부터였어요?"
    press, flt, window = answerer.press_scope(q, None)
    assert press and window is not None and (flt.date_from, flt.date_to) == ("2026-02-01", "2026-02-28")
    hits = retriever.search(q, k=20, flt=flt)
    assert hits and all("2026-02-01" <= d <= "2026-02-28" for d in _dates(store, [h.chunk for h in hits]))
    ans = answerer.ask(q)
    assert not ans.refused and {_stem(store, c.chunk) for c in ans.citations} == {"105401"}
    # the same topic asked for July finds only the July release
    ans = answerer.ask("7월에 발표한 대학 AI 기본교육과정 사업 보도자료, 참여 대학은 몇 개교예요?")
    assert {_stem(store, c.chunk) for c in ans.citations} <= {"106683"}
    assert all(d.startswith("2026-07") for d in _dates(store, [h.chunk for h in ans.hits]))
    # a window no release falls in: refused, and the answer says which 보도일 it searched
    ans = answerer.ask("어제 발표한 대학 AI 기본교육과정 보도자료 내용 알려주세요")
    assert ans.refused and "2026. 7. 19." in ans.text


def test_relative_times_default_to_the_newest_release_date(world) -> None:
    _, _, retriever = world
    answerer = Answerer(retriever)  # no injected date: the newest 보도일 the asker may see
    _, flt, window = answerer.press_scope("지난달 발표한 보도자료", None)
    assert window is not None and window.reference == "2026-07-13"
    assert (flt.date_from, flt.date_to) == ("2026-06-01", "2026-06-30")


def test_timeline_lists_releases_on_the_topic_in_date_order(world) -> None:
    d, store, retriever = world
    entries = timeline(retriever, "대학 인공지능(AI) 기본교육과정 개발 지원사업")
    stems = [_stem(store, e.chunk) for e in entries]
    assert [s for s in stems if s in AI_COURSE] == AI_COURSE, stems
    dates = [e.release_date for e in entries]
    assert dates == sorted(dates)
    assert all(e.ministry == "교육부" and e.departments for e in entries)
    # bounds, and "언제 처음 발표했나" through the answerer
    assert [_stem(store, e.chunk) for e in timeline(retriever, "대학 인공지능(AI) 기본교육과정 개발 지원사업",
                                                    date_from="2026-04-01")][:2] == AI_COURSE[1:]
    q = "대학 인공지능(AI) 기본교육과정 개발 지원사업은 교육부가 언제 처음 발표했나요?"
    assert is_timeline_question(q)
    ans = Answerer(retriever).ask(q)
    assert not ans.refused and "2026. 2. 23." in ans.text.splitlines()[0], ans.text
    # the CLI, as a registered user would run it
    res = CliRunner().invoke(cli, ["--data-dir", str(d), "press", "timeline", "대학 인공지능(AI) 기본교육과정 개발 지원사업",
                                   "--to", "2026-06-30", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert [r["release_date"] for r in out["releases"]][:2] == ["2026-02-23", "2026-04-23"]
    assert all(r["release_date"] <= "2026-06-30" for r in out["releases"])


def test_timeline_respects_the_access_filter(world) -> None:
    _, store, retriever = world
    [doc] = [x for x in store.list_documents() if Path(x.source_path).stem == "105957"]
    store.set_document_level(doc.id, "기밀")
    try:
        public = guard.search_filter(store, Principal(name="guest", clearance="공개"), SearchFilter())
        stems = [_stem(store, e.chunk) for e in timeline(retriever, "대학 인공지능(AI) 기본교육과정 개발 지원사업", public)]
        assert "105957" not in stems and "105401" in stems
    finally:
        store.set_document_level(doc.id, "공개")


def test_bench_gold_names_a_document_by_its_file_stem() -> None:
    assert is_article_citation("철도안전법 시행령 제60조의6") and not is_article_citation("105459")
    chunk = Result("학교폭력 대책 (교육부 2026. 3. 17.)", "105629", "press")
    assert hits_gold(chunk, "105629") and not hits_gold(chunk, "105630")
    assert hits_gold(("철도안전법 제41조 제1항", "철도안전법"), "철도안전법 제41조")
    # per document: three chunks of one release are one rank
    ranked = [Result("A", "1", "press"), Result("A", "1", "press"), Result("B", "2", "press"), Result("C", "3", "press")]
    assert [r.stem for r in collapse(ranked)] == ["1", "2", "3"]
    s = score_query(ranked, ["3"])
    assert s["recall@1"] == 0.0 and s["recall@5"] == 1.0 and s["mrr@10"] == pytest.approx(1 / 3)
    two = score_query(ranked, ["2", "1"])
    assert two["recall@1"] == 1.0 and two["ndcg@10"] == pytest.approx(1.0)
    # statutes stay per article (labels alone, as before)
    assert score_query(["법 제2조", "법 제41조 제2항"], ["법 제41조"])["mrr@10"] == 0.5
    # answers: a citation hits when its release is a gold document
    q = {"gold": ["105238"], "answer_keywords": ["150개교"]}
    assert score_answer(q, "150개교 [1]", False, [Result("x", "105238", "press")])["citation_hit"] == 1.0
    assert score_answer(q, "150개교 [1]", False, [Result("x", "105222", "press")])["citation_hit"] == 0.0


def test_bench_corpus_leaves_out_the_website_listings() -> None:
    folder = shared_path("data", "press-moe")
    files = corpus_files([str(folder)])
    assert not any(f.name.endswith(".meta.json") for f in files)
    assert sum(1 for f in files if f.suffix in (".hwpx", ".hwp")) == 100
