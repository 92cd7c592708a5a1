"""HWPX and HWPML readers: the real sample corpus, structure, and hostile input."""

from __future__ import annotations

import io
import re
import resource
import struct
import time
import zipfile
from pathlib import Path

import pytest
from conftest import shared_path

from dasan import config
from dasan.errors import CorruptFileError, EncryptedFileError, FileTooLargeError, HostileFileError, ReadError
from dasan.ingest.detect import detect_format
from dasan.ingest.readers.hwpml import HwpmlReader
from dasan.ingest.readers.hwpx import HwpxReader
from dasan.types import Document

SAMPLES = ("data", "hwp-samples", "hwpx")
P = "tests_fixtures_hwpxlib_corpus_"

#: Samples with no text at all (blank pages, drawings, pictures, OLE, video, equations, buttons).
EXPECTED_EMPTY = {
    "examples_Skeleton.hwpx",
    "src_hwpx_data_Skeleton.hwpx",
    f"{P}error__20240305__2022.hwpx",  # blank page (its preview text is "<>")
    f"{P}tool__blank.hwpx",
    *(
        f"{P}reader_writer__{n}.hwpx"
        for n in (
            "PageSize_Margin", "SimpleButtons", "SimpleComboBox", "SimpleConnectLine", "SimpleContainer",
            "SimpleCurve", "SimpleEllipse", "SimpleEquation", "SimpleLine", "SimpleOLE", "SimplePicture",
            "SimplePolygon", "SimpleVideo",
        )
    ),
}

#: Files left out of the python-hwpx agreement check, and why.
AGREEMENT_EXCLUDED = {
    # python-hwpx drops these inline objects; we keep their visible text, so it has no reference.
    f"{P}reader_writer__SimpleDutmal.hwpx": "덧말 main text (python-hwpx returns nothing)",
    f"{P}reader_writer__SimpleTextArt.hwpx": "글맵시 text attribute (python-hwpx returns nothing)",
    f"{P}reader_writer__SimpleCompose.hwpx": "글자 겹치기 composeText (python-hwpx returns nothing)",
    f"{P}reader_writer__SimpleEdit.hwpx": "form edit box value (python-hwpx returns nothing)",
    # We leave out text inside a tracked deletion (deleteBegin…deleteEnd); python-hwpx keeps it.
    f"{P}reader_writer__ChangeTrack.hwpx": "tracked deletion ' 추적' dropped on purpose",
}


def _read(path: Path) -> Document:
    return HwpxReader().read(path, path.read_bytes())


def _sample(name: str) -> Path:
    return shared_path(*SAMPLES, name)


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"\w+", text))


def _peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --------------------------------------------------------------------------------------
# The real corpus
# --------------------------------------------------------------------------------------


def test_every_sample_reads() -> None:
    folder = shared_path(*SAMPLES)
    files = sorted(folder.glob("*.hwpx"))
    assert len(files) >= 78
    problems = []
    for path in files:
        try:
            doc = _read(path)
        except ReadError as e:
            problems.append(f"{path.name}: {e}")
            continue
        assert doc.format == "hwpx"
        assert all(b.section is not None and b.section >= 0 for b in doc.blocks)
        assert all(b.rows is not None for b in doc.blocks if b.kind == "table")
        if doc.is_empty != (path.name in EXPECTED_EMPTY):
            problems.append(f"{path.name}: is_empty={doc.is_empty}")
    assert not problems, problems


def test_agrees_with_python_hwpx() -> None:
    text_extractor = pytest.importorskip("hwpx.tools.text_extractor")
    folder = shared_path(*SAMPLES)
    low = []
    compared = 0
    for path in sorted(folder.glob("*.hwpx")):
        if path.name in AGREEMENT_EXCLUDED:
            continue
        with text_extractor.TextExtractor(path) as te:
            ref = _tokens(te.extract_text())
        ours = _tokens(_read(path).text)
        if not ref and not ours:
            continue
        compared += 1
        jaccard = len(ref & ours) / len(ref | ours)
        if jaccard < 0.9:
            low.append(f"{path.name}: {jaccard:.2f} missing={sorted(ref - ours)[:5]} extra={sorted(ours - ref)[:5]}")
    assert compared >= 55
    assert not low, low


