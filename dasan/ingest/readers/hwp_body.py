"""Turn the record tree of one HWP 5.0 section into :class:`~dasan.types.Block` objects.

Reading order: a paragraph's text, split where a table or drawing object is anchored in
it (those follow as their own blocks), then the notes, headers/footers and hidden
comments the paragraph carries (as paragraphs with ``meta["role"]``).
"""

from __future__ import annotations

import struct

from dasan.errors import CorruptFileError
from dasan.ingest.readers.hwp_records import (
    CTRL_HEADER,
    LIST_HEADER,
    PARA_HEADER,
    PARA_TEXT,
    TABLE,
    Marker,
    RecordStream,
    split_para_text,
)
from dasan.types import Block

#: Nesting deeper than this (tables in tables in text boxes …) is treated as corruption.
MAX_DEPTH = 64
#: Table grids larger than this are laid out in order of appearance instead.
MAX_GRID_CELLS = 200_000

_ANCHORED = {"tbl ", "gso "}  # split the paragraph where these are anchored
_ROLES = {"head": "header", "foot": "footer", "fn  ": "footnote", "en  ": "endnote", "tcmt": "comment"}
_NUMBERED_KINDS = {1, 2, 3, 4, 5}  # auto numbers shown as text: notes, figures, tables, equations


def section_blocks(records: RecordStream, section: int, stream: str) -> list[Block]:
    return _SectionReader(records, section, stream).run()


class _SectionReader:
    def __init__(self, records: RecordStream, section: int, stream: str) -> None:
        self.r = records
        self.section = section
        self.stream = stream

    def run(self) -> list[Block]:
        out: list[Block] = []
        self._siblings(list(self.r.roots()), None, out, 0)
        return out

    # -- generic walking -------------------------------------------------------------------
    def _siblings(self, indices: list[int], role: str | None, out: list[Block], depth: int) -> None:
        if depth > MAX_DEPTH:
            raise CorruptFileError(
                f"HWP '{self.stream}' 스트림의 개체 중첩이 너무 깊습니다 ({MAX_DEPTH}단계 초과, 손상된 파일)."
            )
        for i in indices:
            tag = self.r[i].tag
            if tag == PARA_HEADER:
                self._paragraph(i, role, out, depth)
            elif tag == CTRL_HEADER:
                self._control(i, role, out, out, depth)
            elif tag != LIST_HEADER:
                # shape components, containers …: their text lives further down
                self._siblings(list(self.r.children(i)), role, out, depth + 1)

    def _block(self, text: str, role: str | None) -> Block | None:
        text = text.rstrip()
        if not text.strip():
            return None
        return Block(kind="paragraph", text=text, section=self.section, meta={"role": role} if role else {})

    # -- paragraphs ------------------------------------------------------------------------
    def _paragraph(self, i: int, role: str | None, out: list[Block], depth: int) -> None:
        segments: list[str | Marker] = []
        controls: list[int] = []
        for c in self.r.children(i):
            rec = self.r[c]
            if rec.tag == PARA_TEXT:
                segments = split_para_text(rec.payload)
            elif rec.tag == CTRL_HEADER:
                controls.append(c)
        pending = iter(controls)
        pieces: list[str] = []
        after: list[Block] = []
        for seg in segments:
            if isinstance(seg, str):
                pieces.append(seg)
                continue
            c = next(pending, None)
            if c is None:
                continue
            ctrl = _ctrl(self.r[c].payload)
            if ctrl == "atno":
                pieces.append(_auto_number(self.r[c].payload))
            elif ctrl in ("tdut", "tcps"):  # 덧말 / 글자 겹치기 keep their text in the control
                pieces.append(_inline_text(ctrl, self.r[c].payload))
            elif ctrl in _ANCHORED:
                block = self._block("".join(pieces), role)
                if block:
                    out.append(block)
                pieces = []
                self._control(c, role, out, after, depth)
            else:
                self._control(c, role, out, after, depth)
        block = self._block("".join(pieces), role)
        if block:
            out.append(block)
        for c in pending:  # controls without a marker in the text
            self._control(c, role, out, after, depth)
        out.extend(after)

    # -- controls --------------------------------------------------------------------------
    def _control(self, c: int, role: str | None, out: list[Block], after: list[Block], depth: int) -> None:
        ctrl = _ctrl(self.r[c].payload)
        kids = list(self.r.children(c))
        if ctrl == "tbl ":
            self._table(c, kids, role, out, depth)
        elif ctrl == "gso ":
            # direct paragraphs are the caption; the shape's own text sits below its components
            caption: list[Block] = []
            below = False
            body: list[Block] = []
            for k in kids:
                rec = self.r[k]
                if rec.tag == LIST_HEADER:
                    below = _caption_below(rec.payload)
                elif rec.tag == PARA_HEADER:
                    self._paragraph(k, role or "caption", caption, depth + 1)
                elif rec.tag != CTRL_HEADER:
                    self._siblings(list(self.r.children(k)), role or "textbox", body, depth + 1)
            out.extend(body + caption if below else caption + body)
        elif ctrl in _ROLES:
            self._siblings(kids, role or _ROLES[ctrl], after, depth + 1)
        elif ctrl == "secd":
            self._siblings(kids, role or "masterpage", after, depth + 1)
        elif kids:
            self._siblings(kids, role, after, depth + 1)

    def _table(self, c: int, kids: list[int], role: str | None, out: list[Block], depth: int) -> None:
        rows_n = cols_n = 0
        caption: list[Block] = []
        cells: list[tuple[int, int, list[int]]] = []
        seen_table = below = False
        for k in kids:
            rec = self.r[k]
            if rec.tag == TABLE:
                seen_table = True
                if len(rec.payload) >= 8:
                    rows_n, cols_n = struct.unpack_from("<HH", rec.payload, 4)
            elif rec.tag == LIST_HEADER and not seen_table:
                below = _caption_below(rec.payload)
            elif rec.tag == LIST_HEADER:
                p = rec.payload
                col, row = struct.unpack_from("<HH", p, 8) if len(p) >= 12 else (-1, -1)
                cells.append((row, col, []))
            elif rec.tag == PARA_HEADER:
                if seen_table and cells:
                    cells[-1][2].append(k)
                elif not seen_table:
                    self._paragraph(k, role or "caption", caption, depth + 1)
        texts: list[tuple[int, int, str]] = []
        for row, col, paras in cells:
            inner: list[Block] = []
            self._siblings(paras, role, inner, depth + 1)
            texts.append((row, col, "\n".join(b.text for b in inner if b.text)))
        rows = _grid(texts, rows_n, cols_n)
        flat = "\n".join("\t".join(r) for r in rows if any(x.strip() for x in r))
        meta: dict[str, object] = {"role": role} if role else {}
        table = Block(kind="table", text=flat, rows=rows, section=self.section, meta=meta)
        out.extend([table, *caption] if below else [*caption, table])


