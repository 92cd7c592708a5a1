"""Format readers. :func:`read_file` detects the format by content and dispatches."""

from __future__ import annotations

from pathlib import Path

from dasan import config
from dasan.errors import FileTooLargeError, ReadError, UnsupportedFormatError
from dasan.ingest.detect import detect_format
from dasan.ingest.readers.base import Reader
from dasan.types import Document


def _registry() -> dict[str, Reader]:
    # Imported lazily so that importing dasan stays cheap.
    from dasan.ingest.readers.csvxlsx import CsvReader, XlsxReader
    from dasan.ingest.readers.docx import DocxReader
    from dasan.ingest.readers.html import HtmlReader
    from dasan.ingest.readers.hwp import HwpReader
    from dasan.ingest.readers.hwpml import HwpmlReader
    from dasan.ingest.readers.hwpx import HwpxReader
    from dasan.ingest.readers.jsonl import JsonlReader
    from dasan.ingest.readers.pdf import PdfReader
    from dasan.ingest.readers.text import MarkdownReader, TextReader

    readers: list[Reader] = [
        HwpReader(), HwpxReader(), HwpmlReader(), PdfReader(), DocxReader(), HtmlReader(), TextReader(),
        MarkdownReader(), CsvReader(), XlsxReader(), JsonlReader(),
    ]
    return {r.format: r for r in readers}


_READERS: dict[str, Reader] | None = None


def get_reader(fmt: str) -> Reader:
    global _READERS
    if _READERS is None:
        _READERS = _registry()
    try:
        return _READERS[fmt]
    except KeyError:
        raise UnsupportedFormatError(f"지원하지 않는 형식입니다: {fmt}") from None


def read_file(path: str | Path, *, max_bytes: int | None = None) -> Document:
    """Read one file into a document, choosing the reader by content signature."""
    p = Path(path)
    limit = config.MAX_FILE_BYTES if max_bytes is None else max_bytes
    try:
        size = p.stat().st_size
    except OSError as e:
        raise ReadError(f"파일을 열 수 없습니다 ({e.strerror})", path=str(p)) from e
    if size > limit:
        raise FileTooLargeError(
            f"파일이 너무 큽니다 ({size / 1048576:.0f} MB > {limit / 1048576:.0f} MB). "
            "파일을 나누거나 DASAN_MAX_FILE_BYTES 한도를 올리세요.",
            path=str(p),
        )
    data = p.read_bytes()
    if not data:
        raise ReadError("빈 파일입니다 (0바이트).", path=str(p))
    fmt = detect_format(data, p.name)
    reader = get_reader(fmt)
    try:
        doc = reader.read(p, data)
    except ReadError as e:
        if e.path is None:
            raise type(e)(e.message, path=str(p)) from e
        raise
    except (MemoryError, RecursionError) as e:
        raise ReadError(f"문서 구조가 비정상적으로 커서 읽을 수 없습니다 ({type(e).__name__}).", path=str(p)) from e
    except Exception as e:  # a reader bug or a malformed file the reader did not anticipate
        raise ReadError(f"{fmt.upper()} 파일을 해석하지 못했습니다: {type(e).__name__}: {e}", path=str(p)) from e
    doc.source = str(p)
    return doc
