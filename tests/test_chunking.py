"""Structure-aware chunking: all 85 statutes, press releases, records and generic text."""

from __future__ import annotations

import functools
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import shared_path
from hypothesis import given, settings
from hypothesis import strategies as st
from test_law import expected_articles, law_files, markdown_document, parsed, text_document
from test_press import release_tables

from dasan.errors import ConfigError, DasanError
from dasan.ingest.chunking import chunk_document, chunk_id
from dasan.ingest.structure import detect_kind
from dasan.korean import split_sentences
from dasan.types import Block, Chunk, Document

TIMINGS: dict[str, float] = {}


@functools.cache
def corpus() -> dict[Path, list[Chunk]]:
    docs = {f: markdown_document(f) for f in law_files()}
    t0 = time.perf_counter()
    out = {f: chunk_document(d, f"law:{f.parent.name}/{f.stem}") for f, d in docs.items()}
    TIMINGS["chunk_all_laws_s"] = time.perf_counter() - t0
    return out


def _norm(s: str) -> str:
    s = re.sub(r"</?img[^<>]*>", "", s)
    s = re.sub(r"<(?:개정|신설|타법개정)?\s*[\d.,\s]+>", " ", s)
    return " ".join(s.replace("**", "").replace("\\", "").split())


def _sections(path: Path) -> dict[str, str]:
    body = path.read_text("utf-8").split("\n## 부칙")[0]
    parts = re.split(r"^##### (제\d+조(?:의\d+)?)\b.*$", body, flags=re.M)
    return {n: _norm(sec.split("\n#")[0]) for n, sec in zip(parts[1::2], parts[2::2], strict=True)}


def _find(label_prefix: str, article: str) -> list[Chunk]:
    return [
        c for chunks in corpus().values() for c in chunks
        if c.citation.label.startswith(label_prefix) and c.citation.article == article
    ]


@pytest.mark.parametrize(
    ("prefix", "article", "phrase"),
    [
        ("철도안전법 제41조", "제41조", "약물을 사용한 상태에서 업무를 하여서는 아니 된다"),
        ("철도안전법 시행령 제60조의6", "제60조의6", "3명 이하의 인원으로 할 수 있는 소규모 작업"),
        ("재난 및 안전관리 기본법 제66조의12", "제66조의12", "다중운집으로 인한 재난이나 각종 사고가 발생하는 것을 예방"),
    ],
)
def test_required_citations(prefix: str, article: str, phrase: str) -> None:
    found = _find(prefix, article)
    assert found, f"no chunk cited as {prefix}"
    assert any(phrase in c.text for c in found)
    for c in found:
        assert c.text.startswith(article + "(")
        assert c.meta["kind"] == "law" and not c.meta["addendum"]
        assert c.context.startswith(c.citation.title) and article in c.context


def test_single_chunk_article_metadata() -> None:
    (c,) = _find("철도안전법 시행령 제60조의6", "제60조의6")
    assert c.citation.label == "철도안전법 시행령 제60조의6" and c.citation.paragraph is None
    assert c.citation.title == "철도안전법 시행령"
    assert c.meta["statute_kind"] == "시행령" and c.meta["시행일자"] == "2026-03-24"
    assert c.meta["공포일자"] == "2026-03-24" and c.meta["상태"] == "시행" and c.meta["in_force"] is True
    assert c.meta["article_title"] == "철도운행안전관리자의 배치"
    assert c.context == "철도안전법 시행령 > 제60조의6(철도운행안전관리자의 배치)"
    assert c.classification == "공개" and c.document_id == "law:철도안전법/시행령"
    assert c.id == chunk_id(c.document_id, c.ordinal, c.citation.label, c.text)
    law41 = _find("철도안전법 제41조", "제41조")
    assert all(x.citation.section == "제5장 철도차량 운행안전 및 철도 보호" for x in law41)
    assert all("제5장 철도차량 운행안전 및 철도 보호" in x.context for x in law41)