def _ctrl(payload: bytes) -> str:
    return payload[3::-1].decode("latin-1") if len(payload) >= 4 else ""


def _caption_below(payload: bytes) -> bool:
    """A caption's LIST_HEADER keeps its side in the low bits after the list fields (3 = below)."""
    return len(payload) >= 12 and struct.unpack_from("<I", payload, 8)[0] & 3 == 3


def _auto_number(payload: bytes) -> str:
    if len(payload) < 10:
        return ""
    kind = struct.unpack_from("<I", payload, 4)[0] & 0xF
    number = struct.unpack_from("<H", payload, 8)[0]
    return str(number) if kind in _NUMBERED_KINDS and number else ""


def _wstrings(payload: bytes, pos: int, count: int) -> list[str]:
    out: list[str] = []
    for _ in range(count):
        if pos + 2 > len(payload):
            break
        n = struct.unpack_from("<H", payload, pos)[0]
        out.append(payload[pos + 2 : pos + 2 + 2 * n].decode("utf-16-le", errors="replace"))
        pos += 2 + 2 * n
    return out


def _inline_text(ctrl: str, payload: bytes) -> str:
    """덧말 (tdut): main text then the ruby text in parentheses; 글자 겹치기 (tcps): its characters."""
    parts = _wstrings(payload, 4, 2 if ctrl == "tdut" else 1)
    text = "".join(ch for ch in (parts[0] if parts else "") if ch >= " ")
    if ctrl == "tdut" and len(parts) > 1 and parts[1].strip():
        text += f"({parts[1].strip()})"
    return text


def _grid(cells: list[tuple[int, int, str]], rows_n: int, cols_n: int) -> list[list[str]]:
    """Place cells by their (row, col) address; fall back to order of appearance."""
    if 0 < rows_n * cols_n <= MAX_GRID_CELLS:
        grid: list[list[str | None]] = [[None] * cols_n for _ in range(rows_n)]
        ok = True
        for row, col, text in cells:
            if not (0 <= row < rows_n and 0 <= col < cols_n) or grid[row][col] is not None:
                ok = False
                break
            grid[row][col] = text
        if ok:
            return [[x or "" for x in r] for r in grid]
    width = cols_n if 0 < cols_n <= 1000 else max(len(cells), 1)
    texts = [t for _, _, t in cells]
    return [texts[i : i + width] for i in range(0, len(texts), width)] or [[]]
