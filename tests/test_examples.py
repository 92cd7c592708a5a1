"""The sample corpus in examples/: present, small, well-formed, detected and readable."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from dasan.config import REPO_ROOT, examples_dir
from dasan.ingest.detect import detect_format

EX = examples_dir()
HWPX = "press/20260623_국토교통부_여름철_도시철도_안전점검_강화.hwpx"
HWP = "press/20261124_행정안전부_연말연시_인파밀집_안전대책.hwp"
PDF = "press/20260310_국무조정실_2026년_청년정책_시행계획.pdf"
MANUAL = "manuals/도시철도 현장작업 안전매뉴얼.md"
RECORDS = "records/철도사고_기록_2025.csv"
NOTICES = "notices/현장_공지사항.jsonl"

FORMATS = {HWPX: "hwpx", HWP: "hwp", PDF: "pdf", MANUAL: "md", RECORDS: "csv", NOTICES: "jsonl"}

# What a reader must give back for each press release: title and phrases from header, body,
# contact table and attachment.
PRESS = {
    HWPX: (
        "여름철 폭염·집중호우 대비 도시철도 안전점검 강화",
        ["보도시점", "(인터넷) 2026. 6. 23.(화) 11:00", "(지 면) 2026. 6. 24.(수) 조간", "2026. 6. 22.(월) 15:00",
         "국토교통부", "- 6. 24.~8. 31. 전국 도시철도 운영기관 합동 안전점검 실시", "【관련 국정과제】", "장출 우려 구간 18곳", "과장 최민호",
         "(044-201-4315)", "붙임 1.", "2단계 합동점검"],
    ),
    HWP: (
        "연말연시 인파밀집 안전관리 특별대책 추진",
        ["보도시점", "(인터넷) 2026. 11. 25.(수) 12:00", "(지 면) 2026. 11. 25.(수) 석간", "2026. 11. 24.(화) 15:30",
         "행정안전부",
         "무정차 통과", "과장 배지훈", "(044-205-5614)", "붙임 2.", "해넘이·해맞이 행사"],
    ),
    PDF: (
        "2026년 청년정책 시행계획 확정, 5대 분야 186개 과제 추진",
        ["보도시점 (인터넷) 배포 즉시", "(지 면) 배포 즉시", "국무조정실", "주무관 서하은", "고립·은둔 청년", "과장 오유진", "(044-200-2416)",
         "붙임.", "186"],
    ),
}


def _squash(text: str) -> str:
    return " ".join(text.split())


def _load_script() -> ModuleType:
    path = REPO_ROOT / "scripts" / "make_examples.py"
    spec = importlib.util.spec_from_file_location("make_examples", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_examples"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_examples_present_and_small() -> None:
    for name in [*FORMATS, "README.md"]:
        p = EX / name
        assert p.is_file(), f"missing example: {p}"
        assert p.stat().st_size > 1000, f"suspiciously small example: {p}"
    all_files = sum(p.stat().st_size for p in EX.rglob("*") if p.is_file())
    assert all_files < 1024 * 1024, f"examples/ is {all_files} bytes; keep it under 1 MB"


@pytest.mark.parametrize("name", list(FORMATS), ids=lambda n: Path(n).suffix[1:])
def test_format_detected_by_content(name: str) -> None:
    p = EX / name
    assert detect_format(p.read_bytes(), p.name) == FORMATS[name]


def test_hwpx_package_layout() -> None:
    data = (EX / HWPX).read_bytes()
    assert data[30:38] == b"mimetype"  # first local file header names the mimetype
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        first = zf.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert zf.read("mimetype") == b"application/hwp+zip"
        names = set(zf.namelist())
        for part in ("Contents/content.hpf", "Contents/header.xml", "Contents/section0.xml",
                     "META-INF/container.xml", "version.xml", "Preview/PrvText.txt"):
            assert part in names
        section = zf.read("Contents/section0.xml").decode("utf-8")
        assert 'xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph"' in section
        assert section.count("<hp:tbl ") == 5  # banner, 배포/보도시점, title box, contacts, attachment table


def test_hwpx_opens_with_python_hwpx() -> None:
    from hwpx.tools.text_extractor import TextExtractor

    with TextExtractor(str(EX / HWPX)) as te:
        text = te.extract_text()
    assert "여름철 폭염·집중호우 대비 도시철도 안전점검 강화" in text
    assert "사무관 윤서진" in text


def test_pdf_has_two_pages_with_hangul_text_layer() -> None:
    from pypdf import PdfReader

    pdf = PdfReader(str(EX / PDF))
    assert len(pdf.pages) == 2
    p1, p2 = (_squash(p.extract_text()) for p in pdf.pages)
    assert "2026년 청년정책 시행계획 확정" in p1
    assert "청년정책조정위원회" in p1
    assert "고립·은둔 청년" in p2 and "고립·은둔 청년" not in p1
    assert "담당 부서" in p2 and "과장 오유진" in p2
    assert pdf.metadata is not None and pdf.metadata.title == PRESS[PDF][0]


def test_records_csv() -> None:
    raw = (EX / RECORDS).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["사고번호", "발생일시", "노선", "역/구간", "사고유형", "원인", "피해", "조치내용", "재발방지대책"]
    body = rows[1:]
    assert 25 <= len(body) <= 40
    assert len({r[0] for r in body}) == len(body)
    assert all(len(r) == 9 and all(c.strip() for c in r) for r in body)


def test_manual_front_matter() -> None:
    text = (EX / MANUAL).read_text(encoding="utf-8")
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n", 2)[1])
    assert front["title"] == "도시철도 현장작업 안전매뉴얼"
    assert front["보안등급"] == "공개"
    assert 3000 <= len(text) <= 6000
    for phrase in ("선로 작업 전 차단 절차", "감전 예방", "열차 접근 시 대피", "사고 보고 절차"):
        assert phrase in text


def test_notices_jsonl() -> None:
    lines = (EX / NOTICES).read_text(encoding="utf-8").splitlines()
    objs = [json.loads(line) for line in lines]
    assert len(objs) == 3
    assert all(o["id"] and o["제목"] and o["내용"] for o in objs)


def _zip_members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def test_hwpx_rebuild_matches_committed(tmp_path: Path) -> None:
    # Compare members, not raw bytes: deflate output may differ between zlib builds.
    mod = _load_script()
    rel = mod.load_release(REPO_ROOT / "scripts" / "example_sources" / "press_rail_summer.yaml")
    out = tmp_path / "x.hwpx"
    mod.build_hwpx(rel, out)
    assert _zip_members(out.read_bytes()) == _zip_members((EX / HWPX).read_bytes()), (
        "examples/ is stale: run .venv/bin/python scripts/make_examples.py"
    )


# ------------------------------------------------------------- through the readers


@pytest.mark.parametrize("name", list(PRESS), ids=lambda n: Path(n).suffix[1:])
def test_press_release_reads_back(name: str) -> None:
    from dasan.ingest.readers import read_file

    title, phrases = PRESS[name]
    doc = read_file(EX / name)
    assert doc.format == FORMATS[name]
    text = _squash(doc.text)
    assert title in text
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} missing from {name}"
    if name != PDF:  # the PDF has no table structure to recover
        tables = [b for b in doc.blocks if b.kind == "table"]
        assert len(tables) >= 3
        assert any(row and row[0] == "담당 부서" for t in tables for row in (t.rows or []))
    else:
        assert doc.pages == 2 and not doc.empty_pages
        assert doc.title == title


def test_other_examples_read_back() -> None:
    from dasan.ingest.readers import read_file

    manual = read_file(EX / MANUAL)
    assert manual.format == "md"
    assert manual.title == "도시철도 현장작업 안전매뉴얼"
    assert manual.metadata.get("보안등급") == "공개"
    assert "차단 승인 번호" in manual.text

    records = read_file(EX / RECORDS)
    rec_blocks = [b for b in records.blocks if b.kind == "record"]
    assert len(rec_blocks) == 30
    assert rec_blocks[0].meta["fields"]["사고번호"] == "R-2025-001"

    notices = read_file(EX / NOTICES)
    assert len([b for b in notices.blocks if b.kind == "record"]) == 3
    assert "무정차 통과" in notices.text