def test_every_article_chunked_and_nothing_mixed() -> None:
    problems: list[str] = []
    for f, chunks in corpus().items():
        statute = parsed(f)
        live, deleted = expected_articles(f)
        sections = _sections(f)
        body = [c for c in chunks if not c.meta["addendum"]]
        by_article: dict[str, list[Chunk]] = {}
        for c in body:
            by_article.setdefault(c.citation.article, []).append(c)
        if list(by_article) != live:
            problems.append(f"{f}: articles {len(by_article)} != {len(live)}")
        if set(by_article) & set(deleted):
            problems.append(f"{f}: deleted articles chunked")
        for c in body:
            a = statute.article(c.citation.article)
            head, _, rest = c.text.partition("\n")
            if head != a.header:
                problems.append(f"{c.citation.label}: header {head!r}")
            src = sections[a.number]
            for line in rest.split("\n"):
                if _norm(line) and _norm(line) not in src:
                    problems.append(f"{c.citation.label}: line not from its article: {line[:60]!r}")
                    break
            if len(c.text) > 800:
                problems.append(f"{c.citation.label}: {len(c.text)} chars")
        for a in statute.articles:  # an article that fits is exactly one chunk with the plain label
            if len(a.text) <= 800:
                got = by_article.get(a.number, [])
                if len(got) != 1 or got[0].citation.label != f"{statute.title} {a.number}":
                    problems.append(f"{statute.title} {a.number}: {[g.citation.label for g in got]}")
    assert not problems, problems[:10]


def test_notes_removed_from_text_and_kept_in_meta() -> None:
    note = re.compile(r"<(?:개정|신설)[^<>]*>|\[(?:본조신설|전문개정)")
    for chunks in corpus().values():
        for c in chunks:
            if not c.meta["addendum"]:
                assert not note.search(c.text), c.citation.label
    law41 = _find("철도안전법 제41조", "제41조")
    assert any("개정 2014.5.21, 2017.8.9, 2018.6.12" in c.meta["notes"] for c in law41)


def test_addenda_cited_separately() -> None:
    chunks = corpus()[shared_law("철도안전법", "시행령")]
    add = [c for c in chunks if c.meta["addendum"]]
    assert add and all(c.citation.label.startswith("철도안전법 시행령 부칙") for c in add)
    assert any(c.citation.label == "철도안전법 시행령 부칙 제2조" for c in add)
    assert all(c.citation.section and c.citation.section.startswith("부칙") for c in add)
    assert add[-1].citation.section.endswith("<제36220호,2026.3.24>")


def test_ids_unique_and_deterministic() -> None:
    f = shared_law("재난및안전관리기본법", "법률")
    first = corpus()[f]
    again = chunk_document(markdown_document(f), "law:재난및안전관리기본법/법률")
    assert [c.id for c in first] == [c.id for c in again]
    ids = [c.id for chunks in corpus().values() for c in chunks]
    assert len(ids) == len(set(ids))
    assert all(len(i) == 32 for i in ids)


def test_long_article_split_at_paragraphs_and_items() -> None:
    f = shared_law("철도안전법", "시행령")
    chunks = chunk_document(markdown_document(f), "d", max_chars=400, classification="민감")
    c62 = [c for c in chunks if c.citation.article == "제62조"]
    assert len(c62) > 1 and all(len(c.text) <= 400 for c in c62)
    assert all(c.text.startswith("제62조(권한의 위임)\n") for c in c62)
    assert c62[0].citation.label.startswith("철도안전법 시행령 제62조 제1항")
    assert c62[0].citation.paragraph == "제1항" and "제1항" in c62[0].context
    assert all(c.classification == "민감" for c in c62)
    joined = "\n".join(c.text for c in c62)
    a = parsed(f).article("제62조")
    for p in a.paragraphs:
        for it in p.items:
            assert it.text[:30] in joined
    # The 5-항 article 제5조 (≈700 chars) is split into groups of whole 항.
    c5 = [c for c in chunks if c.citation.article == "제5조"]
    assert len(c5) >= 2 and all(c.text.count("\n①") + c.text.count("\n②") <= 2 for c in c5)
    assert any(re.search(r"제5조 제\d항(~제\d항)?$", c.citation.label) for c in c5)


def test_timing_report(capsys: pytest.CaptureFixture[str]) -> None:
    corpus()
    total = sum(len(v) for v in corpus().values())
    with capsys.disabled():
        print(f"\n[chunking] 85 statutes → {total} chunks in {TIMINGS['chunk_all_laws_s']:.2f}s")
    assert total > 10_000  # timing is reported only; performance lives in `dasan bench ingest`


