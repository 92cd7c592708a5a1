"""Readers for PDF, DOCX, HTML, TXT, Markdown, CSV, XLSX and JSONL, on files built here.

Korean PDFs are written with a Type0 font that has only a ToUnicode CMap (no glyph file), so
the text layer is real Hangul without depending on an installed TTF.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from conftest import shared_path
from fpdf import FPDF
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from dasan import config
from dasan.errors import CorruptFileError, EncryptedFileError, FileTooLargeError, ReadError
from dasan.ingest.readers.csvxlsx import CsvReader, XlsxReader
from dasan.ingest.readers.docx import DocxReader
from dasan.ingest.readers.html import HtmlReader
from dasan.ingest.readers.jsonl import JsonlReader
from dasan.ingest.readers.pdf import PdfReader, page_paragraphs
from dasan.ingest.readers.text import MarkdownReader, TextReader
from dasan.ingest.textdecode import decode_bytes

# --- helpers -------------------------------------------------------------------------------

_IDENTITY_CMAP = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
1 beginbfrange
<0000> <FFFF> <0000>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end
"""


def unicode_pdf(pages: list[list[str]], *, password: str | None = None, title: str = "시험 문서") -> bytes:
    """A PDF whose pages show the given lines (any Unicode) through an identity ToUnicode map."""
    w = PdfWriter()
    cmap = DecodedStreamObject()
    cmap.set_data(_IDENTITY_CMAP)
    cid_font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/CIDFontType2"),
        NameObject("/BaseFont"): NameObject("/DasanTest"),
        NameObject("/CIDSystemInfo"): DictionaryObject({
            NameObject("/Registry"): TextStringObject("Adobe"),
            NameObject("/Ordering"): TextStringObject("Identity"),
            NameObject("/Supplement"): NumberObject(0),
        }),
    })
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type0"),
        NameObject("/BaseFont"): NameObject("/DasanTest"),
        NameObject("/Encoding"): NameObject("/Identity-H"),
        NameObject("/DescendantFonts"): ArrayObject([w._add_object(cid_font)]),
        NameObject("/ToUnicode"): w._add_object(cmap),
    })
    font_ref = w._add_object(font)
    for lines in pages:
        page = w.add_blank_page(595, 842)
        ops = ["BT", "/F1 10 Tf", "14 TL", "50 800 Td"]
        ops += [f"<{ln.encode('utf-16-be').hex()}> Tj T*" for ln in lines]
        ops.append("ET")
        content = DecodedStreamObject()
        content.set_data("\n".join(ops).encode("ascii"))
        page[NameObject("/Contents")] = w._add_object(content)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}
        )
    w.add_metadata({"/Title": title, "/Author": "홍길동", "/CreationDate": "D:20260623110000+09'00'"})
    if password is not None:
        w.encrypt(user_password=password, owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def read(reader, path: Path):
    return reader.read(path, path.read_bytes())


def texts(doc, kind: str | None = None) -> list[str]:
    return [b.text for b in doc.blocks if kind is None or b.kind == kind]


# --- PDF -----------------------------------------------------------------------------------


def test_pdf_korean_pages_paragraphs_and_empty_page(tmp_path: Path) -> None:
    p = tmp_path / "press.pdf"
    p.write_bytes(unicode_pdf([
        [
            "철도안전 강화 대책 발표",
            "□ 국토교통부는 철도운영자의 안전관",  # wrap inside a word: no space may be added
            "리체계를 점검한다고 밝혔다. 점검은 ",  # the text layer keeps this trailing space
            "6월부터 시작된다.",
            "○ 점검 노선은 중앙행정기관과",  # a word-boundary wrap: the space comes back
            "광역자치단체가 함께 정하며, 법 제60조의",  # a statute reference cut
            "6에 따라 점검 결과를 지체 없이 20",
            "일 이내에 보고하여야 한다.",
            "붙임 세부 일정",
        ],
        [],
        ["제3조(정의) 이 영에서 사용하는 용어의 뜻은 다음과 같다."],
    ]))
    doc = read(PdfReader(), p)
    assert doc.format == "pdf" and doc.pages == 3
    assert doc.empty_pages == [2]
    assert doc.title == "시험 문서"
    assert doc.metadata["author"] == "홍길동"
    assert doc.metadata["created"].startswith("2026-06-23T11:00:00")
    breaks = [b.page for b in doc.blocks if b.kind == "page_break"]
    assert breaks == [1, 2, 3]
    paras = [(b.page, b.text) for b in doc.blocks if b.kind == "paragraph"]
    assert paras == [
        (1, "철도안전 강화 대책 발표"),
        (1, "□ 국토교통부는 철도운영자의 안전관리체계를 점검한다고 밝혔다. 점검은 6월부터 시작된다."),
        (1, "○ 점검 노선은 중앙행정기관과 광역자치단체가 함께 정하며, 법 제60조의6에 따라 점검 결과를 지체 없이 "
            "20일 이내에 보고하여야 한다."),
        (1, "붙임 세부 일정"),
        (3, "제3조(정의) 이 영에서 사용하는 용어의 뜻은 다음과 같다."),
    ]
    assert all(b.page is not None for b in doc.blocks)
    assert not doc.is_empty


def test_pdf_example_press_release() -> None:
    """The Korean press release shipped in examples/ (a real PDF with a Hangul text layer)."""
    src = config.examples_dir() / "press" / "20260310_국무조정실_2026년_청년정책_시행계획.pdf"
    doc = read(PdfReader(), src)
    assert doc.pages == 2 and doc.empty_pages == []
    assert doc.title == "2026년 청년정책 시행계획 확정, 5대 분야 186개 과제 추진"
    paras = [(b.page, b.text) for b in doc.blocks if b.kind == "paragraph"]
    assert (1, "배포 2026. 3. 10.(화) 10:00 보도시점 (인터넷) 배포 즉시") in paras
    first = next(t for _, t in paras if t.startswith("□ 국무조정실은"))
    assert "중앙행정기관과 광역자치단체가 함께" in first and first.endswith("밝혔다.")
    assert (2, "담당자 사무관 남궁현 (044-200-2416)") in paras
    assert (2, "붙임. 2026년 청년정책 시행계획 분야별 과제 수") in paras
    assert any(p == 2 and t.startswith("○ (복지·문화)") for p, t in paras)


def test_pdf_ascii_from_fpdf(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.set_title("Safety Report")
    pdf.add_page()
    pdf.multi_cell(0, 8, "Railway safety act applies. " * 17)
    pdf.ln()
    pdf.multi_cell(0, 8, "Second paragraph.")
    pdf.add_page()
    pdf.add_page()
    pdf.cell(0, 8, "Third page text")
    p = tmp_path / "ascii.pdf"
    pdf.output(str(p))
    doc = read(PdfReader(), p)
    assert doc.pages == 3 and doc.empty_pages == [2]
    assert doc.title == "Safety Report"
    paras = [(b.page, b.text) for b in doc.blocks if b.kind == "paragraph"]
    assert paras[0][1].startswith("Railway safety act applies. Railway")
    assert "  " not in paras[0][1]
    assert paras[1:] == [(1, "Second paragraph."), (3, "Third page text")]


def test_pdf_scanned_is_empty_with_all_pages_listed(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    img = io.BytesIO()
    Image.new("L", (64, 64), 128).save(img, "PNG")
    pdf.image(img, x=10, y=10, w=100)
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)
    p = tmp_path / "scan.pdf"
    pdf.output(str(p))
    doc = read(PdfReader(), p)
    assert doc.is_empty
    assert doc.pages == 2 and doc.empty_pages == [1, 2]


def test_pdf_encrypted(tmp_path: Path) -> None:
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(unicode_pdf([["비밀 문서"]], password="pw1234"))
    with pytest.raises(EncryptedFileError) as e:
        read(PdfReader(), locked)
    assert "암호" in e.value.message
    # An owner-password-only PDF (empty user password) opens normally.
    owner_only = tmp_path / "owner.pdf"
    owner_only.write_bytes(unicode_pdf([["공개 문서"]], password=""))
    assert texts(read(PdfReader(), owner_only), "paragraph") == ["공개 문서"]


@pytest.mark.parametrize("data", [
    b"%PDF-1.4\n" + bytes(range(256)) * 8,
    b"%PDF-1.7\n%%EOF\n",
])
def test_pdf_corrupt(tmp_path: Path, data: bytes) -> None:
    p = tmp_path / "bad.pdf"
    p.write_bytes(data)
    with pytest.raises(CorruptFileError):
        read(PdfReader(), p)


def test_pdf_truncated(tmp_path: Path) -> None:
    data = unicode_pdf([["가나다"]] * 3)
    p = tmp_path / "cut.pdf"
    p.write_bytes(data[: len(data) // 3])
    with pytest.raises(ReadError):
        read(PdfReader(), p)


# --- DOCX ----------------------------------------------------------------------------------


def _docx(path: Path) -> None:
    d = docx.Document()
    d.core_properties.title = "사업 계획서"
    d.core_properties.author = "홍길동"
    d.core_properties.created = dt.datetime(2026, 1, 2, 3, 4, 5)
    d.add_heading("개요", level=1)
    d.add_paragraph("본 문서는 시험용입니다.")
    d.add_paragraph("첫째 항목", style="List Bullet")
    d.add_paragraph("번호 하나", style="List Number")
    d.add_paragraph("번호 둘", style="List Number")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "구분", "내용"
    t.cell(1, 0).text, t.cell(1, 1).text = "예산", "100억"
    d.add_heading("세부 내용", level=2)
    d.add_paragraph("표 다음 문단.")
    d.add_paragraph("")
    d.save(str(path))


def test_docx_body_order_headings_lists_tables(tmp_path: Path) -> None:
    p = tmp_path / "plan.docx"
    _docx(p)
    doc = read(DocxReader(), p)
    got = [(b.kind, b.level, b.text) for b in doc.blocks]
    assert got == [
        ("heading", 1, "개요"),
        ("paragraph", 0, "본 문서는 시험용입니다."),
        ("list_item", 0, "첫째 항목"),
        ("list_item", 0, "1. 번호 하나"),
        ("list_item", 0, "2. 번호 둘"),
        ("table", 0, "구분 | 내용\n예산 | 100억"),
        ("heading", 2, "세부 내용"),
        ("paragraph", 0, "표 다음 문단."),
    ]
    table = doc.blocks[5]
    assert table.rows == [["구분", "내용"], ["예산", "100억"]]
    assert doc.blocks[2].meta["bullet"] == "•"
    assert doc.title == "사업 계획서"
    assert doc.metadata["author"] == "홍길동"
    assert doc.metadata["created"].startswith("2026-01-02T03:04:05")


def test_docx_korean_heading_style_name(tmp_path: Path) -> None:
    d = docx.Document()
    style = d.styles.add_style("제목 2", docx.enum.style.WD_STYLE_TYPE.PARAGRAPH)
    d.add_paragraph("제1장 총칙", style=style)
    d.add_paragraph("본문")
    p = tmp_path / "ko.docx"
    d.save(str(p))
    doc = read(DocxReader(), p)
    assert [(b.kind, b.level, b.text) for b in doc.blocks] == [("heading", 2, "제1장 총칙"), ("paragraph", 0, "본문")]


def test_docx_zip_limits_and_corruption(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "plan.docx"
    _docx(p)
    monkeypatch.setattr(config, "MAX_UNZIPPED_BYTES", 10_000)
    with pytest.raises(FileTooLargeError) as e:
        read(DocxReader(), p)
    assert "DASAN_MAX_UNZIPPED_BYTES" in e.value.message
    monkeypatch.undo()

    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"<w/>")
        zf.writestr("word/media/zeros.bin", b"\0" * (40 * 1048576))
    with pytest.raises(FileTooLargeError):
        read(DocxReader(), bomb)

    broken = tmp_path / "broken.docx"
    broken.write_bytes(p.read_bytes()[:2000])
    with pytest.raises(CorruptFileError):
        read(DocxReader(), broken)

    not_word = tmp_path / "other.docx"
    with zipfile.ZipFile(not_word, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(CorruptFileError):
        read(DocxReader(), not_word)


# --- HTML ----------------------------------------------------------------------------------

_HTML = """<!DOCTYPE html><html lang="ko"><head><meta charset="euc-kr"><title>보도자료 테스트</title>
<meta name="author" content="국토교통부"><meta name="description" content="철도안전 대책">
<style>p { color: red }</style><script>var secret = "스크립트 비밀";</script></head>
<body><nav><a href="/">홈</a> 메뉴 탐색</nav>
<h1>철도안전 강화</h1><p>첫 <b>문단</b>입니다.<br>둘째 줄</p>
<div>머리 글<p>내부 문단</p>꼬리 글</div>
<ul><li>항목 1<ul><li>하위 항목</li></ul></li><li><p>항목 2</p></li></ul>
<ol start="3"><li>셋째</li><li>넷째</li></ol>
<h3>현황</h3>
<table><caption>예산 현황</caption><tr><th>구분</th><th>금액</th></tr>
<tr><td>철도</td><td>100억&nbsp;원</td></tr><tr><td>도로</td><td>50억 <script>x()</script></td></tr></table>
<script>alert("끝")</script></body></html>"""


def test_html_structure_and_cleanup(tmp_path: Path) -> None:
    p = tmp_path / "press.html"
    p.write_bytes(_HTML.encode("cp949"))
    doc = read(HtmlReader(), p)
    assert doc.title == "보도자료 테스트"
    assert doc.metadata["author"] == "국토교통부" and doc.metadata["description"] == "철도안전 대책"
    assert "스크립트" not in doc.text and "alert" not in doc.text and "메뉴" not in doc.text
    assert "color" not in doc.text
    got = [(b.kind, b.level, b.text) for b in doc.blocks]
    assert got[:11] == [
        ("heading", 1, "철도안전 강화"),
        ("paragraph", 0, "첫 문단입니다.\n둘째 줄"),
        ("paragraph", 0, "머리 글"),
        ("paragraph", 0, "내부 문단"),
        ("paragraph", 0, "꼬리 글"),
        ("list_item", 0, "항목 1"),
        ("list_item", 1, "하위 항목"),
        ("list_item", 0, "항목 2"),
        ("list_item", 0, "3. 셋째"),
        ("list_item", 0, "4. 넷째"),
        ("heading", 3, "현황"),
    ]
    table = next(b for b in doc.blocks if b.kind == "table")
    assert table.rows == [["구분", "금액"], ["철도", "100억 원"], ["도로", "50억"]]
    assert "예산 현황" in texts(doc, "paragraph")


def test_html_without_title_uses_h1_and_utf8(tmp_path: Path) -> None:
    p = tmp_path / "x.html"
    p.write_text("<html><body><h1>공지</h1><p>내용</p></body></html>", encoding="utf-8")
    doc = read(HtmlReader(), p)
    assert doc.title == "공지" and texts(doc) == ["공지", "내용"]


# --- TXT / Markdown ------------------------------------------------------------------------


def test_txt_paragraphs_and_cp949(tmp_path: Path) -> None:
    p = tmp_path / "memo.txt"
    p.write_bytes("첫 문단 첫 줄\n첫 문단 둘째 줄\n\n\n둘째 문단\n".encode("cp949"))
    doc = read(TextReader(), p)
    assert texts(doc) == ["첫 문단 첫 줄\n첫 문단 둘째 줄", "둘째 문단"]
    # No blank lines at all: one paragraph per line (statute text exports look like this).
    p.write_text("제1조(목적) 이 법은 …\n제2조(정의) 이 법에서 …\n", encoding="utf-8")
    assert texts(read(TextReader(), p)) == ["제1조(목적) 이 법은 …", "제2조(정의) 이 법에서 …"]


def test_markdown_statute_file() -> None:
    src = shared_path("data", "laws", "철도안전법", "시행령.md")
    doc = read(MarkdownReader(), src)
    assert doc.format == "md"
    assert doc.title == "철도안전법 시행령"
    assert doc.metadata["법령구분"] == "대통령령"
    assert doc.metadata["시행일자"] == "2026-03-24"  # dates become ISO strings
    assert doc.metadata["소관부처"] == ["국토교통부"]
    blocks = doc.blocks
    i = next(i for i, b in enumerate(blocks) if b.text == "제60조의6 (철도운행안전관리자의 배치)")
    assert blocks[i].kind == "heading" and blocks[i].level == 5
    assert blocks[i + 1].kind == "paragraph" and blocks[i + 1].text.startswith("법 제69조의2제1항 단서에서")
    item = blocks[i + 2]
    assert item.kind == "list_item" and item.level == 0
    assert item.text.startswith("1. 철도운영자등이 선로 점검 작업 등 3명 이하의 인원으로")
    j = next(i for i, b in enumerate(blocks) if b.text == "제61조 (보고 및 검사)")
    assert blocks[j + 1].text.startswith("① 국토교통부장관 또는 관계 지방자치단체의 장은")
    assert blocks[j + 1].text.endswith("<개정 2013.3.23>")
    assert not any("**" in b.text or "\\." in b.text for b in blocks)
    # 목 (가. 나.) nest under 호 (1. 2.)
    assert any(b.kind == "list_item" and b.level == 1 and b.text.startswith("가. ") for b in blocks)
    assert blocks[0].kind == "heading" and blocks[0].level == 1


def test_markdown_front_matter_and_syntax(tmp_path: Path) -> None:
    p = tmp_path / "note.md"
    p.write_text(
        "---\n제목: 회의록\n날짜: 2026-06-23\n---\n"
        "# 큰 제목 #\n\n본문 **굵게** 와 `코드` 그리고 [링크](http://x)\n둘째 줄\n\n"
        "- 글머리\n  - 하위\n* 별표\n\n1) 하나\n2. 둘\n\n"
        "| 이름 | 값 |\n|---|:-:|\n| 가 \\| 나 | 1 |\n\n"
        "```\ncode # not a heading\n```\n\n제목 줄\n===\n\n1\\. 이스케이프\n",
        encoding="utf-8",
    )
    doc = read(MarkdownReader(), p)
    assert doc.title == "회의록" and doc.metadata == {"제목": "회의록", "날짜": "2026-06-23"}
    got = [(b.kind, b.level, b.text) for b in doc.blocks]
    assert got == [
        ("heading", 1, "큰 제목"),
        ("paragraph", 0, "본문 굵게 와 코드 그리고 링크 둘째 줄"),
        ("list_item", 0, "글머리"),
        ("list_item", 1, "하위"),
        ("list_item", 0, "별표"),
        ("list_item", 0, "1) 하나"),
        ("list_item", 0, "2. 둘"),
        ("table", 0, "이름 | 값\n가 | 나 | 1"),
        ("paragraph", 0, "code # not a heading"),
        ("heading", 1, "제목 줄"),
        ("list_item", 0, "1. 이스케이프"),
    ]
    assert doc.blocks[7].rows == [["이름", "값"], ["가 | 나", "1"]]


def test_markdown_title_from_heading_and_bad_front_matter(tmp_path: Path) -> None:
    p = tmp_path / "a.md"
    p.write_text("## 작은 제목\n\n# 진짜 제목\n\n본문\n", encoding="utf-8")
    assert read(MarkdownReader(), p).title == "진짜 제목"
    p.write_text("---\n제목: 회의록\n날짜: [2026-06-23\n작성자: 홍길동\n---\n본문\n", encoding="utf-8")
    with pytest.raises(ReadError) as e:
        read(MarkdownReader(), p)
    assert "머리말" in e.value.message and "행" in e.value.message
    # A leading thematic break without a closing fence is not front matter.
    p.write_text("---\n\n본문만 있음\n", encoding="utf-8")
    doc = read(MarkdownReader(), p)
    assert texts(doc) == ["본문만 있음"] and doc.metadata == {}


# --- CSV / XLSX ----------------------------------------------------------------------------


def test_csv_cp949_korean_headers(tmp_path: Path) -> None:
    p = tmp_path / "정책목록.csv"
    p.write_bytes(
        "정책ID,정책명,지원내용,지역\n"
        "P001,청년 월세 지원,\"월 20만원, 12개월\",서울\n"
        "\n"
        "P002,청년 도약계좌,,전국\n".encode("cp949")
    )
    doc = read(CsvReader(), p)
    assert doc.title == "정책목록"
    recs = [b for b in doc.blocks if b.kind == "record"]
    assert len(recs) == 2
    assert recs[0].meta["fields"] == {"정책ID": "P001", "정책명": "청년 월세 지원", "지원내용": "월 20만원, 12개월", "지역": "서울"}
    assert recs[0].meta["record_id"] == "P001"
    assert recs[0].text == "정책ID: P001\n정책명: 청년 월세 지원\n지원내용: 월 20만원, 12개월\n지역: 서울"
    assert "지원내용" not in recs[1].meta["fields"]  # empty cells are skipped
    assert recs[1].meta["row"] == 4


def test_csv_sniffs_delimiter_and_numbers_rows(tmp_path: Path) -> None:
    p = tmp_path / "data.csv"
    p.write_text("이름;나이\n홍길동;30\n김철수;41\n", encoding="utf-8-sig")
    doc = read(CsvReader(), p)
    assert [b.meta["fields"] for b in doc.blocks] == [{"이름": "홍길동", "나이": "30"}, {"이름": "김철수", "나이": "41"}]
    assert [b.meta["record_id"] for b in doc.blocks] == ["2", "3"]  # spreadsheet row numbers


def test_xlsx_two_sheets(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "혼잡도"
    ws.append([])  # leading empty row: the header is the first non-empty row
    ws.append(["장소", "혼잡도", "인구", "갱신"])
    ws.append(["광화문", "보통", 12000, dt.datetime(2026, 6, 23, 11, 0)])
    ws.append([None, None, None, None])
    ws.append(["강남역", "붐빔", 3.5, None])
    ws2 = wb.create_sheet("설명")
    ws2.append(["id", "내용"])
    ws2.append(["A-1", "혼잡도는 5분마다 갱신"])
    p = tmp_path / "city.xlsx"
    wb.save(str(p))
    doc = read(XlsxReader(), p)
    assert doc.metadata["sheets"] == ["혼잡도", "설명"]
    recs = [b for b in doc.blocks if b.kind == "record"]
    assert [(b.meta["sheet"], b.meta["record_id"]) for b in recs] == [("혼잡도", "3"), ("혼잡도", "5"), ("설명", "A-1")]
    assert recs[0].meta["fields"] == {"장소": "광화문", "혼잡도": "보통", "인구": "12000", "갱신": "2026-06-23 11:00:00"}
    assert recs[1].text == "장소: 강남역\n혼잡도: 붐빔\n인구: 3.5"
    assert recs[2].text == "id: A-1\n내용: 혼잡도는 5분마다 갱신"


def test_xlsx_corrupt(tmp_path: Path) -> None:
    p = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("xl/workbook.xml", "<not-really")
    with pytest.raises(CorruptFileError):
        read(XlsxReader(), p)


# --- JSONL ---------------------------------------------------------------------------------


def test_jsonl_records(tmp_path: Path) -> None:
    p = tmp_path / "policies.jsonl"
    rows = [
        {"id": "R1", "title": "청년 월세 지원", "text": "월 20만원을 지원한다.", "region": "서울", "age": [19, 34]},
        {"정책명": "제목 없는 기록", "지역": "부산"},
    ]
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n", encoding="utf-8")
    doc = read(JsonlReader(), p)
    a, b = doc.blocks
    assert a.kind == "record" and a.text == "청년 월세 지원\n월 20만원을 지원한다."
    assert a.meta["record_id"] == "R1" and a.meta["fields"] == {"region": "서울", "age": [19, 34]}
    assert b.meta["record_id"] == "2" and b.text == "정책명: 제목 없는 기록\n지역: 부산"


@pytest.mark.parametrize("bad, line", [('{"id": 1, "text": "끝이 없음"', 3), ("[1, 2]", 3), ("{" * 100000, 3)])
def test_jsonl_bad_line_names_line(tmp_path: Path, bad: str, line: int) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text('{"id": 1, "text": "좋음"}\n\n' + bad + '\n{"id": 3, "text": "뒤"}\n', encoding="utf-8")
    with pytest.raises(CorruptFileError) as e:
        read(JsonlReader(), p)
    assert f"{line}행" in e.value.message


# --- text decoding -------------------------------------------------------------------------


def test_decode_bytes_encodings() -> None:
    assert decode_bytes("한글".encode("utf-8-sig")) == ("한글", "utf-8")
    assert decode_bytes("철도안전법 시행령".encode("cp949"))[1] == "cp949"
    assert decode_bytes("똠방각하".encode("cp949"))[0] == "똠방각하"  # CP949-only syllables
    assert decode_bytes("안녕".encode("utf-16"))[0] == "안녕"
    assert decode_bytes("가격".encode("cp949"), declared="euc-kr")[0] == "가격"
    with pytest.raises(ReadError) as e:
        decode_bytes(b"\xff\xfe\x00\xd8")  # a UTF-16 BOM followed by a lone surrogate
    assert "UTF-8" in e.value.message


# --- hostile input -------------------------------------------------------------------------


def test_hostile_inputs_fail_cleanly_and_fast(tmp_path: Path) -> None:
    start = time.monotonic()
    # Unmatched emphasis/link openers used to backtrack quadratically.
    md = tmp_path / "hostile.md"
    md.write_text("**a " * 20000 + "\n" + "[a](" * 20000 + "\n", encoding="utf-8")
    assert len(read(MarkdownReader(), md).blocks) == 1
    # YAML alias expansion ("billion laughs") in front matter.
    rows = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcde", "bcdef", strict=True):
        rows.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    md.write_text("---\n" + "\n".join(rows) + "\n---\n본문\n", encoding="utf-8")
    with pytest.raises(ReadError):
        read(MarkdownReader(), md)
    # Block nesting that makes the HTML parser quadratic.
    html = tmp_path / "deep.html"
    html.write_text("<div>" * 50000 + "텍스트", encoding="utf-8")
    with pytest.raises(CorruptFileError):
        read(HtmlReader(), html)
    # A PDF page of many short lines must not build its paragraph quadratically.
    assert len(page_paragraphs("가\n" * 100000)) == 1
    # Over-long integers are a JSON error, not a crash.
    jl = tmp_path / "big.jsonl"
    jl.write_text('{"id": ' + "1" * 5000 + "}\n", encoding="utf-8")
    with pytest.raises(CorruptFileError):
        read(JsonlReader(), jl)
    assert time.monotonic() - start < 20


def test_record_ids_from_id_like_first_column(tmp_path: Path) -> None:
    p = tmp_path / "사고.csv"
    p.write_text("사고번호,노선\nR-1,2호선\nR-2,3호선\n", encoding="utf-8")
    assert [b.meta["record_id"] for b in read(CsvReader(), p).blocks] == ["R-1", "R-2"]
    # Repeated values cannot identify records; a phone column is never an id.
    p.write_text("관리번호,노선\nA,2호선\nA,3호선\n", encoding="utf-8")
    assert [b.meta["record_id"] for b in read(CsvReader(), p).blocks] == ["2", "3"]
    p.write_text("전화번호,이름\n010-1234-5678,홍길동\n", encoding="utf-8")
    assert [b.meta["record_id"] for b in read(CsvReader(), p).blocks] == ["2"]
