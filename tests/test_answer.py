"""Grounded answers on real statutes: extractive answers, refusals, verification of generated text."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import shared_path

from dasan.ingest.pipeline import ingest_paths
from dasan.rag.answer import REFUSAL, Answerer
from dasan.rag.retrieve import Retriever
from dasan.store import open_store


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    d = tmp_path_factory.mktemp("answer-store")
    store = open_store(d)
    report = ingest_paths(store, [shared_path("data", "laws", "청년기본법")], recursive=True, collection="laws")
    assert not report.failed
    r = Retriever(store, d)
    r.refresh()
    return Answerer(r)


def test_extractive_answer_quotes_and_cites_the_article(answerer: Answerer) -> None:
    ans = answerer.ask("법에서 말하는 청년은 몇 살부터 몇 살까지인가요?")
    assert not ans.refused
    labels = [c.chunk.citation.label for c in ans.citations]
    assert any(label.startswith("청년기본법 제3조") for label in labels), labels
    assert "19세 이상 34세 이하" in ans.text
    # every marker in the text maps to a citation, and each quote is verbatim source text
    for c in ans.citations:
        assert f"[{c.marker}]" in ans.text
        for line in c.quote.splitlines():
            assert line in c.chunk.text
    assert ans.timings_ms["first_token"] <= ans.timings_ms["total"]
    assert ans.generated is None and ans.generated_text is None  # no model wrote any of it


def test_unanswerable_question_is_refused_with_closest_documents(answerer: Answerer) -> None:
    ans = answerer.ask("화성 탐사선의 다음 발사 일정은 언제인가요?")
    assert ans.refused and ans.text == REFUSAL
    assert ans.citations == []


def test_verification_drops_unsupported_sentences_and_recomputes_markers(answerer: Answerer) -> None:
    question = "청년기본법에서 청년의 정의는?"
    hits = answerer.retriever.search(question, k=3)
    generated = (
        "청년이란 19세 이상 34세 이하인 사람을 말한다 [7]. "
        "청년은 45세까지 주택 보조금을 무조건 받을 수 있습니다 [1]. "
        "화성에는 청년 정책 본부가 설치되어 있습니다."
    )
    ans = answerer.verify(generated, question, hits, "test")
    assert not ans.refused
    assert "19세 이상 34세 이하" in ans.text
    assert "45세" not in ans.text and "화성" not in ans.text
    assert "[7]" not in ans.text and "[1]" in ans.text
    assert ans.citations[0].chunk.citation.label.startswith("청년기본법 제3조")
    assert any("제거" in n for n in ans.notes)
    # which part the model wrote, and what the checker said of each of its sentences
    assert ans.generated is not None and [c.supported for c in ans.generated] == [True, False, False]
    assert ans.generated[0].marker == 1 and ans.generated[0].citation.startswith("청년기본법 제3조")
    assert ans.generated_text and ans.text.startswith(ans.generated_text)
    assert "19세 이상 34세 이하" in ans.generated_text and "근거 원문" not in ans.generated_text
    assert "근거 원문" in ans.text[len(ans.generated_text):]  # the quotes Dasan appends follow


def test_verification_with_nothing_supported_falls_back_to_quotes(answerer: Answerer) -> None:
    question = "청년기본법에서 청년의 정의는?"
    hits = answerer.retriever.search(question, k=3)
    ans = answerer.verify("모든 청년은 매달 100만원을 받습니다.", question, hits, "test")
    assert not ans.refused and "100만원" not in ans.text
    assert ans.citations and all(c.quote for c in ans.citations)
    # the model wrote one sentence, unsupported; none of the text shown is the model's
    assert ans.generated is not None and [c.supported for c in ans.generated] == [False]
    assert ans.generated_text == ""


def test_number_mismatch_is_not_support(answerer: Answerer, tmp_path: Path) -> None:
    question = "청년기본법에서 청년의 정의는?"
    hits = answerer.retriever.search(question, k=3)
    ans = answerer.verify("청년이란 19세 이상 39세 이하인 사람을 말한다.", question, hits, "test")
    assert "39세" not in ans.text


def test_ask_cli_json_shape(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from dasan.cli import cli

    law = shared_path("data", "laws", "청년기본법", "법률.md")
    run = CliRunner().invoke
    assert run(cli, ["--data-dir", str(tmp_path), "ingest", str(law)]).exit_code == 0
    res = run(cli, ["--data-dir", str(tmp_path), "ask", "청년기본법에서 청년은 몇 세부터 몇 세까지인가요?", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) >= {"answer", "refused", "citations", "backend", "timings_ms"}
    assert out["refused"] is False and out["backend"] == "extractive"
    c = out["citations"][0]
    assert set(c) >= {"marker", "citation", "document_id", "chunk_id", "quote"}
    assert c["citation"].startswith("청년기본법 제3조") and c["in_force"] is True and c["시행일자"]
    assert f"[{c['marker']}]" in out["answer"]
    refused = json.loads(run(cli, ["--data-dir", str(tmp_path), "ask", "김치찌개 끓이는 법", "--json"]).output)
    assert refused["refused"] is True and refused["answer"] == "제공된 문서에서 근거를 찾지 못했습니다."
    assert refused["citations"] == [] and refused["closest"]


class _BrokenBackend:
    name = "broken"
    model = "none"
    max_level = "기밀"

    def chat(self, messages, params):  # pragma: no cover - not used by the answerer
        raise AssertionError

    def stream(self, messages, params):
        from dasan.errors import LLMError

        raise LLMError("연결할 수 없습니다.")
        yield ""  # pragma: no cover


def test_backend_failure_falls_back_to_extractive_with_a_note(answerer: Answerer) -> None:
    answerer.backends["broken"] = _BrokenBackend()
    try:
        ans = answerer.ask("청년기본법에서 청년의 정의는?", backend="broken")
    finally:
        del answerer.backends["broken"]
    assert not ans.refused and ans.backend == "extractive" and ans.citations
    assert any("broken" in n and "원문 발췌" in n for n in ans.notes)


def test_article_chunks_returns_the_whole_split_article_within_the_filter(answerer: Answerer) -> None:
    from dasan.rag.retrieve import SearchFilter

    r = answerer.retriever
    [first] = [c for c in r.store.find_chunks_by_citation("청년기본법 시행령 제20조") if "제1항" in c.citation.label]
    whole = r.article_chunks([first.id])[first.id]
    assert [c.citation.label for c in whole] == ["청년기본법 시행령 제20조 제1항~제2항", "청년기본법 시행령 제20조 제3항~제4항"]
    assert r.article_chunks([first.id], SearchFilter(collection="elsewhere"))[first.id] == []
    assert r.article_chunks(["no-such-chunk"]) == {}


def test_answer_quotes_the_part_of_a_split_article_that_states_the_asked_value(answerer: Answerer) -> None:
    from dasan.types import Hit

    r = answerer.retriever
    [first] = [c for c in r.store.find_chunks_by_citation("청년기본법 시행령 제20조") if "제1항" in c.citation.label]
    # search kept only the first part of 제20조; the ratio is stated in its 제3항
    ans = answerer.extractive("정부 위원회에 청년 위원은 최소 몇 퍼센트 넣어야 하나요?", [Hit(chunk=first, score=1.0, rank=1)])
    assert not ans.refused
    assert "10분의 2 이상" in ans.text
    cited = {c.chunk.citation.label: c for c in ans.citations}
    assert "청년기본법 시행령 제20조 제3항~제4항" in cited
    for c in ans.citations:
        assert all(line in c.chunk.text for line in c.quote.splitlines())


def test_question_asking_for_a_value_no_source_states_is_refused(answerer: Answerer) -> None:
    ans = answerer.ask("청년정책조정위원회 회의는 오전 몇 시에 시작하나요?")
    assert ans.refused and ans.citations == []
    assert ans.text.startswith(REFUSAL) and "질문하신 시각을 정한 내용은 없습니다" in ans.text
    assert ans.hits  # the closest documents are still listed
    # the same topic asked without a measured value is answered
    assert not answerer.ask("청년정책조정위원회는 누가 위원장을 맡나요?").refused


# -- the answer says it first ------------------------------------------------------------


def test_extractive_answer_opens_with_the_sentence_that_states_the_asked_value(answerer: Answerer) -> None:
    ans = answerer.ask("법에서 말하는 청년은 몇 살부터 몇 살까지인가요?")
    lead = ans.text.splitlines()[0]
    # the definition itself comes first, verbatim, without its 호 number, cited as [1]
    assert lead.startswith('"청년"이란 19세 이상 34세 이하인 사람을 말한다.') and lead.endswith(" [1]")
    first = ans.citations[0]
    assert first.marker == 1 and first.chunk.citation.label.startswith("청년기본법 제3조")
    assert lead.removesuffix(" [1]") in first.quote and lead.removesuffix(" [1]") in first.chunk.text
    assert len(ans.text) <= 600
    # every article cited contributes a quote; the lead is not repeated in the quotes below it
    assert all(c.quote.strip() for c in ans.citations)
    assert ans.text.count("19세 이상 34세 이하") == 1


def test_answer_to_a_period_question_leads_with_the_period(answerer: Answerer) -> None:
    ans = answerer.ask("지역 청년센터로 지정되면 그 지정이 몇 년 동안 유지되나요?")
    assert ans.text.splitlines()[0] == "지역센터 및 중앙센터의 지정기간은 각각 3년으로 한다. [1]"
    assert ans.citations[0].chunk.citation.label.startswith("청년기본법 시행령 제21조의5")
    assert len({c.chunk.citation.label.split(" 제")[0] + c.chunk.citation.article for c in ans.citations}) <= 3


def _articles(answerer: Answerer, citation: str, cover) -> list:
    """The real chunks of one article, scored by ``cover`` (a stand-in for question coverage)."""
    from dasan.rag.extract import ComposeConfig, score_articles
    from dasan.types import Hit

    r = answerer.retriever
    [first] = [c for c in r.store.find_chunks_by_citation(citation) if "제1항" in c.citation.label]
    whole = r.article_chunks([first.id])
    return score_articles([Hit(chunk=first, score=1.0)], whole, cover, (), ComposeConfig())


def test_a_ho_leads_and_is_quoted_under_its_hang_on_real_statute_text(answerer: Answerer) -> None:
    from dasan.rag.extract import ComposeConfig, item_level, select

    # 청년기본법 시행령 제20조 ③: "… 청년 위촉 비율은 다음 각 호의 구분에 따른다." then 1.–3.
    arts = _articles(answerer, "청년기본법 시행령 제20조", lambda u: 1.0 if "그 밖의 위원회" in u else 0.05)
    comp = select(arts, ComposeConfig())
    assert comp is not None and comp.lead.text == "3. 그 밖의 위원회: 10분의 2 이상" and item_level(comp.lead.text) == 1
    lines, cites = comp.render()
    assert lines[0] == "그 밖의 위원회: 10분의 2 이상 [1]"  # the 호 number is left off the lead
    # its quote shows the 항 it belongs to, verbatim, so the reader sees what the ratio is for
    assert cites[0].marker == 1
    assert cites[0].quote.splitlines() == ["③ 법 제15조제2항에 따라 위원회를 구성할 때 위원회별 청년 위촉 비율은 다음 각 호의 구분에 따른다.",
                                           "3. 그 밖의 위원회: 10분의 2 이상"]
    assert lines[3] == ("청년기본법 시행령 제20조: ③ 법 제15조제2항에 따라 위원회를 구성할 때 위원회별 청년 "
                        "위촉 비율은 다음 각 호의 구분에 따른다. [1]")


def test_a_list_stem_brings_its_items_and_weak_articles_are_not_cited(answerer: Answerer) -> None:
    from dasan.rag.extract import ComposeConfig, select

    stem = "③ 법 제15조제2항에 따라 위원회를 구성할 때 위원회별 청년 위촉 비율은 다음 각 호의 구분에 따른다."
    arts = _articles(answerer, "청년기본법 시행령 제20조",
                     lambda u: 1.0 if u == stem else 0.05 if u.startswith(("1. 제2항", "3. 그 밖의")) else 0.01)
    other = _articles(answerer, "청년기본법 시행령 제21조의5", lambda u: 0.3 if "3년" in u else 0.0)
    other[0].rank = 1
    comp = select([*arts, *other], ComposeConfig())
    assert comp is not None and comp.lead.text == stem
    lines, cites = comp.render()
    shown = "\n".join(lines)
    # "다음 각 호": the items say what the stem announces; the best ones follow it in the quote,
    # within list_chars (the long 2. does not fit beside them)
    # The lead line states the stem; the quote does not repeat it but continues it ("(위 문장에
    # 이어) 1. … 3. …"), so the items never read as another line's
    from dasan.rag.extract import ELIDED, lead_text

    assert lines[0] == f"{lead_text(stem)} [1]"
    quote = next(x for x in lines if x.startswith("청년기본법 시행령 제20조:"))
    assert quote.startswith(f"청년기본법 시행령 제20조: {ELIDED} 1.") and stem not in shown
    for item in ("1. 제2항제1호부터 제3호까지의 규정에 따른 위원회: 10분의 3 이상", "3. 그 밖의 위원회: 10분의 2 이상"):
        assert item in quote
    assert "2. 제2항제4호에 따른 위원회" not in shown
    # 제21조의5's best unit scores 0.3, below other_ratio × the lead's 1.0: it contributes no
    # quote and is not cited
    assert ComposeConfig().other_ratio > 0.3
    assert all("제21조의5" not in c.chunk.citation.label for c in cites)


def test_lead_text_leaves_numbers_and_bullets_off() -> None:
    from dasan.rag.extract import item_level, lead_text

    assert lead_text("③ 제2항에 따른 확인 또는 검사 결과") == "제2항에 따른 확인 또는 검사 결과"
    assert lead_text("1. 술: 혈중 알코올농도가 0.02퍼센트") == "술: 혈중 알코올농도가 0.02퍼센트"
    assert lead_text("5의2. 어떤 경우") == "어떤 경우" and lead_text("가. 사망자가 1명 이상 발생") == "사망자가 1명 이상 발생"
    assert lead_text("- 중증시각장애 수험생 (1.7배 연장)") == "중증시각장애 수험생 (1.7배 연장)"
    assert lead_text("1.7배 연장") == "1.7배 연장"  # a decimal is not a 호 number
    assert [item_level(t) for t in ("① 항", "1. 호", "가. 목", "1) 세목", "2026. 3. 31.")] == [0, 1, 2, 3, 0]


def test_a_bare_list_stem_of_another_article_is_neither_quoted_nor_cited(answerer: Answerer) -> None:
    """"이 법에서 사용하는 용어의 뜻은 다음과 같다." without any of its items says nothing: an
    article that would contribute only that line is left out of the quotes and the citations."""
    from dasan.rag.extract import ComposeConfig, score_articles, select
    from dasan.types import Hit

    r = answerer.retriever
    stem = "이 법에서 사용하는 용어의 뜻은 다음과 같다."
    lead_arts = _articles(answerer, "청년기본법 시행령 제20조", lambda u: 1.0 if "그 밖의 위원회" in u else 0.0)
    defs = [c for c in r.store.find_chunks_by_citation("청년기본법 제3조")]
    assert defs and any(stem in c.text for c in defs)
    whole = r.article_chunks([defs[0].id])
    other = score_articles([Hit(chunk=defs[0], score=1.0)], whole, lambda u: 0.9 if u == stem else 0.0, (),
                           ComposeConfig())
    other[0].rank = 1
    comp = select([*lead_arts, *other], ComposeConfig())
    assert comp is not None and any(u.text == stem for _, keep in comp.quoted for u in keep)  # selected …
    lines, cites = comp.render()
    assert stem not in "\n".join(lines)  # … but not shown
    assert all(not c.chunk.citation.label.startswith("청년기본법 제3조") for c in cites)
    assert [c.marker for c in cites] == list(range(1, len(cites) + 1))