# --------------------------------------------------------------------------- other kinds
def test_press_chunks() -> None:
    doc = release_tables()
    chunks = chunk_document(doc, "press:1")
    assert doc.kind == "press"
    label = "여름철 철도시설 안전 특별점검 본격 추진 (국토교통부 2026. 6. 23.)"
    assert all(c.citation.label == label for c in chunks)
    bullets = [c for c in chunks if c.text.startswith("□")]
    assert len(bullets) == 2
    assert "ㅇ 이번 점검은" in bullets[0].text and "* 레일 온도" in bullets[0].text
    assert bullets[1].context == "여름철 철도시설 안전 특별점검 본격 추진 > < 향후 계획 >"
    assert bullets[1].citation.section == "< 향후 계획 >"
    meta = bullets[0].meta
    assert meta["embargo"] == "2026-06-23T11:00:00+09:00" and meta["ministry"] == "국토교통부"
    assert "contacts" not in meta  # kept once per document, not copied into every chunk
    assert doc.metadata["contacts"][0]["name"] == "홍길동"
    att = [c for c in chunks if (c.citation.section or "").startswith("붙임 1")]
    assert att and "점검 기간" in att[0].text


def test_records_one_chunk_each() -> None:
    blocks = [
        Block("record", f"정책명: 청년 정책 {i}\n지원내용: 월세 지원", meta={"record_id": f"R{i:03d}", "fields": {}})
        for i in range(5)
    ]
    doc = Document(source="/data/youth.jsonl", format="jsonl", blocks=blocks, title="청년정책")
    chunks = chunk_document(doc, "rec")
    assert doc.kind == "records"
    assert [c.citation.label for c in chunks] == [f"청년정책 #R{i:03d}" for i in range(5)]
    assert chunks[2].citation.section == "R002" and chunks[2].text.startswith("정책명: 청년 정책 2")


SENT = [
    "철도 운영기관은 매년 안전 점검 계획을 세운다.",
    "점검 결과는 누리집에 공개한다.",
    "다만, 보안상 필요한 경우에는 일부를 공개하지 아니할 수 있다.",
    "이 지침은 2026. 7. 1.부터 시행한다.",
    "여름철에는 폭염과 집중호우에 대비한 특별점검을 추가로 실시한다.",
    "점검반은 선로, 전차선, 배수시설을 차례로 확인한다!",
    "문제가 발견되면 즉시 보수하는가?",
]


def test_generic_chunks_respect_sentences() -> None:
    long_para = " ".join(SENT * 3)
    doc = Document(source="/x/guide.hwp", format="hwp", title="철도 점검 지침", blocks=[
        Block("heading", "1. 개요", level=1),
        Block("paragraph", long_para),
        Block("heading", "2. 세부 기준", level=1),
        Block("heading", "가. 점검 주기", level=2),
        Block("paragraph", "점검은 분기마다 한다."),
    ])
    chunks = chunk_document(doc, "g", max_chars=150)
    assert doc.kind == "generic"
    sentences = set(split_sentences(long_para))
    assert sentences == set(SENT)
    body = [c for c in chunks if c.citation.section == "1. 개요"]
    assert len(body) > 2
    for c in body:
        assert len(c.text) <= 150
        assert all(s in sentences for s in split_sentences(c.text)), c.text
        assert c.citation.label == "철도 점검 지침 §1. 개요"
    last = chunks[-1]
    assert last.citation.label == "철도 점검 지침 §가. 점검 주기"
    assert last.context == "철도 점검 지침 > 2. 세부 기준 > 가. 점검 주기"


def test_generic_pages_and_overlong_sentence() -> None:
    doc = Document(source="/x/report.pdf", format="pdf", pages=3, blocks=[
        Block("paragraph", "첫 쪽의 문단이다.", page=1),
        Block("page_break", page=2),
        Block("paragraph", "둘째 쪽의 문단이다."),
        Block("page_break", page=3),
        Block("paragraph", "가" * 50 + " " + "나" * 150 + " 다."),
    ])
    chunks = chunk_document(doc, "p", max_chars=100)
    assert [c.citation.label for c in chunks[:2]] == ["report p.1", "report p.2"]
    assert [c.citation.page for c in chunks[:2]] == [1, 2] and chunks[1].text == "둘째 쪽의 문단이다."
    tail = [c for c in chunks if c.citation.page == 3]
    assert len(tail) >= 2 and all(len(c.text) <= 100 for c in tail)
    assert "".join(c.text for c in tail).replace(" ", "") == ("가" * 50 + "나" * 150 + "다.")


