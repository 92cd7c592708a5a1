"""DOCX reader (python-docx): body paragraphs and tables in document order."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from dasan import config
from dasan.errors import CorruptFileError, FileTooLargeError
from dasan.ingest.safezip import ZIP_ERRORS
from dasan.ingest.xmlguard import check_prolog
from dasan.types import Block, Document

#: Most ZIP members accepted in an OOXML package (a real document has tens to a few thousand).
MAX_ZIP_MEMBERS = 20000
#: A member that expands more than this many times and to more than 4 MiB is treated as a bomb
#: (the same rule as :mod:`dasan.ingest.safezip`; real XML parts compress 5-30 times).
MAX_ZIP_RATIO = 200
_RATIO_FLOOR = 4 * 1048576
#: Largest XML part parsed whole into a tree (python-docx and openpyxl hold it in memory, at
#: roughly 15 times its size); streamed worksheets are exempt.
MAX_XML_PART_BYTES = 64 * 1048576

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(?:heading|제목)\s*(\d)$", re.IGNORECASE)
_TITLE_STYLES = {"title", "제목"}
_LIST_STYLE = re.compile(r"^list\b|목록", re.IGNORECASE)


def guard_zip(data: bytes, label: str) -> None:
    """Refuse a ZIP whose declared contents would exhaust memory, before any parser opens it.

    Python's zipfile never inflates a member past its declared size (a lying header ends in a
    CRC error), so checking the declared sizes bounds what the parsers can allocate.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
        raise CorruptFileError(
            f"{label} 파일이 손상되었습니다 (ZIP 구조를 읽을 수 없음: {e}). 원본 프로그램에서 다시 저장해 주세요."
        ) from e
    if len(infos) > MAX_ZIP_MEMBERS:
        raise FileTooLargeError(
            f"{label} 파일 안의 항목이 너무 많습니다 ({len(infos)}개 > {MAX_ZIP_MEMBERS}개). "
            "정상 문서가 아닐 수 있습니다. 원본 프로그램에서 다시 저장해 주세요."
        )
    limit = config.MAX_UNZIPPED_BYTES
    total = sum(i.file_size for i in infos)
    if total > limit:
        raise FileTooLargeError(
            f"{label} 파일의 압축을 풀면 너무 큽니다 ({total / 1048576:.0f} MB > {limit / 1048576:.0f} MB). "
            "문서를 나누거나 DASAN_MAX_UNZIPPED_BYTES 한도를 올리세요."
        )
    for i in infos:
        if i.file_size > _RATIO_FLOOR and i.file_size > MAX_ZIP_RATIO * max(i.compress_size, 1):
            raise FileTooLargeError(
                f"{label} 파일 안의 '{i.filename}' 항목이 비정상적으로 압축되어 있습니다 "
                f"({i.compress_size}바이트 → {i.file_size}바이트). 압축 폭탄일 수 있어 읽지 않습니다."
            )
        name = i.filename.lower()
        if (i.file_size > MAX_XML_PART_BYTES and name.endswith((".xml", ".rels"))
                and not name.startswith("xl/worksheets/")):
            raise FileTooLargeError(
                f"{label} 파일 안의 '{i.filename}' 부분이 너무 큽니다 "
                f"({i.file_size / 1048576:.0f} MB > {MAX_XML_PART_BYTES / 1048576:.0f} MB). 문서를 나누어 저장해 주세요."
            )
    _refuse_dtds(data, infos, label)