def test_table_cells_rows_and_textbox() -> None:
    doc = _read(_sample(f"{P}tool__textextractor__Table.hwpx"))
    tables = [b for b in doc.blocks if b.kind == "table"]
    assert len(tables) == 1
    assert tables[0].rows is not None
    assert tables[0].rows[0] == ["이름", "국어", "영어", "수학"]
    assert tables[0].rows[1] == ["개똥이", "89", "65", "78"]
    assert "칠득이 | 77 | 77 | 77" in tables[0].text
    assert any(b.meta.get("role") == "textbox" and b.text == "C반 기말고사" for b in doc.blocks)
    assert doc.title == "제목" and doc.metadata["author"] == "fff"
    assert doc.metadata["created"] == "2023-01-26T23:01:12Z"


def test_text_boxes_stay_in_reading_order() -> None:
    doc = _read(_sample(f"{P}tool__textextractor__RectInPara.hwpx"))
    expected = [
        ("Start. 이것은 본문", None),
        ("사각 시각한 사각형입니다.", "textbox"),
        ("오각형이 아니에요", "textbox"),
        ("이것은 본문 텍스트입니다.", None),
        ("2번째 사각형", "textbox"),
        ("이것은 본문 텍스트입니다. End", None),
    ]
    assert len(doc.blocks) == len(expected)
    for block, (start, role) in zip(doc.blocks, expected, strict=True):
        assert block.text.startswith(start) and block.meta.get("role") == role, block
    nested = _read(_sample(f"{P}tool__textextractor__RectInRect.hwpx"))
    assert "사각형 안에 사각형의 텍스트입니다." in [b.text for b in nested.blocks]


def test_no_manifest_sample_reads_both_sections() -> None:
    doc = _read(_sample(f"{P}error__20240626__no_manifest.hwpx"))
    assert doc.blocks[0].text == "입 법 예 고"
    assert "울산광역시 남구 구세 조례 일부개정조례안" in doc.text
    assert {b.section for b in doc.blocks} == {0, 1}
    table = next(b for b in doc.blocks if b.kind == "table")
    assert table.section == 1 and "제1절 재산분 | 제1절 사업소분" in table.text


def test_header_footer_memo_and_tabs() -> None:
    doc = _read(_sample(f"{P}reader_writer__HeaderFooter.hwpx"))
    roles = {b.text: b.meta.get("role") for b in doc.blocks}
    assert roles == {"머리말 테스트": "header", "꼬리말": "footer"}
    notes = _read(_sample("examples_note_example.hwpx"))
    assert notes.title == "2022년 동아리 발표회 참가"
    assert notes.blocks[0].text == "2025년 동아리 체험전시회 참가 신청서"
    assert any(b.meta.get("role") == "memo" and "11월 4일(화)까지" in b.text for b in notes.blocks)
    toc = _read(_sample("tests_fixtures_m7_toc_gold_hancom-native-toc-A.hwpx"))
    assert "1. 개요 첫 번째\t1" in [b.text for b in toc.blocks]


def test_multi_section_public_notice() -> None:
    doc = _read(_sample("tests_fixtures_m3_gongmun_gold_mfds_admin_notice.hwpx"))
    assert doc.metadata["sections"] == 4
    assert doc.metadata["author"] == "정재용 사무관"
    assert doc.blocks[0].text == "생산·수입 중단 보고대상 의료기기 및"
    assert [b.section for b in doc.blocks] == sorted(b.section or 0 for b in doc.blocks)
    assert "제3조제2항 중 “서한”을 “공식 문서”로 한다." in doc.text


def test_relative_manifest_href_and_blank_form() -> None:
    doc = _read(_sample("tests_fixtures_reader_robustness_irb_form_blank.hwpx"))
    tables = [b for b in doc.blocks if b.kind == "table"]
    assert len(tables) == 2 and tables[0].rows is not None
    assert tables[0].rows[0] == ["연구과제명", ""]
    assert doc.blocks[-1].text == "* 위 내용이 사실과 다름없음을 확인합니다."


