"""HWP 5.0 reader and writer, on the real sample files under ../shared/data/hwp-samples/hwp."""

from __future__ import annotations

import difflib
import re
import struct
import time
import warnings
import zlib
from collections import Counter
from pathlib import Path

import pytest
from conftest import shared_path

from dasan import config
from dasan.errors import (
    CorruptFileError,
    EncryptedFileError,
    FileTooLargeError,
    ReadError,
    UnsupportedFormatError,
)
from dasan.ingest.detect import detect_format
from dasan.ingest.hwp_writer import write_cfb, write_hwp
from dasan.ingest.readers.hwp import HwpReader
from dasan.types import Document

# Sample files with no text at all (shapes, pictures, empty tables, an equation).
EMPTY = {
    "borderfill.hwp", "charstyle.hwp", "matrix.hwp", "shapecomponent-rect-fill.hwp", "shapeline.hwp",
    "shapepict-scaled.hwp", "table.hwp",
}
NOTE_ROLES = {"header", "footer", "footnote", "endnote", "comment", "masterpage"}


def _samples() -> Path:
    return shared_path("data", "hwp-samples", "hwp")


def _read(path: Path, data: bytes | None = None) -> Document:
    return HwpReader().read(path, path.read_bytes() if data is None else data)


def _sample(name: str) -> Document:
    return _read(_samples() / name)


def _paras(doc: Document, role: str | None = None) -> list[str]:
    return [b.text for b in doc.blocks if b.kind == "paragraph" and b.meta.get("role") == role]


# ---------------------------------------------------------------------------------------
# every sample
# ---------------------------------------------------------------------------------------
def test_every_sample_reads_or_is_refused_cleanly() -> None:
    files = sorted(_samples().glob("*.hwp"))
    assert len(files) >= 36
    for f in files:
        assert detect_format(f.read_bytes()[:4096], f.name) == "hwp"
        if f.name == "password-12345.hwp":
            continue
        doc = _read(f)
        assert doc.format == "hwp"
        assert all(b.page is None and b.section is not None for b in doc.blocks)
        assert doc.is_empty == (f.name in EMPTY), f.name
        assert doc.metadata["hwp_version"].startswith("5.")


def test_password_document_is_refused() -> None:
    with pytest.raises(EncryptedFileError) as e:
        _sample("password-12345.hwp")
    assert "암호" in e.value.message


def test_distribution_document_is_decrypted() -> None:
    doc = _sample("viewtext.hwp")
    assert doc.metadata["distribution"] is True
    assert "pyhwp 테스트를 위한 배포 문서 예제입니다." in _paras(doc)
    assert doc.title == "pyhwp 배포 문서 예제"


def test_body_text_and_metadata() -> None:
    doc = _sample("sample-5017.hwp")
    assert _paras(doc)[0] == "한글 2005 예제 파일입니다."
    assert any("본문 내용입니다." in t for t in _paras(doc))
    assert doc.title == "제목입니다."
    assert doc.metadata["author"] == "지은이입니다."
    assert doc.metadata["subject"] == "주제입니다."
    assert doc.metadata["keywords"] == "키워드입니다."
    assert doc.metadata["created"].startswith("2010-07-02")
    assert doc.metadata["modified"].startswith("2011-06-14")
    lists = _sample("lists.hwp")
    assert "문단번호 두 번째 (번호 이어짐)" in _paras(lists)


def test_tables_keep_cells_in_grid() -> None:
    doc = _sample("sample-5017.hwp")
    tables = [b for b in doc.blocks if b.kind == "table"]
    assert tables[0].rows == [["A0", "B0"], ["A1", "B10\nB11"]]
    assert tables[0].text == "A0\tB0\nA1\tB10\nB11"
    assert tables[1].rows == [["table2"]]
    kinds = [b.kind for b in doc.blocks]
    assert kinds.index("table") == _paras_index(doc, "표") + 1  # anchored after the text before it
    empty = [b for b in _sample("table.hwp").blocks if b.kind == "table"]
    assert len(empty) == 1 and len(empty[0].rows) == 2 and all(len(r) == 3 for r in empty[0].rows)