def _refuse_dtds(data: bytes, infos: list[zipfile.ZipInfo], label: str) -> None:
    """Refuse the package when any XML part declares a DTD (see :mod:`dasan.ingest.xmlguard`):
    python-docx and openpyxl parse with their own settings, so no part reaches them unchecked."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for i in infos:
            if i.is_dir() or not i.filename.lower().endswith((".xml", ".rels", ".vml")):
                continue
            try:
                with zf.open(i) as member:
                    head = b""
                    while True:
                        chunk = member.read(4096)
                        head += chunk
                        if check_prolog(head, label=label, part=f"'{i.filename}'", complete=not chunk):
                            break
            except (*ZIP_ERRORS, RuntimeError, NotImplementedError):
                continue  # encrypted or damaged member: the parser reports it in its own words


def iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if value not in (None, "") else None


def _numbering(doc: Any) -> dict[tuple[str, int], tuple[str, str]]:
    """Map (numId, ilvl) to (numFmt, lvlText) from numbering.xml, best effort."""
    out: dict[tuple[str, int], tuple[str, str]] = {}
    try:
        root = doc.part.numbering_part.element
    except (KeyError, NotImplementedError, AttributeError):
        return out
    abstract: dict[str, dict[int, tuple[str, str]]] = {}
    for an in root.findall(f"{_W}abstractNum"):
        levels: dict[int, tuple[str, str]] = {}
        for lvl in an.findall(f"{_W}lvl"):
            fmt = lvl.find(f"{_W}numFmt")
            txt = lvl.find(f"{_W}lvlText")
            levels[int(lvl.get(f"{_W}ilvl", "0"))] = (
                fmt.get(f"{_W}val", "") if fmt is not None else "",
                txt.get(f"{_W}val", "") if txt is not None else "",
            )
        abstract[an.get(f"{_W}abstractNumId", "")] = levels
    for num in root.findall(f"{_W}num"):
        ref = num.find(f"{_W}abstractNumId")
        if ref is None:
            continue
        for ilvl, spec in abstract.get(ref.get(f"{_W}val", ""), {}).items():
            out[(num.get(f"{_W}numId", ""), ilvl)] = spec
    return out


_GANADA = "가나다라마바사아자차카타파하"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def _format_counter(fmt: str, n: int) -> str:
    if fmt in ("ganada", "chosung") and 1 <= n <= len(_GANADA):
        return _GANADA[n - 1] if fmt == "ganada" else "ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎ"[n - 1]
    if fmt == "decimalEnclosedCircle" and 1 <= n <= len(_CIRCLED):
        return _CIRCLED[n - 1]
    if fmt in ("lowerLetter", "upperLetter") and 1 <= n <= 26:
        c = chr(ord("a") + n - 1)
        return c.upper() if fmt == "upperLetter" else c
    return str(n)


class DocxReader:
    """Headings come from style names (Heading N / 제목 N) or an explicit outline level; list
    paragraphs from numbering properties or list styles. Ordered list items get their rendered
    number (``1.``, ``가.``, ``①``) prefixed to the text, since Word keeps it outside the text."""

    format = "docx"

    def read(self, path: Path, data: bytes) -> Document:
        guard_zip(data, "DOCX")
        import docx
        from docx.opc.exceptions import PackageNotFoundError

        try:
            d = docx.Document(io.BytesIO(data))
        except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as e:
            raise CorruptFileError(
                f"DOCX 파일 구조가 올바르지 않습니다 ({type(e).__name__}: {e}). Word에서 열어 다시 저장해 주세요."
            ) from e
        except Exception as e:  # lxml XMLSyntaxError and friends
            raise CorruptFileError(
                f"DOCX 파일의 XML이 손상되었습니다 ({type(e).__name__}). Word에서 열어 다시 저장해 주세요."
            ) from e
        numbering = _numbering(d)
        counters: dict[tuple[str, int], int] = {}
        styles: dict[str | None, Any] = {}  # style id -> style (python-docx scans every style per lookup)
        blocks: list[Block] = []
        for el in _body_elements(d.element.body):
            if el.tag == f"{_W}p":
                block = self._paragraph(d, el, numbering, counters, styles)
                if block is not None:
                    blocks.append(block)
            elif el.tag == f"{_W}tbl":
                rows = _table_rows(el)
                if rows:
                    from dasan.ingest.readers.text import render_table

                    blocks.append(Block(kind="table", text=render_table(rows), rows=rows))
        meta: dict[str, Any] = {}
        title = None
        try:
            cp = d.core_properties
            title = (cp.title or "").strip() or None
            for key, val in (("author", cp.author), ("created", cp.created), ("modified", cp.modified),
                             ("subject", cp.subject), ("keywords", cp.keywords)):
                v = iso(val)
                if v:
                    meta[key] = v
        except (ValueError, TypeError, AttributeError):
            pass  # malformed core properties only cost the metadata
        if title is None:
            title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
        return Document(source=str(path), format=self.format, blocks=blocks, title=title, metadata=meta)

    def _paragraph(self, d: Any, el: Any, numbering: dict[tuple[str, int], tuple[str, str]],
                   counters: dict[tuple[str, int], int], styles: dict[str | None, Any] | None = None) -> Block | None:
        from docx.text.paragraph import Paragraph

        para = Paragraph(el, d)
        text = _para_text(el)
        if not text.strip():
            return None
        text = text.strip()
        para_style = _cached_style(para, el, {} if styles is None else styles)
        try:
            style = (para_style.name or "") if para_style is not None else ""
        except (KeyError, ValueError, AttributeError):
            style = ""
        m = _HEADING_STYLE.match(style.strip())
        if m:
            return Block(kind="heading", text=text, level=max(1, int(m.group(1))))
        if style.strip().lower() in _TITLE_STYLES:
            return Block(kind="heading", text=text, level=1)
        ppr = el.find(f"{_W}pPr")
        outline = ppr.find(f"{_W}outlineLvl") if ppr is not None else None
        if outline is not None and outline.get(f"{_W}val", "").isdigit() and int(outline.get(f"{_W}val")) < 9:
            return Block(kind="heading", text=text, level=int(outline.get(f"{_W}val")) + 1)
        num_pr = ppr.find(f"{_W}numPr") if ppr is not None else None
        if num_pr is None:
            num_pr = _style_num_pr(para_style)
        if num_pr is not None:
            ilvl_el = num_pr.find(f"{_W}ilvl")
            num_el = num_pr.find(f"{_W}numId")
            ilvl = int(ilvl_el.get(f"{_W}val", "0")) if ilvl_el is not None and ilvl_el.get(f"{_W}val", "0").isdigit() else 0
            num_id = num_el.get(f"{_W}val", "") if num_el is not None else ""
            if num_id != "0":
                return _list_item(text, num_id, ilvl, numbering, counters)
        if _LIST_STYLE.search(style):
            return Block(kind="list_item", text=text, level=0, meta={"bullet": ""})
        return Block(kind="paragraph", text=text)


def _list_item(text: str, num_id: str, ilvl: int, numbering: dict[tuple[str, int], tuple[str, str]],
               counters: dict[tuple[str, int], int]) -> Block:
    fmt, lvl_text = numbering.get((num_id, ilvl), ("bullet", ""))
    counters[(num_id, ilvl)] = counters.get((num_id, ilvl), 0) + 1
    for key in [k for k in counters if k[0] == num_id and k[1] > ilvl]:
        del counters[key]  # a higher level restarts the numbering below it
    if fmt in ("bullet", "none", ""):
        # Symbol-font bullets are private-use code points (U+F0B7): show a plain bullet.
        bullet = lvl_text if lvl_text and not any(0xE000 <= ord(c) <= 0xF8FF for c in lvl_text) else "•"
        return Block(kind="list_item", text=text, level=ilvl, meta={"bullet": bullet})

    def sub(m: re.Match[str]) -> str:
        lvl = int(m.group(1)) - 1
        lvl_fmt = numbering.get((num_id, lvl), (fmt, ""))[0]
        return _format_counter(lvl_fmt, counters.get((num_id, lvl), 1))

    marker = re.sub(r"%(\d)", sub, lvl_text) if lvl_text else f"{counters[(num_id, ilvl)]}."
    return Block(kind="list_item", text=f"{marker} {text}".strip(), level=ilvl, meta={"bullet": marker})


def _cached_style(para: Any, el: Any, cache: dict[str | None, Any]) -> Any:
    """``para.style`` memoised by style id: python-docx resolves a style by scanning all styles."""
    ppr = el.find(f"{_W}pPr")
    ps = ppr.find(f"{_W}pStyle") if ppr is not None else None
    key = ps.get(f"{_W}val") if ps is not None else None
    if key not in cache:
        try:
            cache[key] = para.style
        except (KeyError, ValueError, AttributeError):
            cache[key] = None
    return cache[key]


def _style_num_pr(style: Any) -> Any:
    """Numbering inherited from the paragraph style (List Number, List Bullet …)."""
    for _ in range(10):  # basedOn chains are short; a cycle must not hang us
        if style is None:
            return None
        ppr = style.element.find(f"{_W}pPr")
        num_pr = ppr.find(f"{_W}numPr") if ppr is not None else None
        if num_pr is not None:
            return num_pr
        style = style.base_style
    return None


def _body_elements(parent: Any) -> Iterator[Any]:
    """Paragraphs and tables in order, looking inside content controls (w:sdt) and
    tracked-change insertions."""
    for child in parent.iterchildren():
        tag = child.tag
        if tag in (f"{_W}p", f"{_W}tbl"):
            yield child
        elif tag in (f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml", f"{_W}ins"):
            yield from _body_elements(child)


_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_SKIP = {f"{_W}del", f"{_W}moveFrom", f"{_W}instrText", _MC_FALLBACK}


def _para_text(p: Any) -> str:
    """Visible text of a paragraph: runs, tabs, breaks, hyperlinks, text boxes. Deleted text,
    field codes and the duplicate fallback copy of drawings (mc:Fallback) are skipped."""
    parts: list[str] = []
    stack = [p]
    while stack:
        node = stack.pop()
        tag = node.tag
        if tag == f"{_W}t":
            parts.append(node.text or "")
        elif tag == f"{_W}tab":
            parts.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
        elif tag == f"{_W}noBreakHyphen":
            parts.append("-")
        elif tag not in _SKIP and isinstance(tag, str):
            stack.extend(reversed(list(node)))
    return "".join(parts)


def _table_rows(tbl: Any) -> list[list[str]]:
    """Cell texts row by row; a horizontally merged cell appears once; nested tables are
    flattened into their cell's text."""
    rows: list[list[str]] = []
    for tr in tbl.findall(f"{_W}tr"):
        cells: list[str] = []
        for tc in tr.iter(f"{_W}tc"):
            if _nearest(tc, f"{_W}tr") is not tr:
                continue  # a cell of a nested table
            texts = [_para_text(p).strip() for p in tc.iter(f"{_W}p")]
            cells.append("\n".join(t for t in texts if t))
        if any(c for c in cells):
            rows.append(cells)
    return rows


def _nearest(el: Any, tag: str) -> Any:
    parent = el.getparent()
    while parent is not None and parent.tag != tag:
        parent = parent.getparent()
    return parent