def test_detect_kind_variants() -> None:
    law = markdown_document(shared_law("청년기본법", "법률"))
    assert detect_kind(law) == "law"
    plain = text_document("제1조(목적) 목적을 정한다.\n제2조(정의) 뜻은 다음과 같다.\n제3조(책무) 국가는 노력한다.")
    assert detect_kind(plain) == "law"
    assert detect_kind(text_document("제1조(목적)을 참고하였다.\n회의 결과를 정리한다.")) == "generic"
    assert detect_kind(Document(source="e", format="txt")) == "generic"


def test_bad_arguments_and_empty_documents() -> None:
    doc = text_document("내용")
    with pytest.raises(ConfigError, match="max_chars"):
        chunk_document(doc, "x", max_chars=10)
    with pytest.raises(ConfigError, match="보안 등급"):
        chunk_document(doc, "x", classification="극비")
    assert chunk_document(Document(source="e", format="txt"), "x") == []
    # A document claimed as law without articles falls back to generic chunking.
    odd = text_document("그냥 글이다.")
    odd.kind = "law"
    (c,) = chunk_document(odd, "x")
    assert odd.kind == "generic" and c.text == "그냥 글이다."


def shared_law(name: str, kind: str) -> Path:
    return next(f for f in law_files() if f.parent.name == name and f.stem == kind)


# --------------------------------------------------------------------------- robustness
_PIECES = [
    "제1조(목적)", "제2조의3 (정의)", "제1장 총칙", "제2절 세부", "부칙 <제1호,2020.1.1>", "부칙", "①", "②",
    "1.", "5의2.", "가.", "삭제 <2020.6.9>", "<개정 2020.1.1>", "[본조신설 2019.1.1]", "□", "ㅇ", "-", "※",
    "보도자료", "보도시점: 2026. 6. 23.(화) 11:00", "배포", "담당 부서", "책임자", "과장", "044-201-3938",
    "붙임", "별첨", "다.", "이 법은 시행한다.", "가나다 라마바사.", "(", ")", "[", "]", "<", ">", "\n", " ",
]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["paragraph", "heading", "list_item", "table", "page_break", "record"]),
            st.lists(st.sampled_from(_PIECES) | st.text(max_size=30), max_size=12),
        ),
        max_size=25,
    ),
    st.integers(min_value=100, max_value=400),
)
@settings(max_examples=150, deadline=None)
def test_chunking_never_crashes(spec: list[tuple[str, list[str]]], max_chars: int) -> None:
    blocks = []
    for kind, parts in spec:
        text = " ".join(parts)
        if kind == "table":
            blocks.append(Block("table", text, rows=[parts[:3], parts[3:6]]))
        elif kind == "page_break":
            blocks.append(Block("page_break", page=None))
        else:
            blocks.append(Block(kind, text, level=len(parts) % 4, meta={"bullet": parts[0] if parts else ""}))
    doc = Document(source="fuzz.txt", format="txt", blocks=blocks)
    try:
        chunks = chunk_document(doc, "fuzz", max_chars=max_chars)
    except DasanError:
        return
    assert all(c.text.strip() for c in chunks)
    assert len({c.id for c in chunks}) == len(chunks)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_bench_gold_citations_exist() -> None:
    """Every gold citation of the shared benchmarks names a chunked (statute, article)."""
    have = {
        f"{c.citation.title} {c.citation.article}"
        for chunks in corpus().values() for c in chunks if not c.meta["addendum"]
    }
    missing = []
    for name in ("law_qa_dev.jsonl", "law_defs.jsonl"):
        for line in shared_path("bench", name).read_text("utf-8").splitlines():
            if line.strip():
                missing += [g for g in json.loads(line)["gold"] if g not in have]
    assert not missing, missing[:10]


def test_sentence_splitter_is_thread_safe() -> None:
    texts = [" ".join(SENT[i:] + SENT[:i]) for i in range(len(SENT))]
    expected = [split_sentences(t) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(split_sentences, texts * 4))
    assert got == expected * 4
