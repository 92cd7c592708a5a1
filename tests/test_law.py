"""Statute parser: every markdown statute under shared/data/laws, plus plain-text input.

Counting rule shared by the test and the parser: an article is a ``##### 제N조…`` heading
before ``## 부칙``; it is *deleted* (and not counted) when every non-empty line of its body,
after removing ``<…>`` notes and ``**①**`` markers, is exactly ``삭제``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path

import pytest
import yaml
from conftest import shared_path

from dasan.errors import ParseError
from dasan.ingest.law import parse_statute, statute_kind, strip_notes
from dasan.types import Block, Document

# --------------------------------------------------------------------------- adapters
_BOLD = re.compile(r"\*\*([①-⑳㉑-㉟㊱-㊿])\*\*")
_ESC = re.compile(r"^(\d+(?:의\d+)?|[가-힣])\\\.")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def split_front_matter(text: str) -> tuple[dict, str]:
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        return yaml.load(text[4:end], Loader=_YAML_LOADER) or {}, text[end + 5 :]
    return {}, text


def _md_line(raw: str) -> str:
    return _ESC.sub(r"\1.", _BOLD.sub(r"\1", raw.strip()))


def markdown_document(path: Path) -> Document:
    """Stand-in for the Markdown reader: front matter → metadata, ``#`` → heading blocks,
    paragraphs (consecutive lines) → paragraph blocks with the lines joined by ``\\n``."""
    meta, body = split_front_matter(path.read_text("utf-8"))
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(Block("paragraph", "\n".join(para)))
            para.clear()

    for raw in body.split("\n"):
        if m := re.match(r"^(#{1,6})\s+(.*)$", raw):
            flush()
            blocks.append(Block("heading", m[2].strip(), level=len(m[1])))
        elif not raw.strip():
            flush()
        else:
            para.append(_md_line(raw))
    flush()
    return Document(source=str(path), format="md", blocks=blocks, title=meta.get("제목"), metadata=meta)


def plain_text(path: Path) -> str:
    """The statute as law.go.kr-style plain text: no front matter, no ``#``, article headings
    joined with their first line (``제5조(시행계획 수립절차 등) ① 법 제6조에 …``)."""
    meta, body = split_front_matter(path.read_text("utf-8"))
    d = meta["시행일자"]
    p = meta["공포일자"]
    lines = [
        f"{meta['제목']}  [시행 {d.year}. {d.month}. {d.day}.] "
        f"[{meta['법령구분']} 제{meta.get('공포번호', '1')}호, {p.year}. {p.month}. {p.day}., 일부개정]",
    ]
    pending: str | None = None
    for raw in body.split("\n"):
        if not raw.strip() or raw.startswith("# ") or raw.startswith("## 부칙"):
            continue
        if m := re.match(r"^#{2,6}\s+(.*)$", raw):
            if pending:
                lines.append(pending)
            text = m[1].strip()
            if am := re.match(r"^(제\d+조(?:의\d+)?) \((.*)\)$", text):
                pending = f"{am[1]}({am[2]})"
            else:
                pending = None
                lines.append(text)
            continue
        line = _md_line(raw)
        if pending:
            lines.append(f"{pending} {line}")
            pending = None
        else:
            lines.append(line)
    if pending:
        lines.append(pending)
    return "\n".join(lines)


def text_document(text: str, *, one_block: bool = False, source: str = "law.txt") -> Document:
    if one_block:
        blocks = [Block("paragraph", text)]
    else:
        blocks = [Block("paragraph", line) for line in text.split("\n") if line.strip()]
    return Document(source=source, format="txt", blocks=blocks)


# --------------------------------------------------------------------------- expectations
def law_files() -> list[Path]:
    files = sorted(shared_path("data", "laws").rglob("*.md"))
    assert len(files) == 85, f"expected 85 statute files, found {len(files)}"
    return files


def expected_articles(path: Path) -> tuple[list[str], list[str]]:
    """(live article numbers, deleted article numbers) counted from the markdown source."""
    body = path.read_text("utf-8").split("\n## 부칙")[0]
    parts = re.split(r"^##### (제\d+조(?:의\d+)?)\b.*$", body, flags=re.M)
    live, deleted = [], []
    for number, section in zip(parts[1::2], parts[2::2], strict=True):
        content = section.split("\n#")[0]
        lines = [re.sub(r"<[^<>]*>", "", x).replace("**", "").strip() for x in content.split("\n")]
        lines = [re.sub(r"^[①-⑳]\s*", "", x) for x in lines if x]
        (deleted if lines and all(x == "삭제" for x in lines) else live).append(number)
    return live, deleted


@functools.cache
def parsed(path: Path):
    return parse_statute(markdown_document(path))


# --------------------------------------------------------------------------- corpus tests
def test_article_counts_match_source_for_all_statutes() -> None:
    mismatches = []
    for f in law_files():
        live, deleted = expected_articles(f)
        st = parsed(f)
        got = [a.number for a in st.articles]
        if got != live or st.deleted != deleted:
            mismatches.append((str(f), len(live), len(got), len(deleted), len(st.deleted)))
    assert not mismatches, mismatches


def test_metadata_from_front_matter() -> None:
    base = shared_path("data", "laws")
    st = parsed(base / "철도안전법" / "시행령.md")
    assert st.title == "철도안전법 시행령"
    assert st.kind == "시행령"
    assert st.ministries == ["국토교통부"]
    assert st.promulgated == "2026-03-24" and st.effective == "2026-03-24"
    assert st.status == "시행" and st.in_force(dt.date(2026, 6, 1))
    assert not st.in_force(dt.date(2026, 3, 23))
    assert parsed(base / "철도안전법" / "법률.md").kind == "법률"
    assert parsed(base / "철도안전법" / "시행규칙.md").kind == "시행규칙"
    kinds = {parsed(f).kind for f in law_files()}
    assert kinds == {"법률", "시행령", "시행규칙"}


def test_hierarchy_items_and_notes() -> None:
    base = shared_path("data", "laws")
    law = parsed(base / "철도안전법" / "법률.md")
    a41 = law.article("제41조")
    assert a41 is not None and a41.title == "철도종사자의 음주 제한 등"
    assert a41.path == ["제5장 철도차량 운행안전 및 철도 보호"]
    p1 = a41.paragraphs[0]
    assert p1.label == "제1항" and p1.marker == "①"
    assert [i.label for i in p1.items][:3] == ["제1호", "제2호", "제3호"]
    assert p1.items[0].text == "운전업무종사자"
    assert "<개정" not in a41.text and "개정 2014.5.21, 2017.8.9, 2018.6.12" in a41.notes
    # 제1장 heading carries a note that must not leak into the path.
    assert law.articles[0].path == ["제1장 총칙"]
    # A partly deleted article keeps its live 항 only.
    dec = parsed(base / "철도안전법" / "시행령.md")
    a = dec.article("제43조의2")
    assert [p.label for p in a.paragraphs] == ["제2항", "제3항", "제4항"]
    assert "제8조" in dec.deleted and dec.article("제8조") is None
    # 절 and 관 levels.
    local = parsed(base / "_extra" / "지방자치법" / "법률.md")
    deep = [a for a in local.articles if len(a.path) == 3]
    assert deep and deep[0].path[2].startswith("제1관")


def test_addenda_are_separate() -> None:
    dec = parsed(shared_path("data", "laws", "철도안전법", "시행령.md"))
    assert dec.addenda, "부칙 not parsed"
    numbers = [a.number for a in dec.articles]
    assert len(numbers) == len(set(numbers)), "부칙 articles leaked into the body"
    last = dec.addenda[-1]
    assert last.heading.startswith("부칙") and "제36220호" in last.heading
    assert "공포한 날부터 시행한다" in last.text
    with_articles = [ad for ad in dec.addenda if ad.articles]
    assert with_articles and with_articles[0].articles[0].number == "제1조"


@pytest.mark.parametrize("one_block", [False, True], ids=["line-blocks", "one-block"])
def test_plain_text_matches_markdown_for_all_statutes(one_block: bool) -> None:
    problems = []
    for f in law_files():
        md = parsed(f)
        st = parse_statute(text_document(plain_text(f), one_block=one_block, source=str(f)))
        if [(a.number, a.title, a.text) for a in st.articles] != [(a.number, a.title, a.text) for a in md.articles]:
            problems.append(str(f))
        elif st.deleted != md.deleted or st.title != md.title or st.kind != md.kind:
            problems.append(f"{f}: meta {st.title} {st.kind}")
        elif st.effective != md.effective or len(st.addenda) != len(md.addenda):
            problems.append(f"{f}: dates/addenda {st.effective} {len(st.addenda)} {len(md.addenda)}")
    assert not problems, problems[:5]


# --------------------------------------------------------------------------- synthetic input
SAMPLE = """\
가상안전법 시행규칙
제1편 총칙
제1장 목적과 정의 <개정 2020.1.1>
제1조(목적) 이 규칙은 「가상안전법」에서 위임된 사항을 규정함을 목적으로 한다.
제2조(정의) 이 규칙에서 사용하는 용어의 뜻은 다음과 같다. <개정 2021.3.4>
1. "시설"이란 철도시설을 말한다.
2. 삭제 <2022.2.2>
5의2. "작업자"란 다음 각 목의 사람을 말한다.
가. 운전업무종사자
나. 관제업무종사자
제3조 삭제 <2019.9.9>
제2장 안전관리
제4조(안전점검) ① 관리자는 매년 점검하여야 한다. <신설 2020.6.9>
② 제1항에 따른 점검의 방법은 장관이 정한다.
[본조신설 2020.6.9]
제4조의2(점검 결과의 공개) 관리자는 점검 결과를 공개한다.
[전문개정 2023.5.5]
부칙 <제100호,2024.1.2>
제1조(시행일) 이 규칙은 공포한 날부터 시행한다.
제2조(경과조치) 이 규칙 시행 전의 점검은 종전의 규정에 따른다.
"""


def test_plain_text_structure() -> None:
    st = parse_statute(text_document(SAMPLE))
    assert st.title == "가상안전법 시행규칙" and st.kind == "시행규칙"
    assert [a.number for a in st.articles] == ["제1조", "제2조", "제4조", "제4조의2"]
    assert st.deleted == ["제3조"]
    a2 = st.article("제2조")
    assert a2.path == ["제1편 총칙", "제1장 목적과 정의"]
    items = a2.paragraphs[0].items
    assert [i.label for i in items] == ["제1호", "제5호의2"]  # deleted 제2호 dropped
    assert [c.label for c in items[1].children] == ["가목", "나목"]
    a4 = st.article("제4조")
    assert a4.path == ["제1편 총칙", "제2장 안전관리"]
    assert [p.label for p in a4.paragraphs] == ["제1항", "제2항"]
    assert "신설 2020.6.9" in a4.notes and "본조신설 2020.6.9" in a4.notes
    assert "[본조신설" not in a4.text and "<신설" not in a4.text
    assert "전문개정 2023.5.5" in st.article("제4조의2").notes
    assert len(st.addenda) == 1 and [a.number for a in st.addenda[0].articles] == ["제1조", "제2조"]
    assert st.cite("제4조", "제1항") == "가상안전법 시행규칙 제4조 제1항"


def test_law_go_kr_header_and_references_are_not_articles() -> None:
    text = (
        "가상법 시행령 [시행 2025. 7. 1.] [대통령령 제35000호, 2025. 1. 2., 일부개정]\n"
        "행정안전부(안전정책과), 044-205-0000\n"
        "제1조(목적) 이 영은 위임사항을 정한다.\n"
        "제2조(적용) 법 제2조제1호에 따른다.\n"
        "제2조제3항에 따른 기준은 다음과 같다.\n"  # a reference, not an article
        "제1조(중복) 번호가 거꾸로 가는 줄은 조문이 아니다.\n"
        "제3조(위임) 세부사항은 장관이 정한다.\n"
    )
    st = parse_statute(text_document(text))
    assert st.title == "가상법 시행령" and st.kind == "시행령"
    assert st.effective == "2025-07-01" and st.promulgated == "2025-01-02"
    assert st.ministries == ["행정안전부"]
    assert [a.number for a in st.articles] == ["제1조", "제2조", "제3조"]
    assert "제2조제3항에 따른 기준" in st.article("제2조").text


def test_no_articles_is_a_parse_error() -> None:
    doc = text_document("회의록\n오늘은 날씨가 맑았다.\n제1장을 읽었다.")
    with pytest.raises(ParseError, match="조문"):
        parse_statute(doc)


def test_helpers() -> None:
    assert statute_kind("도로교통법", "법률") == "법률"
    assert statute_kind("x", "총리령") == "시행규칙"
    assert statute_kind("x", "국토교통부령") == "시행규칙"
    assert statute_kind("건축법 시행령") == "시행령"
    text, notes = strip_notes("다음 각 호와 같다. <개정 2014.3.18, 2017.7.24> [이하 같다]")
    assert text == "다음 각 호와 같다. [이하 같다]" and notes == ["개정 2014.3.18, 2017.7.24"]


def test_real_markdown_reader_if_available() -> None:
    """When the project's Markdown reader exists, it must give the parser the same articles."""
    try:
        from dasan.ingest.readers.text import MarkdownReader
    except ImportError:
        pytest.skip("Markdown reader not available yet")
    base = shared_path("data", "laws")
    for f in (base / "철도안전법" / "시행령.md", base / "철도안전법" / "법률.md",
              base / "재난및안전관리기본법" / "법률.md"):
        st = parse_statute(MarkdownReader().read(f, f.read_bytes()))
        ref = parsed(f)
        assert st.title == ref.title and st.kind == ref.kind and st.deleted == ref.deleted
        assert [(a.number, " ".join(a.text.split())) for a in st.articles] == [
            (a.number, " ".join(a.text.split())) for a in ref.articles
        ]


def test_pdf_style_runs_and_wraps() -> None:
    """Several 항 on one line and hard-wrapped lines (PDF text) still parse."""
    text = (
        "제5조(시행계획) ① 법 제6조에 따라 제출하여야 한다. <개정 2013.3.23> ② 시ㆍ도지사는\n"
        "매년 2월 말까지 제출하여야 한다. ③ 장관은 ①부터 ②까지를 검토한다.\n"
        "제6조(기타) 이 조는 짧다."
    )
    st = parse_statute(text_document(text, one_block=True))
    a5 = st.article("제5조")
    assert [p.label for p in a5.paragraphs] == ["제1항", "제2항", "제3항"]
    assert a5.paragraphs[1].text == "시ㆍ도지사는\n매년 2월 말까지 제출하여야 한다."
    assert a5.paragraphs[2].text == "장관은 ①부터 ②까지를 검토한다."
    assert a5.notes == ["개정 2013.3.23"]
