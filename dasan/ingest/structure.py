"""Structure detection: is a document a statute, a press release, a set of records, or other?

Also holds :func:`doc_lines`, the line view of a document that the statute parser and the
press-release parser share, so that they work the same on Markdown (heading blocks) and on
plain text extracted from HWP/PDF (everything in paragraphs, one line each or several lines
per block).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from dasan.types import Block, Document

Kind = Literal["law", "press", "records", "generic"]

# A line that opens an article: "제40조(열차운행의 일시 중지)", "제60조의6 (제목)".
_ARTICLE_LINE = re.compile(r"^제\s?\d{1,4}\s?조(?:\s?의\s?\d{1,3})?\s?[(（]")
_HTML_TAG = re.compile(r"</?img\b[^<>]{0,500}>", re.IGNORECASE)
_BOLD_MARK = re.compile(r"\*\*([①-⑳㉑-㉟㊱-㊿])\*\*")
_MD_ESCAPED_ENUM = re.compile(r"^(\d{1,3}(?:의\d{1,3})?|[가-힣])\\([.)])")

PRESS_HEAD_BLOCKS = 20


@dataclass(frozen=True)
class Line:
    """One line of a document's text with where it came from."""

    text: str
    heading: int | None = None  # heading level if the line is a heading block
    page: int | None = None
    block: int = 0  # index of the source block
    kind: str = "paragraph"


def clean_line(text: str) -> str:
    """Normalise one line: spaces, stray Markdown emphasis/escapes and inline image tags."""
    s = text.replace("\u00a0", " ").replace("\u3000", " ").replace("\ufeff", "")
    if "<" in s:
        s = _HTML_TAG.sub("", s)
    if "**" in s:
        s = _BOLD_MARK.sub(r"\1", s)
    s = s.strip()
    if "\\" in s:
        s = _MD_ESCAPED_ENUM.sub(r"\1\2", s)
    return s


def block_text(b: Block) -> str:
    """A block's text with a list item's marker restored when the reader stored it apart."""
    text = b.text or ""
    if b.kind == "table" and b.rows:
        return "\n".join(" | ".join(c.strip() for c in row if c and c.strip()) for row in b.rows)
    if b.kind == "list_item":
        bullet = str(b.meta.get("bullet") or "").strip()
        if bullet and bullet not in "-*+" and not text.lstrip().startswith(bullet):
            text = f"{bullet} {text}"
    return text


def doc_lines(doc: Document) -> Iterator[Line]:
    """Yield the document's non-empty lines in reading order, tracking pages."""
    page: int | None = 1 if doc.pages else None
    for i, b in enumerate(doc.blocks):
        if b.kind == "page_break":
            page = b.page if b.page is not None else (page or 1) + 1
            continue
        if b.page is not None:
            page = b.page
        if b.kind == "heading":
            text = clean_line(" ".join((b.text or "").split("\n")))
            if text:
                yield Line(text, heading=max(1, b.level or 1), page=page, block=i, kind="heading")
            continue
        for raw in block_text(b).split("\n"):
            text = clean_line(raw)
            if text:
                yield Line(text, page=page, block=i, kind=b.kind)


def _nospace(text: str) -> str:
    return re.sub(r"\s+", "", text)


def looks_like_press(doc: Document) -> bool:
    """``보도자료`` plus a dated 보도시점/배포 label (or 담당 부서) among the first blocks."""
    head = _nospace("\n".join(block_text(b) for b in doc.blocks[:PRESS_HEAD_BLOCKS]))
    if not any(k in head for k in ("보도자료", "보도참고자료", "보도설명자료", "보도해명자료")):
        return False
    if not any(k in head for k in ("보도시점", "보도일시", "보도일자", "배포", "담당", "엠바고", "보도가능",
                                   "이후보도", "문의")):
        return False
    from dasan.ingest.press import is_press_release  # press imports this module

    return is_press_release(doc, PRESS_HEAD_BLOCKS)


def count_article_lines(doc: Document, stop_at: int = 0) -> int:
    """Number of lines that open an article (``제N조(…)`` or an article heading)."""
    n = 0
    for line in doc_lines(doc):
        t = line.text
        if not t.startswith("제"):
            continue
        if _ARTICLE_LINE.match(t) or (
            line.heading is not None and re.match(r"^제\s?\d{1,4}\s?조(?:\s?의\s?\d{1,3})?(?:\s|$)", t)
        ):
            n += 1
            if stop_at and n >= stop_at:
                break
    return n


def detect_kind(doc: Document) -> Kind:
    """Classify a document as ``law``, ``press``, ``records`` or ``generic``."""
    blocks = [b for b in doc.blocks if b.kind != "page_break"]
    if not blocks:
        return "generic"
    records = sum(1 for b in blocks if b.kind == "record")
    if records and records * 2 >= len(blocks):
        return "records"
    if looks_like_press(doc):
        return "press"
    md = doc.metadata or {}
    if ("법령구분" in md or "제목" in md) and count_article_lines(doc, stop_at=1) >= 1:
        return "law"
    if count_article_lines(doc, stop_at=3) >= 3:
        return "law"
    return "generic"