# --------------------------------------------------------------------------------------
# Synthetic documents
# --------------------------------------------------------------------------------------

NS = (
    'xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph" '
    'xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section"'
)
HPF = b"""<?xml version="1.0" encoding="UTF-8"?>
<opf:package xmlns:opf="http://www.idpf.org/2007/opf/"><opf:metadata><opf:title>T</opf:title>
<opf:meta name="creator" content="text">kim</opf:meta></opf:metadata>
<opf:manifest>%s</opf:manifest><opf:spine>%s</opf:spine></opf:package>"""


def _para(text: str) -> str:
    return f"<hp:p><hp:run><hp:t>{text}</hp:t></hp:run></hp:p>"


def _sec(body: str, ns: str = NS) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><hs:sec {ns}>{body}</hs:sec>'.encode()


def _hwpx(sections: list[bytes], *, spine: list[int] | None = None, hpf: bytes | None = None,
          extra: dict[str, bytes] | None = None) -> bytes:
    order = list(range(len(sections))) if spine is None else spine
    if hpf is None:
        items = "".join(f'<opf:item id="s{i}" href="Contents/section{i}.xml"/>' for i in range(len(sections)))
        refs = "".join(f'<opf:itemref idref="s{i}"/>' for i in order)
        hpf = HPF % (items.encode(), refs.encode())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", "application/hwp+zip", compress_type=zipfile.ZIP_STORED)
        if hpf:
            zf.writestr("Contents/content.hpf", hpf)
        for i, sec in enumerate(sections):
            zf.writestr(f"Contents/section{i}.xml", sec)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def _doc(data: bytes) -> Document:
    return HwpxReader().read(Path("x.hwpx"), data)


def test_notes_nested_tables_breaks_and_order() -> None:
    cell = "<hp:tc><hp:cellAddr colAddr='{c}' rowAddr='{r}'/><hp:subList>{body}</hp:subList></hp:tc>"
    inner = ("<hp:tbl><hp:tr>" + cell.format(c=0, r=0, body=_para("안쪽1")) + cell.format(c=1, r=0, body=_para("안쪽2"))
             + "</hp:tr></hp:tbl>")
    outer = ("<hp:tbl><hp:tr>" + cell.format(c=0, r=0, body=_para("바깥"))
             + cell.format(c=1, r=0, body=f"<hp:p><hp:run>{inner}</hp:run></hp:p>") + "</hp:tr></hp:tbl>")
    body = (
        "<hp:p><hp:run><hp:t>앞<hp:lineBreak/>줄<hp:tab/>탭</hp:t>"
        "<hp:ctrl><hp:footNote><hp:subList>" + _para("각주입니다") + "</hp:subList></hp:footNote></hp:ctrl>"
        "<hp:ctrl><hp:endNote><hp:subList>" + _para("미주입니다") + "</hp:subList></hp:endNote></hp:ctrl>"
        "<hp:ctrl><hp:hiddenComment><hp:subList>" + _para("숨은 설명") + "</hp:subList></hp:hiddenComment></hp:ctrl>"
        f"<hp:t> 뒤</hp:t></hp:run></hp:p><hp:p><hp:run>{outer}</hp:run></hp:p>"
    )
    doc = _doc(_hwpx([_sec(body), _sec(_para("둘째 구역"))], spine=[1, 0]))
    texts = [(b.kind, b.text, b.meta.get("role"), b.section) for b in doc.blocks]
    assert texts[0] == ("paragraph", "둘째 구역", None, 0)  # the spine puts section1.xml first
    assert texts[1] == ("paragraph", "앞\n줄\t탭 뒤", None, 1)
    assert texts[2] == ("paragraph", "각주입니다", "footnote", 1)
    assert texts[3][1:3] == ("미주입니다", "endnote")
    assert texts[4][1:3] == ("숨은 설명", "comment")
    table = doc.blocks[5]
    assert table.kind == "table" and table.rows == [["바깥", "안쪽1 | 안쪽2"]]
    assert len(doc.blocks) == 6  # the nested table lives in its cell, not twice
    assert doc.title == "T" and doc.metadata["author"] == "kim"


