"""The asking part of long situational questions (dasan/rag/asking.py) and its use in search."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import shared_path

from dasan.ingest.pipeline import ingest_paths
from dasan.korean.tokenize import tokenize_query
from dasan.rag.asking import frame, frame_long, is_asking
from dasan.rag.retrieve import RetrievalConfig, Retriever
from dasan.store import open_store

STORY = ("저는 작은 식당에서 2년 동안 주방 보조로 일했습니다. 사장님은 매달 월급을 주었지만 "
         "명세서는 한 번도 주지 않았고, 마지막 달에는 장사가 안 된다며 절반만 주었습니다. "
         "지난주에 그만두면서 남은 돈을 달라고 했더니 다음 달에 주겠다고만 합니다. ")
ASK = "이 경우 퇴직금과 밀린 임금을 언제까지 받을 수 있는지요?"


def _asking_texts(question: str) -> list[str]:
    f = frame(question)
    return [f.text[s.start:s.end] for s in f.segments if s.asking]


@pytest.mark.parametrize("sentence", [
    "퇴직금을 받을 수 있나요?", "해고예고수당을 받을 수 있을까요", "연차휴가 부여 여부",
    "통상임금에 포함되는지", "이 경우에도 처벌되는지요.", "사업주의 의무가 무엇인지 궁금합니다.",
    "해석을 알려주시기 바랍니다", "(질의1) 감시적 근로에 해당하는지", "질문: 누가 교육을 해야 하는가",
])
def test_question_endings_and_markers_ask(sentence: str) -> None:
    assert is_asking(sentence)


@pytest.mark.parametrize("sentence", [
    "저는 3년 동안 근무하였습니다.", "회사는 퇴직금을 주지 않고 있습니다", "○ 당사는 상시근로자 50명 사업장임",
])
def test_situation_sentences_do_not_ask(sentence: str) -> None:
    assert not is_asking(sentence)


def test_situation_then_question() -> None:
    f = frame(STORY + ASK)
    assert f.situational
    assert _asking_texts(STORY + ASK) == [ASK]
    assert "퇴직금" in f.asking_tokens and "식당" not in f.asking_tokens
    assert f.tokens == tokenize_query(STORY + ASK)  # the same tokens as the plain lexical path (no cut here)


def test_markers_split_numbered_questions() -> None:
    q = ("○ 당사는 경비 용역 회사로 경비원 30명이 격일제로 근무하고 있음 "
         "질의1) 경비원의 업무가 감시적 근로에 해당하는지 여부 "
         "질의2) 승인을 받을 때 근로자의 동의가 필요한지 여부")
    asks = _asking_texts(q)
    assert len(asks) == 2 and asks[0].startswith("질의1)") and asks[1].startswith("질의2)")
    assert not frame(q).segments[0].asking


def test_enumerated_questions_and_dates_are_not_enumerators() -> None:
    q = ("1996. 6. 30. 법인 청산이 결정되어 직원이 모두 퇴사함. "
         "가. 재입사한 직원이 조기재취업수당을 받을 수 있는지 여부 "
         "나. 협상 기간이 구직활동에 해당하는지 여부")
    f = frame(q)
    texts = [f.text[s.start:s.end] for s in f.segments]
    assert texts[0].startswith("1996. 6. 30.")  # a date, not "6." as an enumerator
    assert _asking_texts(q) == ["가. 재입사한 직원이 조기재취업수당을 받을 수 있는지 여부",
                                "나. 협상 기간이 구직활동에 해당하는지 여부"]


def test_long_single_sentence_asks_in_its_last_clause() -> None:
    q = ("근로계약을 맺을 때 계약 기간을 정하지 않았고 구두로도 기간에 대해 아무런 말이 없어 계속 일할 것으로 믿고 "
         "지금까지 이십 개월 동안 근무하고 있는데, 회사가 기간제 사용 기간 제한을 이유로 퇴사를 권고한 경우 "
         "기간의 정함이 없는 근로계약으로 보는지 여부")
    f = frame(q)
    assert len(f.segments) == 2 and f.situational
    assert f.text[f.segments[-1].start:f.segments[-1].end].startswith("회사가 기간제")


def test_without_cues_the_last_sentence_asks() -> None:
    q = "회사에서 안전교육을 하지 않았습니다. 작업 중에 손을 다쳤습니다. 산재 신청 방법"
    assert _asking_texts(q) == ["산재 신청 방법"]


def test_dense_text_keeps_the_asking_part_and_the_nearest_situation() -> None:
    f = frame(STORY + ASK)
    text = f.dense_text(90, "(퇴직급여)")
    assert text.endswith(f"{ASK} (퇴직급여)") and len(text) <= 90
    assert "지난주에 그만두면서" not in text or text.index("지난주") < text.index(ASK)
    wide = f.dense_text(2000, "(퇴직급여)")
    assert wide == f"{f.text} (퇴직급여)"  # fits: the whole question
    tight = f.dense_text(20)
    assert len(tight) <= 20 and tight.endswith("있는지요?")  # the asking part's end


def test_short_questions_are_not_framed() -> None:
    assert frame_long("지하철 요금을 올릴 때 며칠 전에 알려야 하나요?", 120) is None
    assert frame_long(STORY + ASK, 0) is None  # 0 turns framing off
    assert frame_long(STORY + ASK, 120) is not None


def test_other_tokenizer_is_used_for_both_parts() -> None:
    f = frame_long(STORY + ASK, 120, tokenizer=lambda s: s.split())
    assert f is not None and f.tokens == (STORY + ASK).split() and f.asking_tokens == ASK.split()


@pytest.fixture(scope="module")
def youth(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    data = tmp_path_factory.mktemp("asking")
    store = open_store(data)
    ingest_paths(store, [shared_path("data", "laws", "청년기본법")], recursive=True, collection="laws")
    return store, data


def test_search_of_short_questions_is_unchanged(youth: tuple[object, Path]) -> None:
    store, data = youth
    r = Retriever(store, data, RetrievalConfig(embedder=None))  # type: ignore[arg-type]
    for q in ("청년의 나이는 몇 살부터 몇 살까지인가요?", "청년정책 시행계획은 언제까지 제출하나요?"):
        on = r.rank(q, 10)
        r.config = replace(r.config, asking_min_chars=0)
        off = r.rank(q, 10)
        r.config = RetrievalConfig(embedder=None)
        assert on == off


def test_long_question_ranks_by_its_asking_part(youth: tuple[object, Path]) -> None:
    store, data = youth
    story = ("저는 올해 스물다섯 살로 지방의 작은 회사에 다니다가 지난달 그만두고 구직 중입니다. "
             "친구들과 지역 청년센터에서 모임을 하면서 이런저런 정보를 나누고 있는데, 주변에서 들은 말이 서로 달라 헷갈립니다. ")
    question = story + "법에서 말하는 청년은 몇 세부터 몇 세까지인지 궁금합니다."
    r = Retriever(store, data, RetrievalConfig(embedder=None))  # type: ignore[arg-type]
    hits = r.search(question, k=3)
    assert any(h.chunk.citation.label.startswith("청년기본법 제3조") for h in hits)
