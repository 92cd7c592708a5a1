"""Format detection goes by content; the file name only breaks ties between text formats."""

from __future__ import annotations

import io
import random
import zipfile

import docx
import openpyxl
import pytest
from conftest import shared_path
from pypdf import PdfWriter

from dasan.errors import UnsupportedFormatError
from dasan.ingest.detect import detect_format


def _pdf_bytes() -> bytes:
    w = PdfWriter()
    w.add_blank_page(200, 200)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _docx_bytes() -> bytes:
    d = docx.Document()
    d.add_paragraph("본문")
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def _xlsx_bytes() -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(["이름", "값"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_pdf_named_txt() -> None:
    assert detect_format(_pdf_bytes(), "report.txt") == "pdf"


def test_pdf_with_junk_before_header() -> None:
    assert detect_format(b"\r\n\r\n" + _pdf_bytes(), "scan.bin") == "pdf"


def test_text_mentioning_pdf_header_is_not_pdf() -> None:
    data = "# PDF 메모\n\n파일은 `%PDF-1.7` 로 시작한다.\n".encode()
    assert detect_format(data, "memo.md") == "md"
    assert detect_format(data, "memo") == "txt"


def test_docx_named_hwpx_and_xlsx_named_bin() -> None:
    assert detect_format(_docx_bytes(), "보고서.hwpx") == "docx"
    assert detect_format(_xlsx_bytes(), "data.bin") == "xlsx"


def test_real_hwpx_named_zip() -> None:
    data = shared_path("data", "hwp-samples", "hwpx", "examples_Skeleton.hwpx").read_bytes()
    assert detect_format(data, "archive.zip") == "hwpx"


def test_real_hwp_named_pdf() -> None:
    data = shared_path("data", "hwp-samples", "hwp", "table.hwp").read_bytes()
    assert detect_format(data, "table.pdf") == "hwp"


def test_random_bytes_unsupported() -> None:
    data = random.Random(1234).randbytes(4096)
    with pytest.raises(UnsupportedFormatError) as e:
        detect_format(data, "mystery.txt")
    assert "알 수 없는 형식" in e.value.message


def test_zip_that_is_no_document() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("photo.jpg", b"\xff\xd8\xff")
    with pytest.raises(UnsupportedFormatError):
        detect_format(out.getvalue(), "photos.zip")


def test_broken_zip_goes_to_the_named_reader() -> None:
    broken = _docx_bytes()[:300]
    assert detect_format(broken, "cut.docx") == "docx"
    with pytest.raises(UnsupportedFormatError):
        detect_format(broken, "cut.zip")


def test_hwp3_refused_clearly() -> None:
    data = b"HWP Document File V3.00 \x1a\x01\x02\x03\x04\x05" + b"\x00" * 200
    with pytest.raises(UnsupportedFormatError) as e:
        detect_format(data, "old.hwp")
    assert "HWP 3.0" in e.value.message


@pytest.mark.parametrize(
    "data, name, expected",
    [
        ("이름,나이\n홍길동,30\n".encode("cp949"), "people.csv", "csv"),
        ("이름\t나이\n홍길동\t30\n".encode(), "people.tsv", "csv"),
        ("이름,나이\n홍길동,30\n".encode("cp949"), "people.txt", "txt"),
        ('{"id": 1, "text": "가"}\n{"id": 2, "text": "나"}\n'.encode(), "records.txt", "jsonl"),
        ('{"id": 1, "text": "가"}\n'.encode(), "one.jsonl", "jsonl"),
        ("---\n제목: 회의록\n---\n본문\n".encode(), "note.txt", "md"),
        ("# 제목\n\n본문\n".encode(), "note.md", "md"),
        ("# 제목\n\n본문\n".encode(), "note.txt", "txt"),
        ("그냥 텍스트입니다.\n".encode("utf-16"), "memo.txt", "txt"),
        (b"<!DOCTYPE html><html><body><p>x</p></body></html>", "page.txt", "html"),
        ("<html><body><p>공지</p></body></html>".encode("cp949"), "page", "html"),
        (b"<p>fragment</p>", "frag.htm", "html"),
        ("예시:\n\n```\n<html><body></body></html>\n```\n".encode(), "howto.md", "md"),
    ],
)
def test_text_formats(data: bytes, name: str, expected: str) -> None:
    assert detect_format(data, name) == expected


def test_hwpml_detected_without_declaration_and_in_utf16() -> None:
    from dasan.ingest.detect import detect_format

    xml = '<HWPML Version="2.8"><HEAD/><BODY><SECTION><P><TEXT><CHAR>안녕</CHAR></TEXT></P></SECTION></BODY></HWPML>'
    assert detect_format(xml.encode("utf-8"), "a.hwp") == "hwpml"
    decl = '<?xml version="1.0" encoding="UTF-16"?>' + xml
    assert detect_format(decl.encode("utf-16"), "a.hwp") == "hwpml"