def _paras_index(doc: Document, text: str) -> int:
    return next(i for i, b in enumerate(doc.blocks) if b.kind == "paragraph" and b.text == text)


def test_captions_follow_their_side() -> None:
    doc = _sample("table-caption.hwp")
    kinds = [(b.kind, b.text) for b in doc.blocks]
    above = kinds.index(("paragraph", "표 1 위 캡션"))
    below = kinds.index(("paragraph", "표 2 아래 캡션"))
    assert kinds[above + 1][0] == "table"
    assert kinds[below - 1][0] == "table"


def test_text_boxes_headers_footers_notes() -> None:
    box = _sample("textbox.hwp")
    assert _paras(box, "textbox") == ["글상자"]
    assert _paras(box, "caption") == ["그림 1 캡션"]
    hf = _sample("headerfooter.hwp")
    assert _paras(hf) == ["첫 페이지"]
    assert _paras(hf, "header") == ["Header 이것은 머리말입니다."]
    assert _paras(hf, "footer") == ["Footer 이것은 꼬리말입니다."]
    notes = _sample("footnote-endnote.hwp")
    assert _paras(notes, "footnote") == ["1 각주입니다.", "2 각주 두 번째입니다."]
    assert _paras(notes, "endnote") == ["1 미주입니다.", "2 미주 두 번째입니다."]
    order = [b.text for b in notes.blocks]
    assert order.index("각주참조") < order.index("1 각주입니다.") < order.index("미주참조")


def test_control_characters_are_skipped_by_width() -> None:
    tabs = _sample("tabdef.hwp")
    assert "\tL\tL\tL" in _paras(tabs)
    for f in sorted(_samples().glob("*.hwp")):
        if f.name == "password-12345.hwp":
            continue
        text = _read(f).text
        assert not re.search(r"[\x00-\x08\x0b-\x1f]", text), f.name
        assert "捤獥" not in text and "汤捯" not in text  # secd/cold ids decoded as text


