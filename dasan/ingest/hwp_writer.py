"""A minimal HWP 5.0 writer: paragraphs and simple tables, one section, one text style.

Used to build sample documents and test fixtures. It writes the compound file itself
(olefile can only read), a FileHeader for version 5.0.1.7, a small DocInfo (one font per
language, one character shape, one paragraph shape, the 바탕글 style, two border fills), one
BodyText section whose first paragraph carries the section and column definitions, a text
preview and a summary stream with the title. Record layouts follow the public HWP 5.0
specification for that version. Limits: no images, no styles beyond one, no merged cells,
and the whole file must fit the 109 FAT sectors of a compound-file header (about 6 MB).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

Block = str | list[list[str]]

# ---------------------------------------------------------------------------------------
# Compound File Binary (version 3, 512-byte sectors, 64-byte mini sectors)
# ---------------------------------------------------------------------------------------
_SECTOR = 512
_MINI = 64
_CUTOFF = 4096
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b"") -> None:
        self.name, self.kind, self.data = name, kind, data  # kind: 1 storage, 2 stream, 5 root
        self.children: list[_Entry] = []
        self.id = 0
        self.left = self.right = self.child = _NOSTREAM
        self.black = True
        self.start, self.size = _END, 0


def _cfb_key(e: _Entry) -> tuple[int, str]:
    return (len(e.name), e.name.upper())  # the order the format prescribes for siblings


def _tree(entries: list[_Entry], depth: int, leaf_depth: int) -> int:
    """Balanced binary tree over sorted siblings; the incomplete deepest level is red."""
    if not entries:
        return _NOSTREAM
    mid = len(entries) // 2
    node = entries[mid]
    node.black = depth < leaf_depth
    node.left = _tree(entries[:mid], depth + 1, leaf_depth)
    node.right = _tree(entries[mid + 1 :], depth + 1, leaf_depth)
    return node.id


def _chain(fat: list[int], first: int, count: int) -> None:
    for k in range(count):
        fat[first + k] = first + k + 1 if k < count - 1 else _END


def write_cfb(streams: dict[str, bytes]) -> bytes:
    """Build a compound file holding ``streams`` (paths use ``/`` between storages)."""
    root = _Entry("Root Entry", 5)
    entries = [root]
    for path, data in streams.items():
        parent = root
        *dirs, leaf = path.split("/")
        for d in dirs:
            found = next((c for c in parent.children if c.name == d and c.kind == 1), None)
            if found is None:
                found = _Entry(d, 1)
                parent.children.append(found)
                entries.append(found)
            parent = found
        stream = _Entry(leaf, 2, data)
        parent.children.append(stream)
        entries.append(stream)
    for i, e in enumerate(entries):
        if len(e.name) > 31:
            raise ValueError(f"stream name too long: {e.name}")
        e.id = i
    for e in entries:
        if e.children:
            kids = sorted(e.children, key=_cfb_key)
            full = (len(kids) + 1) & len(kids) == 0  # a perfect tree needs no red level
            leaf_depth = 99 if full else len(kids).bit_length() - 1
            e.child = _tree(kids, 0, leaf_depth)

    # mini stream for small streams, whole sectors for the rest
    mini = bytearray()
    minifat: list[int] = []
    big: list[_Entry] = []
    for e in entries:
        if e.kind != 2:
            continue
        e.size = len(e.data)
        if e.size == 0:
            continue
        if e.size < _CUTOFF:
            e.start = len(minifat)
            n = -(-e.size // _MINI)
            minifat.extend([0] * n)
            _chain(minifat, e.start, n)
            mini += e.data.ljust(n * _MINI, b"\0")
        else:
            big.append(e)

    body = bytearray()
    fat: list[int] = []

    def place(data: bytes) -> int:
        first = len(fat)
        n = -(-len(data) // _SECTOR) if data else 0
        fat.extend([0] * n)
        _chain(fat, first, n)
        body.extend(data.ljust(n * _SECTOR, b"\0"))
        return first if n else _END

    for e in big:
        e.start = place(e.data)
    root.start, root.size = (place(bytes(mini)), len(mini)) if mini else (_END, 0)
    minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat)
    minifat_bytes += b"\xff" * (-len(minifat_bytes) % _SECTOR)
    minifat_start = place(minifat_bytes) if minifat else _END
    minifat_count = len(minifat_bytes) // _SECTOR if minifat else 0
    dir_bytes = b"".join(_dir_entry(e) for e in entries)
    dir_bytes += _empty_dir_entry() * (-len(entries) % 4)
    dir_start = place(dir_bytes)

    # FAT sectors come last; they must also describe themselves
    n_fat = 1
    while (len(fat) + n_fat) > n_fat * (_SECTOR // 4):
        n_fat += 1
    if n_fat > 109:
        raise ValueError("document too large for this minimal writer (needs DIFAT sectors)")
    fat_start = len(fat)
    fat.extend([_FATSECT] * n_fat)
    fat.extend([_FREE] * (n_fat * (_SECTOR // 4) - len(fat)))
    body += struct.pack(f"<{len(fat)}I", *fat)

    difat = list(range(fat_start, fat_start + n_fat)) + [_FREE] * (109 - n_fat)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\0" * 16, 0x3E, 3, 0xFFFE, 9, 6, b"\0" * 6,
        0, n_fat, dir_start, 0, _CUTOFF, minifat_start, minifat_count, _END, 0,
    ) + struct.pack("<109I", *difat)
    return header + bytes(body)


def _dir_entry(e: _Entry) -> bytes:
    name = (e.name + "\0").encode("utf-16-le")
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        name, len(name), e.kind, 1 if e.black else 0, e.left, e.right, e.child,
        b"\0" * 16, 0, 0, 0, e.start if e.kind != 1 else 0, e.size,
    )


def _empty_dir_entry() -> bytes:
    return struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, _NOSTREAM, _NOSTREAM, _NOSTREAM, b"\0" * 16, 0, 0, 0, 0, 0)


# ---------------------------------------------------------------------------------------
# HWP 5.0 records
# ---------------------------------------------------------------------------------------
_VERSION = 0x05000107
_PAGE_W, _PAGE_H, _MARGIN_LR, _MARGIN_T, _MARGIN_B, _HEADER_FOOTER = 59528, 84188, 8504, 5668, 4252, 4252
_TEXT_W = _PAGE_W - 2 * _MARGIN_LR
_CELL_PAD, _LINE_H, _LINE_GAP = 141, 1000, 600
_CELL_H = _LINE_H + 2 * _CELL_PAD


def _rec(tag: int, level: int, payload: bytes) -> bytes:
    size = len(payload)
    if size >= 0xFFF:
        return struct.pack("<II", tag | (level << 10) | (0xFFF << 20), size) + payload
    return struct.pack("<I", tag | (level << 10) | (size << 20)) + payload


def _ctrl_word(name: str) -> int:
    return int.from_bytes(name.encode("latin-1"), "big")


def _ext_ctrl(code: int, name: str) -> bytes:
    """An 8-unit extended control in PARA_TEXT: code, control id, four zero units, code."""
    return struct.pack("<HI4HH", code, _ctrl_word(name), 0, 0, 0, 0, code)


def _wstr(s: str) -> bytes:
    raw = s.encode("utf-16-le")
    return struct.pack("<H", len(raw) // 2) + raw


def _docinfo() -> bytes:
    out = [_rec(16, 0, struct.pack("<7H3I", 1, 1, 1, 1, 1, 1, 1, 0, 0, 0))]  # DOCUMENT_PROPERTIES
    # ID_MAPPINGS: bin data, fonts x7, border fills, char shapes, tab defs, numberings, bullets,
    # para shapes, styles, memo shapes
    out.append(_rec(17, 0, struct.pack("<16i", 0, *([1] * 7), 2, 1, 1, 0, 0, 1, 1, 0)))
    for _ in range(7):  # FACE_NAME, one per language
        out.append(_rec(19, 1, b"\x00" + _wstr("함초롬바탕")))
    no_line, solid = struct.pack("<BBI", 0, 0, 0), struct.pack("<BBI", 1, 1, 0)
    diagonal = struct.pack("<BBI", 0, 1, 0)
    # BORDER_FILL 1: no lines, white solid fill; BORDER_FILL 2: thin solid lines (table cells)
    out.append(_rec(20, 1, b"\0\0" + no_line * 4 + diagonal + struct.pack("<IIIiI", 1, 0xFFFFFFFF, 0, -1, 0)))
    out.append(_rec(20, 1, b"\0\0" + solid * 4 + diagonal + struct.pack("<II", 0, 0)))
    char_shape = struct.pack("<7H7B7b7B7b", *([0] * 7), *([100] * 7), *([0] * 7), *([100] * 7), *([0] * 7))
    char_shape += struct.pack("<iIbbIIII", 1000, 0, 10, 10, 0, 0, 0xFFFFFFFF, 0xB2B2B2)
    out.append(_rec(21, 1, char_shape))  # CHAR_SHAPE: 10 pt, black
    out.append(_rec(22, 1, struct.pack("<II", 0, 0)))  # TAB_DEF: no tab stops
    # PARA_SHAPE: justified, 160 % line spacing, border fill 1
    out.append(_rec(25, 1, struct.pack("<I6iHHH4hI", 0x80, 0, 0, 0, 0, 0, 160, 0, 0, 1, 0, 0, 0, 0, 0)))
    style = _wstr("바탕글") + _wstr("Normal") + struct.pack("<BBhHHH", 0, 0, 0x412, 0, 0, 0)
    out.append(_rec(26, 1, style))  # STYLE
    return b"".join(out)


class _Section:
    def __init__(self) -> None:
        self.out: list[bytes] = []
        self.instance = 0x1000

    def paragraph(
        self, text: str, level: int, *, last: bool, width: int = _TEXT_W, prefix: bytes = b"",
        mask: int = 0, controls: list[bytes] | None = None,
    ) -> None:
        body = prefix + _encode_text(text) + b"\r\0"
        nchars = len(body) // 2
        for code in struct.unpack(f"<{nchars}H", body):
            if code < 32 and code not in (10, 13):
                mask |= 1 << code
        has_text = nchars > 1
        header = struct.pack("<IIHBBHHHI", nchars | (0x80000000 if last else 0), mask, 0, 0, 0, 1, 0, 1, 0)
        self.out.append(_rec(66, level, header))
        if has_text:
            self.out.append(_rec(67, level + 1, body))
        self.out.append(_rec(68, level + 1, struct.pack("<II", 0, 0)))
        seg = struct.pack("<IiiiiiiiI", 0, 0, _LINE_H, _LINE_H, 850, _LINE_GAP, 0, width, 0x60000)
        self.out.append(_rec(69, level + 1, seg))
        for c in controls or []:
            self.out.append(c)

    def section_controls(self) -> list[bytes]:
        secd = struct.pack("<IIHHHIHHHHH", _ctrl_word("secd"), 0, 1134, 0, 0, 8000, 1, 0, 0, 0, 0) + b"\0" * 12
        page = struct.pack(
            "<9II", _PAGE_W, _PAGE_H, _MARGIN_LR, _MARGIN_LR, _MARGIN_T, _MARGIN_B, _HEADER_FOOTER,
            _HEADER_FOOTER, 0, 0,
        )
        footnote = struct.pack("<IHHHHiHHHBBI", 0, 0, 0, ord(")"), 1, -1, 850, 567, 283, 1, 1, 0)
        border = struct.pack("<I4HH", 1, 1417, 1417, 1417, 1417, 1)
        recs = [_rec(71, 1, secd), _rec(73, 2, page), _rec(74, 2, footnote), _rec(74, 2, footnote)]
        recs += [_rec(75, 2, border)] * 3
        recs.append(_rec(71, 1, struct.pack("<IHH4s", _ctrl_word("cold"), 0x1004, 0, b"\0" * 4)))
        return recs

    def table(self, rows: list[list[str]], *, last: bool, first: bool) -> None:
        n_rows = len(rows)
        n_cols = max((len(r) for r in rows), default=0)
        if n_rows == 0 or n_cols == 0:
            return
        cell_w = _TEXT_W // n_cols
        self.instance += 1
        common = struct.pack(
            "<IIiiIIi4HIi", _ctrl_word("tbl "), 0x082A2210, 0, 0, cell_w * n_cols, _CELL_H * n_rows, 0,
            283, 283, 283, 283, self.instance, 0,
        )
        table = struct.pack("<IHHH4H", 6, n_rows, n_cols, 0, *([_CELL_PAD] * 4))
        table += struct.pack(f"<{n_rows}H", *([n_cols] * n_rows)) + struct.pack("<HH", 2, 0)
        recs = [_rec(71, 1, common), _rec(77, 2, table)]
        cells = _Section()
        for r, row in enumerate(rows):
            for c in range(n_cols):
                lines = (row[c] if c < len(row) else "").split("\n")
                head = struct.pack(
                    "<HHIHHHHII4HHI", len(lines), 0, 0x20, c, r, 1, 1, cell_w, _CELL_H, *([_CELL_PAD] * 4), 2,
                    cell_w,
                )
                cells.out.append(_rec(72, 2, head))
                for k, line in enumerate(lines):
                    cells.paragraph(line, 2, last=k == len(lines) - 1, width=cell_w - 2 * _CELL_PAD)
        recs.extend(cells.out)
        prefix = b"".join(self._section_prefix()) if first else b""
        controls = (self.section_controls() if first else []) + recs
        self.paragraph("", 0, last=last, prefix=prefix + _ext_ctrl(11, "tbl "), controls=controls)

    @staticmethod
    def _section_prefix() -> list[bytes]:
        return [_ext_ctrl(2, "secd"), _ext_ctrl(2, "cold")]


def _encode_text(text: str) -> bytes:
    """Paragraph text with tabs as inline controls; line breaks stay 0x0A; other controls drop."""
    parts: list[bytes] = []
    for ch in text.replace("\r\n", "\n").replace("\r", "\n"):
        if ch == "\t":
            parts.append(struct.pack("<8H", 9, 0, 0, 0, 0, 0, 0, 9))
        elif ch == "\n" or ord(ch) >= 32:
            parts.append(ch.encode("utf-16-le", errors="surrogatepass"))
    return b"".join(parts)


def _summary(title: str) -> bytes:
    """``\\x05HwpSummaryInformation``: an OLE property set with the title (VT_LPWSTR)."""
    fmtid = bytes.fromhex("60b6a29f6110d411b4c6006097c09d8c")
    props: list[tuple[int, bytes]] = []
    if title:
        chars = (title + "\0").encode("utf-16-le")
        value = struct.pack("<II", 31, len(chars) // 2) + chars
        props.append((2, value + b"\0" * (-len(value) % 4)))
    table_size = 8 + 8 * len(props)
    offsets, values, pos = [], b"", table_size
    for pid, value in props:
        offsets.append(struct.pack("<II", pid, pos))
        values += value
        pos += len(value)
    section = struct.pack("<II", pos, len(props)) + b"".join(offsets) + values
    header = struct.pack("<HHI16sI16sI", 0xFFFE, 0, 0x00020006, b"\0" * 16, 1, fmtid, 48)
    return header + section


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def build_hwp(blocks: list[Block], *, title: str = "", compress: bool = True) -> bytes:
    """The bytes of an HWP 5.0 file holding ``blocks`` (str = paragraph, list of rows = table)."""
    items = [b for b in blocks if isinstance(b, str) or (b and any(b))] or [""]
    sec = _Section()
    for i, block in enumerate(items):
        last = i == len(items) - 1
        if isinstance(block, str):
            if i == 0:
                sec.paragraph(
                    block, 0, last=last, prefix=b"".join(sec._section_prefix()), controls=sec.section_controls()
                )
            else:
                sec.paragraph(block, 0, last=last)
        else:
            sec.table([[str(c) for c in row] for row in block], last=last, first=i == 0)
    body = b"".join(sec.out)
    docinfo = _docinfo()
    header = b"HWP Document File".ljust(32, b"\0") + struct.pack("<II", _VERSION, 1 if compress else 0)
    header = header.ljust(256, b"\0")
    preview = "\n".join(b if isinstance(b, str) else "\n".join("\t".join(r) for r in b) for b in items)
    streams = {
        "FileHeader": header,
        "DocInfo": _deflate(docinfo) if compress else docinfo,
        "BodyText/Section0": _deflate(body) if compress else body,
        "\x05HwpSummaryInformation": _summary(title),
        "PrvText": (preview[:1023] + "\0").encode("utf-16-le", errors="surrogatepass"),
    }
    return write_cfb(streams)


def write_hwp(path: Path, blocks: list[Block], *, title: str = "", compress: bool = True) -> None:
    """Write ``blocks`` to ``path`` as an HWP 5.0 document."""
    Path(path).write_bytes(build_hwp(blocks, title=title, compress=compress))