def test_namespace_variants_and_odd_prefixes() -> None:
    v2016 = ('xmlns:hp="http://www.hancom.co.kr/hwpml/2016/paragraph" '
             'xmlns:hs="http://www.hancom.co.kr/hwpml/2016/section"')
    assert _doc(_hwpx([_sec(_para("이천십육"), v2016)])).text == "이천십육"
    odd = '<x:sec xmlns:x="urn:odd" xmlns:q="urn:q"><q:p><q:run><q:t>접두어</q:t></q:run></q:p></x:sec>'
    assert _doc(_hwpx([odd.encode()])).text == "접두어"
    default_ns = '<sec xmlns="http://www.hancom.co.kr/hwpml/2011/section"><p><run><t>기본</t></run></p></sec>'
    assert _doc(_hwpx([default_ns.encode()])).text == "기본"
    undeclared = "<hs:sec><hp:p><hp:run><hp:t>선언 없음</hp:t></hp:run></hp:p></hs:sec>".encode()
    assert _doc(_hwpx([undeclared])).text == "선언 없음"  # retried leniently, text kept


def test_missing_or_broken_manifest_falls_back_to_numeric_order() -> None:
    sections = [_sec(_para(f"구역{i}")) for i in range(11)]
    expected = [f"구역{i}" for i in range(11)]  # section10 after section9, not after section1
    assert [b.text for b in _doc(_hwpx(sections, hpf=b"")).blocks] == expected
    assert [b.text for b in _doc(_hwpx(sections, hpf=b"<opf:package broken")).blocks] == expected
    lol = b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa">]><package>&a;</package>'
    with pytest.raises(HostileFileError):  # a manifest with a DTD is an attack, not damage
        _doc(_hwpx(sections, hpf=lol))


def test_drawing_only_document_is_empty_not_error() -> None:
    rect = "<hp:p><hp:run><hp:rect><hp:drawText><hp:subList><hp:p/></hp:subList></hp:drawText></hp:rect></hp:run></hp:p>"
    doc = _doc(_hwpx([_sec(rect + "<hp:p><hp:run><hp:t>  </hp:t></hp:run></hp:p>")]))
    assert doc.is_empty and doc.blocks == []


def test_encrypted_and_sectionless_packages() -> None:
    manifest = (b'<odf:manifest xmlns:odf="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
                b'<odf:file-entry odf:full-path="Contents/section0.xml"><odf:encryption-data/></odf:file-entry>'
                b"</odf:manifest>")
    with pytest.raises(EncryptedFileError, match="암호"):
        _doc(_hwpx([_sec(_para("x"))], extra={"META-INF/manifest.xml": manifest}))
    with pytest.raises(CorruptFileError, match="본문"):
        _doc(_hwpx([], hpf=b""))


# --------------------------------------------------------------------------------------
# Hostile input: typed errors, fast, bounded memory
# --------------------------------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]>"
)