def _normalise(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_agrees_with_python_hwpx() -> None:
    hwpx = pytest.importorskip("hwpx")
    compared = 0
    for f in sorted(_samples().glob("*.hwp")):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref = hwpx.HwpxDocument.open(str(f)).text.plain()
        except Exception:  # python-hwpx refuses password and distribution documents
            continue
        doc = _read(f)
        ours = "\n".join(b.text for b in doc.blocks if b.meta.get("role") not in NOTE_ROLES)
        a, b = _normalise(ref), _normalise(ours)
        ratio = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() if a or b else 1.0
        want, got = Counter(ref.split()), Counter(doc.text.split())
        recall = sum((want & got).values()) / max(sum(want.values()), 1)
        assert ratio >= 0.9 and (recall >= 0.95 or not want), (f.name, ratio, recall)
        compared += 1
    assert compared >= 30


# ---------------------------------------------------------------------------------------
# writer round trip
# ---------------------------------------------------------------------------------------
BLOCKS: list[str | list[list[str]]] = [
    "2026 철도안전 종합대책 발표",
    "□ 국토교통부는 6월 23일 철도안전 종합대책을 발표하였다.",
    [["구분", "내용"], ["담당 부서", "철도국 철도정책과"], ["담당자", "사무관 홍길동\n(044-201-3938)"]],
    "○ 탭\t포함 문단과 줄바꿈\n두 번째 줄",
    "긴 문단 " * 700,  # PARA_TEXT over 4095 bytes: extended record size
]


@pytest.mark.parametrize("compress", [True, False])
def test_writer_round_trip(tmp_path: Path, compress: bool) -> None:
    path = tmp_path / "press.hwp"
    write_hwp(path, BLOCKS, title="철도안전 보도자료", compress=compress)
    doc = _read(path)
    assert doc.title == "철도안전 보도자료"
    assert [b.kind for b in doc.blocks] == ["paragraph", "paragraph", "table", "paragraph", "paragraph"]
    assert [b.text for b in doc.blocks if b.kind == "paragraph"] == [
        BLOCKS[0], BLOCKS[1], BLOCKS[3], str(BLOCKS[4]).rstrip()
    ]
    assert doc.blocks[2].rows == BLOCKS[2]


def test_writer_output_opens_in_python_hwpx(tmp_path: Path) -> None:
    hwpx = pytest.importorskip("hwpx")
    path = tmp_path / "press.hwp"
    write_hwp(path, [[["표가", "먼저"]], *BLOCKS[:2]], title="제목")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = hwpx.HwpxDocument.open(str(path))
    assert doc.text.plain().split("\n") == ["표가\t먼저", BLOCKS[0], BLOCKS[1]]
    report = doc.conversion_report
    assert not report.unconverted and not report.dropped


def test_writer_compound_file_is_valid_for_olefile(tmp_path: Path) -> None:
    import olefile

    names = {f"S{i:02d}": bytes([i]) * (i * 300) for i in range(1, 30)}  # mini and regular streams
    data = write_cfb({"FileHeader": b"x", **{f"Store/{k}": v for k, v in names.items()}})
    ole = olefile.OleFileIO(data)
    for k, v in names.items():
        assert ole.openstream(f"Store/{k}").read() == v
    assert write_hwp(tmp_path / "empty.hwp", []) is None
    assert _read(tmp_path / "empty.hwp").is_empty


# ---------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------
def _header(flags: int = 1) -> bytes:
    return (b"HWP Document File".ljust(32, b"\0") + struct.pack("<II", 0x05000107, flags)).ljust(256, b"\0")


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def _ole_hwp(section: bytes, flags: int = 1, **extra: bytes) -> bytes:
    return write_cfb({"FileHeader": _header(flags), "DocInfo": b"", "BodyText/Section0": section, **extra})


def test_truncated_files_raise_corrupt(tmp_path: Path) -> None:
    for name in ("sample-5017.hwp", "table.hwp", "viewtext.hwp"):
        data = (_samples() / name).read_bytes()
        started = time.monotonic()
        with pytest.raises(ReadError) as e:
            _read(tmp_path / name, data[: len(data) // 2])
        assert time.monotonic() - started < 2
        assert isinstance(e.value, CorruptFileError | UnsupportedFormatError)
        assert e.value.message


def test_garbage_section_stream(tmp_path: Path) -> None:
    with pytest.raises(CorruptFileError, match="BodyText/Section0"):
        _read(tmp_path / "x.hwp", _ole_hwp(bytes(range(256)) * 8))
    # uncompressed records that run past the end of the stream
    bad = struct.pack("<I", 66 | (200 << 20)) + b"\0" * 10
    with pytest.raises(CorruptFileError, match="레코드"):
        _read(tmp_path / "x.hwp", _ole_hwp(bad, flags=0))
    # a compressed stream cut short
    good = _deflate(build_section_text("잘린 문단" * 200))
    with pytest.raises(CorruptFileError, match="끊겼"):
        _read(tmp_path / "x.hwp", _ole_hwp(good[: len(good) // 2]))


def build_section_text(text: str) -> bytes:
    body = (text + "\r").encode("utf-16-le")
    para = struct.pack("<IIHBBHHHI", len(body) // 2, 0, 0, 0, 0, 1, 0, 1, 0)
    return (
        struct.pack("<I", 66 | (len(para) << 20)) + para
        + struct.pack("<II", 67 | (1 << 10) | (0xFFF << 20), len(body)) + body
    )


def test_deflate_bomb_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "MAX_STREAM_BYTES", 1 << 20)
    bomb = _deflate(b"\0" * (64 << 20))  # 64 MB of zeros in ~64 KB
    started = time.monotonic()
    with pytest.raises(FileTooLargeError, match="압축 폭탄"):
        _read(tmp_path / "bomb.hwp", _ole_hwp(bomb))
    assert time.monotonic() - started < 2


def test_too_deep_nesting_is_corrupt(tmp_path: Path) -> None:
    deep = b"".join(struct.pack("<I", 76 | (level << 10)) for level in range(300))
    with pytest.raises(CorruptFileError, match="중첩"):
        _read(tmp_path / "deep.hwp", _ole_hwp(deep, flags=0))


def test_foreign_and_protected_ole_files(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFormatError, match="Word"):
        _read(tmp_path / "a.doc", write_cfb({"WordDocument": b"\0" * 100}))
    with pytest.raises(UnsupportedFormatError, match="OLE"):
        _read(tmp_path / "a.bin", write_cfb({"Whatever": b"\0" * 100}))
    with pytest.raises(UnsupportedFormatError, match="서명"):
        _read(tmp_path / "a.hwp", write_cfb({"FileHeader": b"NOT HWP".ljust(256, b"\0")}))
    with pytest.raises(EncryptedFileError, match="DRM"):
        _read(tmp_path / "a.hwp", _ole_hwp(b"", flags=1 | 16))
    with pytest.raises(CorruptFileError, match="OLE"):
        _read(tmp_path / "a.hwp", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)


def test_preview_alone_is_not_the_document(tmp_path: Path) -> None:
    data = write_cfb({"FileHeader": _header(), "PrvText": "미리보기".encode("utf-16-le")})
    with pytest.raises(CorruptFileError, match="PrvText"):
        _read(tmp_path / "p.hwp", data)


def test_garbage_summary_is_ignored(tmp_path: Path) -> None:
    summary = b"\xfe\xff" + b"\0" * 42 + struct.pack("<I", 48) + struct.pack("<II", 100, 5)
    summary += struct.pack("<II", 2, 48) + struct.pack("<II", 0x101F, 0xFFFFFFFF) * 4  # vector, huge count
    data = _ole_hwp(_deflate(build_section_text("본문")), **{"\x05HwpSummaryInformation": summary})
    doc = _read(tmp_path / "s.hwp", data)
    assert doc.title is None and _paras(doc) == ["본문"]


def _rec(tag: int, level: int, payload: bytes) -> bytes:
    return struct.pack("<II", tag | (level << 10) | (0xFFF << 20), len(payload)) + payload


def test_sections_in_numeric_order_and_inline_controls(tmp_path: Path) -> None:
    streams = {"FileHeader": _header(0), "DocInfo": b""}
    for i in (0, 1, 2, 10, 11):
        streams[f"BodyText/Section{i}"] = build_section_text(f"S{i}")
    doc = _read(tmp_path / "s.hwp", write_cfb(streams))
    assert [(b.text, b.section) for b in doc.blocks] == [("S0", 0), ("S1", 1), ("S2", 2), ("S10", 3), ("S11", 4)]

    # 덧말 (tdut): an extended control whose text lives in its CTRL_HEADER
    marker = struct.pack("<HI4HH", 0x17, int.from_bytes(b"tdut", "big"), 0, 0, 0, 0, 0x17)
    text = "본문 ".encode("utf-16-le") + marker + "끝\r".encode("utf-16-le")
    ctrl = struct.pack("<I", int.from_bytes(b"tdut", "big"))
    for s in ("漢字", "한자"):
        ctrl += struct.pack("<H", len(s)) + s.encode("utf-16-le")
    para = struct.pack("<IIHBBHHHI", len(text) // 2, 1 << 0x17, 0, 0, 0, 1, 0, 1, 0)
    section = _rec(66, 0, para) + _rec(67, 1, text) + _rec(71, 1, ctrl + b"\0" * 20)
    doc = _read(tmp_path / "d.hwp", _ole_hwp(section, flags=0))
    assert _paras(doc) == ["본문 漢字(한자)끝"]
