"""Format readers. :func:`read_file` detects the format by content and dispatches."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dasan import config
from dasan.errors import DasanError, FileTooLargeError, ReadError, UnsupportedFormatError
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
    """Read one file into a document, choosing the reader by content signature.

    Every failure is a :class:`ReadError` whose message and path are safe to show (control and
    bidi characters escaped); the document never holds lone surrogates (JSON/YAML escapes can
    produce them, and they cannot be encoded to UTF-8 for storage).
    """
    p = Path(path)
    shown = safe_text(str(p), limit=300)
    limit = config.MAX_FILE_BYTES if max_bytes is None else max_bytes
    try:
        size = p.stat().st_size
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path
        why = e.strerror if isinstance(e, OSError) and e.strerror else "잘못된 경로"
        raise ReadError(f"파일을 열 수 없습니다 ({why})", path=shown) from e
    if size > limit:
        raise FileTooLargeError(
            f"파일이 너무 큽니다 ({size / 1048576:.0f} MB > {limit / 1048576:.0f} MB). "
            "파일을 나누거나 DASAN_MAX_FILE_BYTES 한도를 올리세요.",
            path=shown,
        )
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ReadError(f"파일을 읽을 수 없습니다 ({e.strerror})", path=shown) from e
    if not data:
        raise ReadError("빈 파일입니다 (0바이트).", path=shown)
    fmt = ""
    try:
        fmt = detect_format(data, p.name)
        doc = get_reader(fmt).read(p, data)
    except DasanError as e:
        raise type(e)(safe_text(e.message), path=shown) from e
    except (MemoryError, RecursionError) as e:
        raise ReadError(f"문서 구조가 비정상적으로 커서 읽을 수 없습니다 ({type(e).__name__}).", path=shown) from e
    except Exception as e:  # a reader bug or a malformed file the reader did not anticipate
        raise ReadError(
            safe_text(f"{fmt.upper()} 파일을 해석하지 못했습니다: {type(e).__name__}: {e}"), path=shown
        ) from e
    doc.source = str(p)
    _scrub_surrogates(doc)
    return doc


_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def safe_text(text: str, *, limit: int = 2000) -> str:
    """``text`` fit for a message: control, bidi-override and surrogate characters escaped, length capped."""
    text = _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scrub_surrogates(value: Any) -> Any:
    """``value`` with lone surrogates replaced by U+FFFD in every string it holds."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value
    if not isinstance(value, dict | list | tuple):
        return value
    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]  # (container, key) whose value still needs cleaning
    while stack:
        holder, key = stack.pop()
        v = holder[key]
        if isinstance(v, str):
            if _SURROGATE.search(v):
                holder[key] = _SURROGATE.sub("\ufffd", v)
        elif isinstance(v, dict):
            for k in list(v):
                if isinstance(k, str) and _SURROGATE.search(k):
                    v[_SURROGATE.sub("\ufffd", k)] = v.pop(k)
            stack.extend((v, k) for k in v)
        elif isinstance(v, list):
            stack.extend((v, i) for i in range(len(v)))
        elif isinstance(v, tuple):
            holder[key] = list(v)
            stack.append((holder, key))
    return root[0]


def _scrub_surrogates(doc: Document) -> None:
    if doc.title is not None:
        doc.title = scrub_surrogates(doc.title)
    doc.metadata = scrub_surrogates(doc.metadata)
    for b in doc.blocks:  # block meta is left to the readers that fill it from JSON (jsonl)
        if b.text and _SURROGATE.search(b.text):
            b.text = scrub_surrogates(b.text)
        if b.rows:
            b.rows = scrub_surrogates(b.rows)
