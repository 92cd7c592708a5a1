"""Detect a file's format from its content, not its extension."""

from __future__ import annotations

import io
import zipfile

from dasan.errors import UnsupportedFormatError
from dasan.ingest.xmlguard import PROLOG_LIMIT

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


def _zip_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if "mimetype" in names:
                info = zf.getinfo("mimetype")
                if info.file_size < 200:
                    mt = zf.read("mimetype").decode("ascii", "replace").strip()
                    if "hwp" in mt:
                        return "hwpx"
            if any(n.startswith("Contents/") and n.endswith(".xml") for n in names) and any(
                n.startswith("Contents/section") for n in names
            ):
                return "hwpx"
            if "word/document.xml" in names:
                return "docx"
            if "xl/workbook.xml" in names:
                return "xlsx"
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return "zip-corrupt"
    return None


def _looks_like_text(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample and not (sample.startswith((b"\xff\xfe", b"\xfe\xff"))):
        return False
    from dasan.errors import ReadError
    from dasan.ingest.textdecode import decode_bytes

    # The sample may end inside a multi-byte character: retry without up to 3 trailing bytes.
    for cut in range(4) if len(data) > len(sample) else (0,):
        try:
            decode_bytes(sample[: len(sample) - cut])
        except ReadError:
            continue
        return True
    return False


def detect_format(data: bytes, name: str = "") -> str:
    """Return the reader format for ``data``; ``name`` only breaks ties between text formats."""
    head = data[:16]
    lower = name.lower()
    if head.startswith(OLE_MAGIC):
        return "hwp"  # the HWP reader refuses OLE files that are not HWP with a clear message
    if head.startswith(b"%PDF-"):
        return "pdf"
    if data[:1024].find(b"%PDF-") != -1 and (lower.endswith(".pdf") or b"%%EOF" in data[-2048:]):
        # Readers tolerate junk before the header, but a text file that merely mentions
        # "%PDF-" near its start is not a PDF.
        return "pdf"
    if head.startswith(ZIP_MAGIC) or head.startswith(b"PK\x05\x06"):
        kind = _zip_kind(data)
        if kind == "zip-corrupt":
            # A broken ZIP named like an OOXML/OWPML file: let that reader explain the damage.
            for ext in ("hwpx", "docx", "xlsx"):
                if lower.endswith("." + ext):
                    return ext
            raise UnsupportedFormatError("손상된 ZIP 파일입니다. 원본 파일을 다시 저장해 주세요.")
        if kind:
            return kind
        raise UnsupportedFormatError("ZIP 파일이지만 HWPX·DOCX·XLSX 문서가 아닙니다.")
    if data.startswith(b"HWP Document File"):  # 17 bytes: longer than `head`
        raise UnsupportedFormatError("HWP 3.0 이하의 옛 형식입니다. 한글에서 HWP 5.0 또는 HWPX로 다시 저장해 주세요.")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") and "<hwpml" in data[:8192].decode("utf-16", "ignore").lower():
        return "hwpml"
    if not _looks_like_text(data):
        raise UnsupportedFormatError("알 수 없는 형식의 파일입니다 (지원: HWP, HWPX, PDF, DOCX, HTML, TXT, MD, CSV, XLSX, JSONL).")
    text_head = data[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    low = text_head[:1024].lower()
    if low.startswith(b"<hwpml") or (low.startswith(b"<?xml") and b"<hwpml" in low):
        return "hwpml"
    if low.startswith((b"<?xml", b"<!doctype hwpml")) and b"<!doctype" in low and (
        b"<hwpml" in data[: PROLOG_LIMIT + 4096].lower()
    ):
        return "hwpml"  # a long DTD pushed the root further: the HWPML reader refuses it as hostile
    text_named = lower.endswith((".md", ".markdown", ".txt", ".csv", ".tsv", ".jsonl", ".ndjson"))
    if low.startswith((b"<!doctype html", b"<html")) or (
        not text_named and b"<html" in low and b"</" in text_head
    ):
        return "html"
    if lower.endswith((".html", ".htm")):
        return "html"
    if lower.endswith(".jsonl") or lower.endswith(".ndjson") or (text_head.startswith(b"{") and b"\n{" in data[:65536]):
        return "jsonl"
    if lower.endswith(".csv") or lower.endswith(".tsv"):
        return "csv"
    if lower.endswith((".md", ".markdown")) or text_head.startswith(b"---\n") or text_head.startswith(b"---\r\n"):
        return "md"
    return "txt"