def test_random_bytes_and_truncated_files() -> None:
    noise = bytes((i * 7919 + 13) % 256 for i in range(20000))
    with pytest.raises(CorruptFileError):
        HwpxReader().read(Path("noise.hwpx"), noise)
    with pytest.raises(CorruptFileError):
        HwpxReader().read(Path("noise.hwpx"), b"PK\x03\x04" + noise)
    real = _sample(f"{P}tool__textextractor__Table.hwpx").read_bytes()
    for cut in (len(real) // 3, len(real) - 30):
        with pytest.raises(CorruptFileError):
            HwpxReader().read(Path("cut.hwpx"), real[:cut])
    # A section whose XML stops half way is corrupt too.
    with pytest.raises(CorruptFileError, match="XML"):
        _doc(_hwpx([_sec(_para("끝까지"))[:-20]]))


def test_entity_tricks_in_a_section_are_refused() -> None:
    before = _peak_rss_kb()
    t0 = time.perf_counter()
    laughs = (BILLION_LAUGHS + f"<hs:sec {NS}><hp:p><hp:run><hp:t>&lol9;</hp:t></hp:run></hp:p></hs:sec>").encode()
    with pytest.raises(HostileFileError):
        _doc(_hwpx([laughs]))
    xxe = ('<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           f"<hs:sec {NS}><hp:p><hp:run><hp:t>&x;</hp:t></hp:run></hp:p></hs:sec>").encode()
    with pytest.raises(HostileFileError):
        _doc(_hwpx([xxe]))
    assert time.perf_counter() - t0 < 2
    assert _peak_rss_kb() - before < 50_000


def test_zip_bomb_declared_two_gigabytes() -> None:
    data = bytearray(_hwpx([_sec(_para("작은 본문"))]))
    pos = data.find(b"PK\x01\x02")  # patch every central-directory entry for section0.xml
    while pos != -1:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46 : pos + 46 + name_len] == b"Contents/section0.xml":
            struct.pack_into("<I", data, pos + 24, 2 * 1024**3 - 1)
        pos = data.find(b"PK\x01\x02", pos + 4)
    t0 = time.perf_counter()
    with pytest.raises(FileTooLargeError, match="ZIP 폭탄"):
        _doc(bytes(data))
    assert time.perf_counter() - t0 < 1


def test_zip_bomb_streamed_section_is_stopped() -> None:
    # 48 MB of valid XML that compresses to ~50 KB; built in a stream so the test stays light.
    unit = b'<hp:p hp:pad="' + b"x" * 4000 + b'"/>'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Contents/content.hpf", HPF % (b'<opf:item id="s" href="Contents/section0.xml"/>', b'<opf:itemref idref="s"/>'))
        with zf.open("Contents/section0.xml", "w") as w:
            w.write(f'<?xml version="1.0"?><hs:sec {NS}>'.encode())
            block = unit * 256
            for _ in range(48 * 1024 * 1024 // len(block)):
                w.write(block)
            w.write(b"</hs:sec>")
    data = buf.getvalue()
    assert len(data) < 1_000_000
    before = _peak_rss_kb()
    t0 = time.perf_counter()
    with pytest.raises(FileTooLargeError, match="ZIP 폭탄"):
        _doc(data)
    assert time.perf_counter() - t0 < 5
    assert _peak_rss_kb() - before < 100_000


def test_deep_nesting_is_refused_cleanly() -> None:
    ok = "<hp:p><hp:run>" + "<hp:ctrl>" * 200 + "<hp:t>깊음</hp:t>" + "</hp:ctrl>" * 200 + "</hp:run></hp:p>"
    assert _doc(_hwpx([_sec(ok)])).text == "깊음"
    deep = "<hp:p><hp:run>" + "<hp:ctrl>" * 50_000 + "</hp:ctrl>" * 50_000 + "</hp:run></hp:p>"
    with pytest.raises(CorruptFileError, match="XML"):
        _doc(_hwpx([_sec(deep)]))


def test_total_uncompressed_limit_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _hwpx([_sec(_para("가" * 100_000))])
    monkeypatch.setattr(config, "MAX_UNZIPPED_BYTES", 50_000)
    with pytest.raises(FileTooLargeError, match="DASAN_MAX_UNZIPPED_BYTES"):
        _doc(data)


# --------------------------------------------------------------------------------------
# HWPML (XML 한글 문서)
# --------------------------------------------------------------------------------------

HWPML = """<?xml version="1.0" encoding="UTF-8" standalone="no" ?>
<HWPML Style="embed" SubVersion="8.0.0.0" Version="2.8">
<HEAD SecCnt="2"><DOCSUMMARY><TITLE>철도안전 보도자료</TITLE><AUTHOR>철도정책과</AUTHOR>
<DATE>2026년 6월 23일</DATE></DOCSUMMARY><MAPPINGTABLE><FACENAMELIST/></MAPPINGTABLE></HEAD>
<BODY><SECTION Id="0">
<P ParaShape="0" Style="0"><TEXT CharShape="0"><SECDEF><PAGEDEF Height="84188" Width="59528"/></SECDEF></TEXT>
<TEXT CharShape="1"><CHAR>철도안전법 시행령<TAB/>개정<LINEBREAK/>둘째 줄</CHAR>
<FOOTNOTE><PARALIST><P><TEXT><CHAR>각주 내용</CHAR></TEXT></P></PARALIST></FOOTNOTE><CHAR> 이어짐</CHAR></TEXT></P>
<P><TEXT><TABLE ColCount="2" RowCount="2"><SHAPEOBJECT><CAPTION><PARALIST><P><TEXT><CHAR>표 1. 현황</CHAR></TEXT></P>
</PARALIST></CAPTION></SHAPEOBJECT>
<ROW><CELL ColAddr="0" RowAddr="0"><PARALIST><P><TEXT><CHAR>구분</CHAR></TEXT></P></PARALIST></CELL>
<CELL ColAddr="1" RowAddr="0"><PARALIST><P><TEXT><CHAR>내용</CHAR></TEXT></P></PARALIST></CELL></ROW>
<ROW><CELL ColAddr="0" RowAddr="1" ColSpan="2"><PARALIST><P><TEXT><CHAR>병합 셀</CHAR></TEXT></P></PARALIST></CELL></ROW>
</TABLE></TEXT></P></SECTION>
<SECTION Id="1"><P><TEXT><HEADER><PARALIST><P><TEXT><CHAR>머리말</CHAR></TEXT></P></PARALIST></HEADER>
<RECTANGLE><SHAPEOBJECT/><DRAWINGOBJECT><DRAWTEXT><PARALIST><P><TEXT><CHAR>글상자</CHAR></TEXT></P></PARALIST></DRAWTEXT>
</DRAWINGOBJECT></RECTANGLE><CHAR>본문 끝</CHAR></TEXT></P></SECTION></BODY>
<TAIL><BINDATASTORAGE><BINDATA Id="1">AAAA</BINDATA></BINDATASTORAGE></TAIL></HWPML>
"""


def _hwpml(text: str) -> Document:
    data = text.encode("utf-8")
    return HwpmlReader().read(Path("doc.hml"), data)


def test_hwpml_sample() -> None:
    assert detect_format(HWPML.encode(), "doc.hwp") == "hwpml"
    doc = _hwpml(HWPML)
    assert doc.format == "hwpml" and doc.title == "철도안전 보도자료"
    assert doc.metadata["author"] == "철도정책과" and doc.metadata["sections"] == 2
    got = [(b.kind, b.text, b.meta.get("role"), b.section) for b in doc.blocks]
    assert got == [
        ("paragraph", "철도안전법 시행령\t개정\n둘째 줄 이어짐", None, 0),
        ("paragraph", "각주 내용", "footnote", 0),
        ("paragraph", "표 1. 현황", "caption", 0),
        ("table", "구분 | 내용\n병합 셀", None, 0),
        ("paragraph", "글상자", "textbox", 1),
        ("paragraph", "본문 끝", None, 1),
        ("paragraph", "머리말", "header", 1),
    ]
    assert doc.blocks[3].rows == [["구분", "내용"], ["병합 셀", ""]]


def test_hwpml_hostile_and_broken() -> None:
    laughs = BILLION_LAUGHS + "<HWPML><BODY><SECTION><P><TEXT><CHAR>&lol9;</CHAR></TEXT></P></SECTION></BODY></HWPML>"
    t0 = time.perf_counter()
    with pytest.raises(HostileFileError):
        _hwpml(laughs)
    assert time.perf_counter() - t0 < 1
    with pytest.raises(CorruptFileError, match="HWPML 문서가 아닙니다"):
        _hwpml("<?xml version='1.0'?><html><body/></html>")
    with pytest.raises(CorruptFileError):
        _hwpml(HWPML[: len(HWPML) // 2])
    with pytest.raises(CorruptFileError, match="BODY"):
        _hwpml("<?xml version='1.0'?><HWPML><HEAD/></HWPML>")
    empty = _hwpml("<?xml version='1.0'?><HWPML><BODY><SECTION><P><TEXT/></P></SECTION></BODY></HWPML>")
    assert empty.is_empty
