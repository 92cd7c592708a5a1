"""HTML reader (selectolax/lexbor): headings, paragraphs, nested lists and tables in order.

Scripts, styles, navigation and other non-content elements are dropped. The charset comes
from a BOM, then ``<meta charset>``/``http-equiv``, then detection (see ``textdecode``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dasan.errors import CorruptFileError
from dasan.ingest.readers.text import render_table
from dasan.ingest.textdecode import decode_text
from dasan.types import Block, BlockKind, Document

_DROP = ["script", "style", "nav", "noscript", "template", "svg", "iframe", "object", "embed",
         "canvas", "select", "button", "head"]
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCK = {
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup", "hr", "html",
    "main", "p", "section", "summary", "legend", "tbody", "thead", "tfoot", "tr", "td", "th", "caption",
}
_META_KEYS = {
    "author", "description", "keywords", "date", "subject", "og:title", "og:description", "og:site_name",
    "article:published_time", "article:modified_time", "dc.title", "dc.creator", "dc.date", "title",
}
_CHARSET = re.compile(rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_MAX_DEPTH = 200
# Block containers whose nesting costs the HTML parser quadratic time; real pages nest tens.
_NESTING_TAG = re.compile(
    r"<(/?)(?:div|blockquote|ul|ol|dl|section|article|aside|main|header|footer|nav|figure|form|"
    r"fieldset|details|center|address|menu|table)\b",
    re.IGNORECASE,
)
MAX_NESTING = 1000


def _nesting_depth(text: str) -> int:
    depth = deepest = 0
    for m in _NESTING_TAG.finditer(text):
        depth = depth - 1 if m.group(1) else depth + 1
        depth = max(depth, 0)
        deepest = max(deepest, depth)
    return deepest


@dataclass
class _Ctx:
    kind: BlockKind = "paragraph"
    level: int = 0
    bullet: str = ""
    prefix: str = ""  # the rendered number of an <ol> item, used on its first block only
    list_depth: int = 0


def _norm(text: str) -> str:
    lines = []
    for line in text.replace("\xa0", " ").split("\n"):
        line = " ".join(line.split())
        if line:
            lines.append(line)
    return "\n".join(lines)


class _Walker:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.buf: list[str] = []

    def flush(self, ctx: _Ctx) -> None:
        text = _norm("".join(self.buf))
        self.buf = []
        if not text:
            return
        if ctx.kind == "list_item":
            if ctx.prefix:
                text = f"{ctx.prefix} {text}"
                ctx.prefix = ""
            self.blocks.append(Block(kind="list_item", text=text, level=ctx.level, meta={"bullet": ctx.bullet}))
        else:
            self.blocks.append(Block(kind="paragraph", text=text))

    def walk(self, node: Any, ctx: _Ctx, depth: int = 0) -> None:
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                self.buf.append(child.text(deep=False) or "")
                continue
            if tag in ("-comment", "_comment") or not isinstance(tag, str) or tag in _DROP:
                continue
            if depth > _MAX_DEPTH:  # pathological nesting: keep the text, lose the structure
                self.buf.append(" " + (child.text(deep=True, separator=" ") or ""))
                continue
            if tag == "br":
                self.buf.append("\n")
            elif tag in _HEADINGS:
                self.flush(ctx)
                text = _norm(child.text(deep=True, separator=" ") or "")
                if text:
                    self.blocks.append(Block(kind="heading", text=text, level=_HEADINGS[tag]))
            elif tag in ("ul", "ol", "menu"):
                self.flush(ctx)
                self._list(child, ctx, depth)
            elif tag == "li":
                # A stray <li> outside a list: treat it as a one-level list.
                self.flush(ctx)
                self._item(child, _Ctx(list_depth=max(ctx.list_depth, 1)), depth, "•", "")
            elif tag == "table":
                self.flush(ctx)
                self._table(child)
            elif tag == "pre":
                self.flush(ctx)
                text = (child.text(deep=True) or "").replace("\xa0", " ").strip("\n")
                if text.strip():
                    self.blocks.append(Block(kind="paragraph", text=text, meta={"code": True}))
            elif tag in _BLOCK:
                self.flush(ctx)
                self.walk(child, ctx, depth + 1)
                self.flush(ctx)
            else:
                self.walk(child, ctx, depth + 1)

    def _list(self, node: Any, ctx: _Ctx, depth: int) -> None:
        ordered = node.tag == "ol"
        n = 0
        if ordered:
            start = (node.attributes.get("start") or "").strip()
            n = int(start) - 1 if start.lstrip("-").isdigit() else 0
        inner = _Ctx(list_depth=ctx.list_depth + 1)
        for child in node.iter(include_text=False):
            if child.tag == "li":
                n += 1
                marker = f"{n}." if ordered else "•"
                self._item(child, inner, depth, marker, marker if ordered else "")
            elif child.tag in ("ul", "ol"):
                self._list(child, inner, depth + 1)
            elif isinstance(child.tag, str) and child.tag not in _DROP:
                self.walk(child, inner, depth + 1)
                self.flush(_Ctx(kind="list_item", level=inner.list_depth - 1, list_depth=inner.list_depth))

    def _item(self, node: Any, outer: _Ctx, depth: int, bullet: str, prefix: str) -> None:
        ctx = _Ctx(kind="list_item", level=outer.list_depth - 1, bullet=bullet, prefix=prefix,
                   list_depth=outer.list_depth)
        self.walk(node, ctx, depth + 1)
        self.flush(ctx)

    def _table(self, table: Any) -> None:
        caption = table.css_first("caption")
        if caption is not None and _nearest(caption, "table") == table.mem_id:
            text = _norm(caption.text(deep=True, separator=" ") or "")
            if text:
                self.blocks.append(Block(kind="paragraph", text=text, meta={"caption": True}))
        rows: list[list[str]] = []
        for tr in table.css("tr"):
            if _nearest(tr, "table") != table.mem_id:
                continue  # row of a nested table: its text is part of the outer cell
            cells = [
                _norm(c.text(deep=True, separator=" ") or "").replace("\n", " ")
                for c in tr.iter(include_text=False) if c.tag in ("td", "th")
            ]
            if any(cells):
                rows.append(cells)
        if rows:
            self.blocks.append(Block(kind="table", text=render_table(rows), rows=rows))


def _nearest(node: Any, tag: str) -> int | None:
    parent = node.parent
    while parent is not None and parent.tag != tag:
        parent = parent.parent
    return parent.mem_id if parent is not None else None


class HtmlReader:
    format = "html"

    def read(self, path: Path, data: bytes) -> Document:
        from selectolax.lexbor import LexborHTMLParser

        m = _CHARSET.search(data[:8192])
        text = decode_text(data, m.group(1).decode("ascii", "ignore") if m else None)
        depth = _nesting_depth(text)
        if depth > MAX_NESTING:
            raise CorruptFileError(
                f"HTML 요소가 비정상적으로 깊게 중첩되어 있습니다 ({depth}단계 > {MAX_NESTING}단계). "
                "닫는 태그가 빠졌거나 자동 생성이 잘못된 파일입니다. 원본을 확인해 주세요."
            )
        try:
            tree = LexborHTMLParser(text)
        except Exception as e:  # the parser is lenient; this means memory or a parser bug
            raise CorruptFileError(f"HTML을 해석하지 못했습니다 ({type(e).__name__}). 파일을 확인해 주세요.") from e
        title_node = tree.css_first("title")
        title = _norm(title_node.text() or "") if title_node is not None else ""
        meta: dict[str, Any] = {}
        for node in tree.css("meta"):
            attrs = node.attributes
            key = (attrs.get("name") or attrs.get("property") or "").strip().lower()
            content = (attrs.get("content") or "").strip()
            if key in _META_KEYS and content and key not in meta:
                meta[key] = content
        lang = tree.root.attributes.get("lang") if tree.root is not None else None
        if lang:
            meta["lang"] = lang
        walker = _Walker()
        root = tree.body or tree.root
        if root is not None:
            for tag in _DROP:
                for node in root.css(tag):
                    node.decompose()
            walker.walk(root, _Ctx())
            walker.flush(_Ctx())
        if not title:
            title = meta.get("og:title") or meta.get("title") or meta.get("dc.title") or ""
        if not title:
            title = next((b.text for b in walker.blocks if b.kind == "heading" and b.level == 1), "")
        if "author" not in meta and "dc.creator" in meta:
            meta["author"] = meta["dc.creator"]
        return Document(source=str(path), format=self.format, blocks=walker.blocks, title=title or None,
                        metadata=meta)
