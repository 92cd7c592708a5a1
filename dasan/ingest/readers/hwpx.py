"""HWPX (OWPML, KS X 6101) reader.

An HWPX file is a ZIP: ``Contents/content.hpf`` lists the sections in reading order (its
``opf:spine``) and carries the metadata; ``Contents/section*.xml`` hold the body. Each
section is parsed as a stream (top-level paragraphs are processed and dropped one by one)
with a hardened lxml parser: no DTD, no entity expansion, no network, and any DOCTYPE is
refused outright, so entity tricks cannot expand and memory stays bounded.

Elements are matched by local name only, because real files use both the 2011 and 2016
namespaces and unusual prefixes. The same :class:`ParagraphWalker` also reads HWPML 2.x
(``dasan.ingest.readers.hwpml``): lower-cased, the two vocabularies line up
(``p/run/t`` ↔ ``P/TEXT/CHAR``, ``tbl/tr/tc/subList`` ↔ ``TABLE/ROW/CELL/PARALIST``).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from lxml import etree

from dasan import config
from dasan.errors import CorruptFileError, EncryptedFileError, HostileFileError
from dasan.ingest.safezip import SafeZip, open_zip
from dasan.ingest.xmlguard import check_bytes, checked_stream
from dasan.types import Block, Document

#: Largest manifest/container part read whole (they are a few kilobytes in real files).
SMALL_PART_BYTES = 4 * 1024 * 1024

_RUN = frozenset({"run", "text"})  # hp:run / HWPML TEXT
_TEXT = frozenset({"t", "char"})  # hp:t / HWPML CHAR
_TABLE = frozenset({"tbl", "table"})
_ROW = frozenset({"tr", "row"})
_CELL = frozenset({"tc", "cell"})
_SUBLIST = frozenset({"sublist", "paralist"})
_INLINE = {"tab": "\t", "linebreak": "\n", "nbspace": " ", "fwspace": " ", "hyphen": "", "hypen": ""}
#: Role of the text in a sub-list, by the element that holds the sub-list.
_ROLE_BY_HOLDER = {
    "header": "header",
    "footer": "footer",
    "footnote": "footnote",
    "endnote": "endnote",
    "drawtext": "textbox",
    "caption": "caption",
    "fieldbegin": "memo",
    "memo": "memo",
    "hiddencomment": "comment",
}
#: Roles whose text is not part of the running text: written after the paragraph that anchors it.
_SIDE_ROLES = frozenset({"header", "footer", "footnote", "endnote", "memo", "comment"})
#: Elements whose content is never document text (master pages, equation scripts, form lists).
_SKIP = frozenset({"masterpage", "ext_masterpage", "equation", "script", "linesegarray", "parameters",
                   "parameterset", "shapecomment", "chart", "ole", "video", "combobox", "listbox"})
_SECTION_RE = re.compile(r"^section(\d+)\.xml$", re.IGNORECASE)


def local_name_str(tag: str) -> str:
    """Lower-cased local part of a tag or attribute name (namespace and prefix dropped)."""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()


def local_name(el: object) -> str:
    """Lower-cased local name of an element ('' for comments, entities, PIs)."""
    tag = getattr(el, "tag", None)
    return local_name_str(tag) if isinstance(tag, str) else ""


def _attr(el: etree._Element, name: str) -> str:
    """An attribute by lower-cased local name ('' when absent)."""
    return next((str(v) for k, v in el.attrib.items() if local_name_str(k) == name), "")


def _attr_int(el: etree._Element, name: str) -> int | None:
    try:
        return int(_attr(el, name).strip())
    except ValueError:
        return None


# --------------------------------------------------------------------------------------
# Hardened XML
# --------------------------------------------------------------------------------------

_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}


class NamespaceError(Exception):
    """Raised when a part uses undeclared prefixes; the caller may retry in recover mode."""


def _doctype_error(label: str, part: str) -> HostileFileError:
    return HostileFileError(
        f"{label} 파일의 {part}에 DTD/엔티티 선언(DOCTYPE)이 있어 안전을 위해 이 파일을 읽지 않았습니다 "
        "(XML 엔티티 공격 차단). 신뢰할 수 있는 원본을 한글에서 다시 저장해 올려 주세요."
    )


def _syntax_error(label: str, part: str, err: Exception) -> CorruptFileError:
    return CorruptFileError(
        f"{label} 파일의 {part} XML이 손상되었습니다 ({err}). 한글에서 파일을 열어 다시 저장해 주세요."
    )


def parse_small_xml(data: bytes, *, label: str, part: str) -> etree._Element:
    """Parse a small part whole with the hardened parser; a DTD is refused before parsing."""
    check_bytes(data, label=label, part=part)
    parser = etree.XMLParser(**_PARSER_OPTIONS, recover=False)  # type: ignore[arg-type]
    try:
        root = etree.fromstring(data, parser)
    except etree.LxmlError as e:
        raise _syntax_error(label, part, e) from e
    if root is None:
        raise _syntax_error(label, part, ValueError("빈 XML"))
    if root.getroottree().docinfo.doctype:
        raise _doctype_error(label, part)
    return root


def iter_xml_events(
    source: IO[bytes], *, label: str, part: str, recover: bool = False
) -> Iterator[tuple[str, int, etree._Element]]:
    """Stream ``(event, depth, element)`` for start/end events (root depth is 1).

    A DTD is refused before the parser reads anything (:mod:`dasan.ingest.xmlguard`); the
    parsed DOCTYPE is checked again as a second layer. Consumers clear what they processed.
    """
    depth = 0
    source = checked_stream(source, label=label, part=part)
    events = etree.iterparse(source, events=("start", "end"), recover=recover, **_PARSER_OPTIONS)
    try:
        for event, el in events:
            if event == "start":
                depth += 1
                if depth == 1 and el.getroottree().docinfo.doctype:
                    raise _doctype_error(label, part)
                yield event, depth, el
            else:
                yield event, depth, el
                depth -= 1
    except etree.XMLSyntaxError as e:
        if not recover and "Namespace prefix" in str(e):
            raise NamespaceError(str(e)) from e
        raise _syntax_error(label, part, e) from e
    except etree.LxmlError as e:
        raise _syntax_error(label, part, e) from e


def drop(el: etree._Element) -> None:
    """Free a processed element and the siblings before it (streaming parse)."""
    el.clear(keep_tail=False)
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


# --------------------------------------------------------------------------------------
# Paragraph walker (shared with HWPML)
# --------------------------------------------------------------------------------------


class _Sink:
    """Collects the blocks of one flow (body, a table cell, a text box, a note)."""

    def __init__(self, section: int, role: str, side: list[Block]) -> None:
        self.section = section
        self.role = role
        self.side = side  # notes, headers, memos: written after the anchoring paragraph
        self.blocks: list[Block] = []
        self.buf: list[str] = []

    def child(self, role: str) -> _Sink:
        return _Sink(self.section, role, self.side)

    def meta(self) -> dict[str, str]:
        return {} if self.role == "body" else {"role": self.role}

    def flush(self) -> None:
        text = "".join(self.buf).rstrip()
        self.buf.clear()
        if text.strip():
            self.blocks.append(Block(kind="paragraph", text=text, section=self.section, meta=self.meta()))


class ParagraphWalker:
    """Turns OWPML/HWPML paragraph trees into blocks."""

    def top_level(self, el: etree._Element, section: int) -> list[Block]:
        """Blocks for one child of a section root (a paragraph, a table, a memo group …)."""
        side: list[Block] = []
        sink = _Sink(section, "body", side)
        self._item(el, sink)
        sink.flush()
        return sink.blocks + side

    # -- dispatch -----------------------------------------------------------------------

    def _item(self, el: etree._Element, sink: _Sink) -> None:
        ln = local_name(el)
        if not ln or ln in _SKIP:
            return
        if ln == "p":
            self._paragraph(el, sink)
        elif ln in _TEXT:
            sink.buf.append(self._inline(el))
        elif ln in _INLINE:
            sink.buf.append(_INLINE[ln])
        elif ln in _TABLE:
            self._table(el, sink)
        elif ln == "switch":
            branches = [c for c in el if local_name(c) in ("case", "default")]
            chosen = next((c for c in branches if local_name(c) == "default"), branches[0] if branches else None)
            if chosen is not None:
                self._scan(chosen, sink)
        elif ln == "dutmal":
            main = next((c for c in el if local_name(c) == "maintext"), None)
            if main is not None:
                sink.buf.append("".join(main.itertext()))
        elif ln == "compose":  # 글자 겹치기: the composed characters are visible text
            sink.buf.append(_attr(el, "composetext"))
        elif ln == "edit":  # a form input box: its value is what the filled form says
            sink.buf.append(" ".join("".join(c.itertext()) for c in el if local_name(c) == "text"))
        elif ln == "textart":
            text = _attr(el, "text").replace("\u240d\u240a", "\n").replace("\u240a", "\n").replace("\u240d", "\n")
            if text.strip():
                sink.flush()
                box = sink.child("textbox")
                box.buf.append(text)
                box.flush()
                sink.blocks.extend(box.blocks)
        else:
            self._scan(el, sink)

    def _scan(self, el: etree._Element, sink: _Sink) -> None:
        """Look inside a control or drawing object for tables and sub-lists of paragraphs."""
        holder = local_name(el)
        for child in el:
            ln = local_name(child)
            if ln in _SUBLIST:
                self._sublist(child, _ROLE_BY_HOLDER.get(holder), sink)
            else:
                self._item(child, sink)

    def _sublist(self, el: etree._Element, role: str | None, sink: _Sink) -> None:
        if role is None or sink.role != "body":  # an outer role (header, note, text box) wins
            sink.flush()
            for child in el:
                self._item(child, sink)
            sink.flush()
            return
        sub = sink.child(role)
        for child in el:
            self._item(child, sub)
        sub.flush()
        if role in _SIDE_ROLES:
            sink.side.extend(sub.blocks)
        else:
            sink.flush()
            sink.blocks.extend(sub.blocks)

    def _paragraph(self, p: etree._Element, sink: _Sink) -> None:
        sink.flush()
        for child in p:
            if local_name(child) in _RUN:
                for item in child:
                    self._item(item, sink)
            else:
                self._item(child, sink)
        sink.flush()

    def _inline(self, t: etree._Element) -> str:
        """Text of an hp:t / CHAR element. Tracked deletions closed within it are left out."""
        parts = [t.text or ""]
        deleted: list[str] | None = None  # text since an unclosed deleteBegin
        for child in t:
            ln = local_name(child)
            out = parts if deleted is None else deleted
            if ln == "deletebegin":
                deleted = deleted if deleted is not None else []
            elif ln == "deleteend" and deleted is not None:
                deleted = None
            elif ln in _INLINE:
                out.append(_INLINE[ln])
            elif ln and ln not in _SKIP:
                out.append(self._inline(child))
            (parts if deleted is None else deleted).append(child.tail or "")
        if deleted:  # no matching deleteEnd here: keep the text rather than lose it
            parts.extend(deleted)
        return "".join(parts)

    # -- tables -------------------------------------------------------------------------

    def _table(self, tbl: etree._Element, sink: _Sink) -> None:
        sink.flush()
        cells: list[tuple[int | None, int | None, int, int, str]] = []
        row_lists: list[list[str]] = []
        for child in tbl:
            ln = local_name(child)
            if ln not in _ROW:
                self._scan(child, sink)  # captions
                continue
            row: list[str] = []
            for tc in child:
                if local_name(tc) not in _CELL:
                    continue
                text = self._cell_text(tc, sink)
                addr = _cell_attrs(tc)
                cells.append((addr[0], addr[1], addr[2], addr[3], text))
                row.append(text)
            row_lists.append(row)
        rows = _grid(cells) or row_lists
        flat = "\n".join(
            " | ".join(c.replace("\n", " ").strip() for c in row if c.strip()) for row in rows if any(c.strip() for c in row)
        )
        sink.blocks.append(Block(kind="table", text=flat, rows=rows, section=sink.section, meta=sink.meta()))

    def _cell_text(self, tc: etree._Element, sink: _Sink) -> str:
        cell = sink.child(sink.role)
        self._scan(tc, cell)
        cell.flush()
        return "\n".join(b.text for b in cell.blocks if b.text)


def _cell_attrs(tc: etree._Element) -> tuple[int | None, int | None, int, int]:
    """(row, col, rowspan, colspan) from HWPX cellAddr/cellSpan children or HWPML CELL attributes."""
    row, col, rs, cs = _attr_int(tc, "rowaddr"), _attr_int(tc, "coladdr"), _attr_int(tc, "rowspan"), _attr_int(tc, "colspan")
    for child in tc:
        ln = local_name(child)
        if ln == "celladdr":
            row, col = _attr_int(child, "rowaddr"), _attr_int(child, "coladdr")
        elif ln == "cellspan":
            rs, cs = _attr_int(child, "rowspan"), _attr_int(child, "colspan")
    return row, col, max(rs or 1, 1), max(cs or 1, 1)


def _grid(cells: list[tuple[int | None, int | None, int, int, str]]) -> list[list[str]] | None:
    """Place cells by their addresses (merged areas stay empty); ``None`` when addresses are unusable."""
    placed: dict[tuple[int, int], str] = {}
    nrows = ncols = 0
    for r, c, rs, cs, text in cells:
        if r is None or c is None or r < 0 or c < 0 or (r, c) in placed:
            return None
        placed[(r, c)] = text
        nrows, ncols = max(nrows, r + rs), max(ncols, c + cs)
    if not placed or nrows * ncols > min(1_000_000, 50 * len(placed) + 1000):
        return None
    grid = [[""] * ncols for _ in range(nrows)]
    for (r, c), text in placed.items():
        grid[r][c] = text
    return grid


# --------------------------------------------------------------------------------------
# HWPX package
# --------------------------------------------------------------------------------------

_META_KEYS = {
    "creator": "author",
    "lastsaveby": "last_saved_by",
    "createddate": "created",
    "modifieddate": "modified",
    "date": "date",
    "subject": "subject",
    "description": "description",
    "keyword": "keywords",
    "keywords": "keywords",
    "language": "language",
}


class HwpxReader:
    format = "hwpx"

    def read(self, path: Path, data: bytes) -> Document:
        with open_zip(data, label="HWPX") as zf:
            _check_encryption(zf)
            title, metadata, spine = _read_manifest(zf)
            sections = _section_names(zf, spine)
            if not sections:
                raise CorruptFileError(
                    "HWPX 파일에 본문(Contents/section*.xml)이 없습니다. 파일이 손상되었거나 HWPX 문서가 아닙니다."
                )
            walker = ParagraphWalker()
            blocks: list[Block] = []
            for index, name in enumerate(sections):
                try:
                    blocks.extend(_read_section(zf, name, index, walker, recover=False))
                except NamespaceError:
                    blocks.extend(_read_section(zf, name, index, walker, recover=True))
        metadata["sections"] = len(sections)
        return Document(source=str(path), format=self.format, blocks=blocks, title=title, metadata=metadata)


def _read_section(zf: SafeZip, name: str, index: int, walker: ParagraphWalker, *, recover: bool) -> list[Block]:
    blocks: list[Block] = []
    with zf.open(name, limit=config.MAX_STREAM_BYTES) as stream:
        for event, depth, el in iter_xml_events(stream, label="HWPX", part=f"본문({name})", recover=recover):
            if event == "end" and depth == 2:
                blocks.extend(walker.top_level(el, index))
                drop(el)
    return blocks


def _check_encryption(zf: SafeZip) -> None:
    message = "암호가 걸린 HWPX 문서입니다. 한글에서 암호를 해제한 뒤 다시 저장해 주세요."
    if zf.is_encrypted():
        raise EncryptedFileError(message)
    name = zf.find("META-INF/manifest.xml")
    if name is None:
        return
    try:
        root = parse_small_xml(zf.read(name, limit=SMALL_PART_BYTES), label="HWPX", part=name)
    except CorruptFileError:
        return  # an unreadable manifest does not stop us reading the body
    if any(local_name(el) == "encryption-data" for el in root.iter()):
        raise EncryptedFileError(message)


def _manifest_path(zf: SafeZip) -> str | None:
    container = zf.find("META-INF/container.xml")
    if container is not None:
        try:
            root = parse_small_xml(zf.read(container, limit=SMALL_PART_BYTES), label="HWPX", part=container)
            for el in root.iter():
                if local_name(el) == "rootfile":
                    full = _attr(el, "full-path")
                    if full.lower().endswith(".hpf") and zf.find(full):
                        return zf.find(full)
        except CorruptFileError:
            pass
    found = zf.find("Contents/content.hpf")
    if found:
        return found
    return next((n for n in zf.names if n.lower().endswith(".hpf")), None)


def _read_manifest(zf: SafeZip) -> tuple[str | None, dict[str, object], list[str]]:
    """(title, metadata, section part names in spine order) from content.hpf; empty when broken."""
    metadata: dict[str, object] = {}
    hpf = _manifest_path(zf)
    if hpf is None:
        return None, metadata, []
    try:
        root = parse_small_xml(zf.read(hpf, limit=SMALL_PART_BYTES), label="HWPX", part=hpf)
    except CorruptFileError:
        return None, metadata, []
    title: str | None = None
    items: dict[str, str] = {}
    order: list[str] = []
    for el in root.iter():
        ln = local_name(el)
        attrs = {local_name_str(k): str(v) for k, v in el.attrib.items()}
        if ln == "item" and attrs.get("id") and attrs.get("href"):
            items.setdefault(attrs["id"], attrs["href"])
        elif ln == "itemref" and attrs.get("idref"):
            order.append(attrs["idref"])
        elif ln == "title":
            title = title or ("".join(el.itertext()).strip() or None)
        elif ln in ("meta", "creator", "date", "subject", "description", "language"):
            key = _META_KEYS.get((attrs.get("name") or ln).lower())
            value = "".join(el.itertext()).strip()
            if key and value and key not in metadata:
                metadata[key] = value
    refs = [items[i] for i in order if i in items] or list(items.values())
    base = posixpath.dirname(hpf)
    spine: list[str] = []
    for href in refs:
        for candidate in (href, posixpath.normpath(posixpath.join(base, href))):
            found = zf.find(candidate)
            if found and _SECTION_RE.match(posixpath.basename(found)) and found not in spine:
                spine.append(found)
                break
    return title, metadata, spine


def _section_names(zf: SafeZip, spine: list[str]) -> list[str]:
    """Spine sections first, then any other ``Contents/section<N>.xml`` in numeric order."""
    rest = []
    for name in zf.names:
        m = _SECTION_RE.match(posixpath.basename(name))
        if m and name.lower().startswith("contents/") and name not in spine:
            rest.append((int(m.group(1)), name))
    return spine + [name for _, name in sorted(rest)]
