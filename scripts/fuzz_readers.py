"""Fuzz every document reader and the structure/chunking path behind it.

Each case is a file written to a scratch directory and handed to a long-lived *worker*
subprocess that runs what ingestion runs for a file: ``read_file`` → ``detect_kind`` →
``chunk_document`` (no store). The worker runs under ``RLIMIT_AS`` (its warmed-up address
space plus a headroom, 1 GiB by default) and every case under a wall-clock timeout enforced
by this process, which kills and restarts a worker that hangs or dies.

Oracle: a case may end in a ``Document`` or in a :class:`~dasan.errors.DasanError` whose
message is non-empty Korean without raw control or bidi-override characters. Anything else
is a failure: another exception (also when ``read_file``'s last-resort wrapper turned it into
a ``ReadError``), a timeout, a dead worker, a file opened outside the case file (an audit
hook watches ``open``/writes), or a sentinel secret showing up in the output (XXE, path
traversal through ZIP member names or manifests).

Usage::

    .venv/bin/python scripts/fuzz_readers.py --seconds 300 --seed 1
    .venv/bin/python scripts/fuzz_readers.py --replay /tmp/dasan-fuzz-xxxx/0001-bug.hwpx

Failing inputs are saved (with a ``.txt`` describing the failure) under a temporary
directory printed at the end. ``tests/test_fuzz_readers.py`` imports this module.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import os
import random
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SENTINEL = "DASAN-FUZZ-SECRET-7f3a9c"  # content of a file no reader may ever read
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class Case:
    name: str  # what was done, e.g. "hwpx:table.hwpx+xml-deep-nest"
    data: bytes
    filename: str  # file name on disk (the extension breaks ties between text formats)
    mode: str = "pipeline"  # pipeline: read + structure + chunk; read: read_file only


@dataclass
class Result:
    case: str
    outcome: str  # doc | error | bug | bad-message | file-access | leak | hang | crash
    detail: str = ""
    secs: float = 0.0
    rss_mb: float = 0.0
    saved: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in ("doc", "error")


# =======================================================================================
# Seeds
# =======================================================================================


def _zip(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", method) as zf:
        warnings.simplefilter("ignore")  # duplicate names are one of the mutations
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else method
            zf.writestr(info, data)
    return buf.getvalue()


def make_pdf(lines: list[str], *, compress: bool = False, raw_content: bytes | None = None) -> bytes:
    """A small valid PDF (Helvetica, ASCII lines), optionally with a Flate content stream.

    ``raw_content`` replaces the page's content stream with already Flate-compressed bytes.
    """
    ops = "BT /F1 11 Tf 14 TL 50 780 Td " + " ".join(f"({ln}) Tj T*" for ln in lines) + " ET"
    content = ops.encode("latin-1")
    extra = b""
    if compress:
        content, extra = zlib.compress(content), b" /Filter /FlateDecode"
    if raw_content is not None:
        content, extra = raw_content, b" /Filter /FlateDecode"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d%s >>\nstream\n" % (len(content), extra) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Title (Fuzz seed) /Author (Dasan) /CreationDate (D:20260101000000+09'00') >>",
    ]
    return pdf_from_objects(objs)


def pdf_from_objects(objs: list[bytes]) -> bytes:
    """A PDF file of the given object bodies (object 1 is the catalog, object 6 the info dict)."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


@functools.cache
def make_docx() -> bytes:
    import docx

    d = docx.Document()
    d.core_properties.title = "퍼징 문서"
    d.add_heading("제1장 총칙", level=1)
    d.add_paragraph("이 문서는 퍼징용 시드입니다. 제3조(정의)를 참고한다.")
    d.add_paragraph("첫째 항목", style="List Number")
    d.add_paragraph("둘째 항목", style="List Bullet")
    t = d.add_table(rows=2, cols=2)
    for r, row in enumerate([["구분", "내용"], ["가", "나"]]):
        for c, v in enumerate(row):
            t.cell(r, c).text = v
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


@functools.cache
def make_xlsx() -> bytes:
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "사고"
    ws.append(["사고번호", "일자", "노선", "건수"])
    ws.append(["R-1", dt.date(2025, 3, 1), "2호선", 3])
    ws.append(["R-2", dt.datetime(2025, 3, 2, 9, 30), "3호선", 1.5])
    ws2 = wb.create_sheet("요약")
    ws2.append(["항목", "값"])
    ws2.append(["합계", "=SUM(사고!D2:D3)"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_HWPML = """<?xml version="1.0" encoding="UTF-8"?>
<HWPML Version="2.8"><HEAD><DOCSUMMARY><TITLE>시험 문서</TITLE><AUTHOR>홍길동</AUTHOR></DOCSUMMARY></HEAD>
<BODY><SECTION Id="0"><P><TEXT><CHAR>제1조(목적) 이 규정은 시험을 위한 것이다.</CHAR></TEXT></P>
<P><TEXT><TABLE RowCount="1" ColCount="2"><ROW><CELL RowAddr="0" ColAddr="0"><PARALIST><P><TEXT><CHAR>가</CHAR>
</TEXT></P></PARALIST></CELL><CELL RowAddr="0" ColAddr="1"><PARALIST><P><TEXT><CHAR>나</CHAR></TEXT></P>
</PARALIST></CELL></ROW></TABLE></TEXT></P></SECTION></BODY><TAIL/></HWPML>
"""

_PRESS = """보도자료
국토교통부
보도시점 2026. 6. 23.(화) 11:00 이후 배포 2026. 6. 23.(화)
여름철 도시철도 안전점검 강화
- 폭염 대비 전동차 냉방장치 집중 점검 -
□ 국토교통부는 여름철을 맞아 도시철도 안전점검을 강화한다고 밝혔다.
 ○ 점검 대상은 전국 도시철도 운영기관이다.
  - 냉방장치와 전력설비를 중점 점검한다.
※ 자세한 내용은 붙임 참고
담당 부서 철도국 철도정책과 책임자 과장 홍길동 (044-201-3938)
"""

_LAW = """제1조(목적) 이 법은 철도안전을 확보하기 위하여 필요한 사항을 규정함을 목적으로 한다.
제2조(정의) 이 법에서 사용하는 용어의 뜻은 다음과 같다.
1. "철도"란 여객 또는 화물을 운송하는 데 필요한 시설을 말한다.
가. 세부 사항
② 제1항에 따른 사항은 대통령령으로 정한다. <개정 2020.6.9>
제3조의2(삭제) 삭제 <2020.6.9>
부칙
제1조(시행일) 이 법은 공포한 날부터 시행한다.
"""


def generated_seeds() -> list[Case]:
    html = (
        '<!doctype html><html lang="ko"><head><meta charset="euc-kr"><title>공지</title></head><body>'
        "<h1>안내</h1><p>본문입니다.<br>둘째 줄</p><ol start='3'><li>하나<ul><li>둘</li></ul></li></ol>"
        "<table><caption>표</caption><tr><th>가</th><td>나<table><tr><td>안</td></tr></table></td></tr></table>"
        "<pre>코드</pre><script>x()</script></body></html>"
    )
    md = (
        "---\ntitle: 매뉴얼\n날짜: 2026-01-01\ntags: [안전, 철도]\n---\n# 제목\n\n본문 **강조** [링크](http://x)\n\n"
        "- 항목\n  - 하위\n1\\. 번호\n\n| 가 | 나 |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```\n> 인용\n"
    )
    jsonl = "\n".join(
        json.dumps(o, ensure_ascii=False)
        for o in [{"id": 1, "title": "공지", "text": "본문"}, {"id": 2, "내용": "둘째", "tags": ["a", {"b": None}]}]
    )
    return [
        Case("gen:pdf", make_pdf(["Hello PDF", "Second line of text.", "Article 3 (Purpose)"]), "seed.pdf"),
        Case("gen:pdf-flate", make_pdf(["Compressed content stream"] * 5, compress=True), "seed.pdf"),
        Case("gen:docx", make_docx(), "seed.docx"),
        Case("gen:xlsx", make_xlsx(), "seed.xlsx"),
        Case("gen:html", html.encode("cp949"), "seed.html"),
        Case("gen:csv", "사고번호,일자,노선\nR-1,2025-03-01,2호선\nR-2,\"2025-03-02\",\"3호선, 상행\"\n".encode(), "seed.csv"),
        Case("gen:csv-cp949", "번호;이름;내용\n1;홍길동;민원 접수\n2;김철수;처리 완료\n".encode("cp949"), "seed.csv"),
        Case("gen:tsv", b"a\tb\tc\n1\t2\t3\n", "seed.tsv"),
        Case("gen:jsonl", jsonl.encode(), "seed.jsonl"),
        Case("gen:md", md.encode(), "seed.md"),
        Case("gen:txt-law", _LAW.encode(), "seed.txt"),
        Case("gen:txt-press", _PRESS.encode(), "seed.txt"),
        Case("gen:txt-utf16", ("\ufeff" + _LAW).encode("utf-16-le"), "seed.txt"),
        Case("gen:hwpml", _HWPML.encode(), "seed.hml"),
    ]


def file_seeds(shared: Path | None) -> list[Case]:
    """Real HWP/HWPX samples from ../shared, a statute in Markdown, and the bundled examples."""
    out: list[Case] = []
    roots: list[Path] = []
    if shared is not None:
        samples = shared / "data" / "hwp-samples"
        roots += sorted(samples.glob("hwp/*.hwp")) + sorted(samples.glob("hwpx/*.hwpx"))
        law = shared / "data" / "laws" / "청년기본법" / "법률.md"
        if law.exists():
            roots.append(law)
    roots += sorted(p for p in (REPO / "examples").rglob("*") if p.is_file())
    for p in roots:
        ext = p.suffix.lower()
        out.append(Case(f"{p.parent.name}/{p.name}", p.read_bytes(), "seed" + ext))
    return out


def all_seeds(shared: Path | None) -> list[Case]:
    return file_seeds(shared) + generated_seeds()


# =======================================================================================
# Byte-level mutations
# =======================================================================================

INTERESTING_32 = (0, 1, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFF00000, 0x0FFFFFFF, 0x10000)


def _pos(b: bytearray, rng: random.Random) -> int:
    return rng.randrange(len(b)) if b else 0


def m_bitflip(b: bytearray, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 8)):
        if b:
            b[_pos(b, rng)] ^= 1 << rng.randrange(8)
    return "bitflip"


def m_bytes(b: bytearray, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 8)):
        if b:
            b[_pos(b, rng)] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
    return "bytes"


def m_int32(b: bytearray, rng: random.Random) -> str:
    if len(b) >= 4:
        struct.pack_into("<I", b, rng.randrange(len(b) - 3), rng.choice(INTERESTING_32))
    return "int32"


def m_insert(b: bytearray, rng: random.Random) -> str:
    b[_pos(b, rng):_pos(b, rng)] = rng.randbytes(rng.randint(1, 64))
    return "insert"


def m_delete(b: bytearray, rng: random.Random) -> str:
    if b:
        p = _pos(b, rng)
        del b[p : p + rng.randint(1, 512)]
    return "delete"


def m_truncate(b: bytearray, rng: random.Random) -> str:
    if b:
        del b[_pos(b, rng):]
    return "truncate"


def m_duplicate(b: bytearray, rng: random.Random) -> str:
    if b:
        a = _pos(b, rng)
        chunk = bytes(b[a : a + rng.randint(1, 2048)])
        p = _pos(b, rng)
        b[p:p] = chunk * rng.choice((1, 2, 16, 256))
    return "duplicate"


BYTE_MUTATORS: tuple[Callable[[bytearray, random.Random], str], ...] = (
    m_bitflip, m_bytes, m_int32, m_insert, m_delete, m_truncate, m_duplicate,
)


def mutate_bytes(data: bytes, rng: random.Random, max_ops: int = 3) -> tuple[bytes, str]:
    b = bytearray(data)
    ops = [rng.choice(BYTE_MUTATORS)(b, rng) for _ in range(rng.randint(1, max_ops))]
    return bytes(b), "+".join(ops)


# =======================================================================================
# XML mutations (members of HWPX/DOCX/XLSX, HWPML)
# =======================================================================================

_START_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)[^<>]{0,2000}?>")
_ATTR_VALUE = re.compile(rb'="[^"]{0,200}"')
_BAD_VALUES = (b"-1", b"0", b"99999999", b"4294967296", b"1e309", b"NaN", b"", b"x" * 5000, b"&#0;",
               b"../../../etc/passwd", b"\xe2\x80\xae", b"65535")


def entity_bomb(root: str = "a") -> bytes:
    ents = ['<!ENTITY e0 "ha">'] + [f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10)]
    return f'<!DOCTYPE {root} [{"".join(ents)}]>'.encode()


def xxe(root: str, target: str) -> bytes:
    return f'<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "{target}">]>'.encode()


def _after_prolog(x: bytes) -> int:
    m = re.match(rb"\s*(<\?xml[^>]*\?>)?", x)
    return m.end() if m else 0


def mutate_xml(x: bytes, rng: random.Random, *, secret_uri: str = "") -> tuple[bytes, str]:
    tags = list(_START_TAG.finditer(x[:2_000_000]))
    op = rng.choice(("tag-delete", "elem-dup", "attr-value", "deep-nest", "doctype", "truncate", "encoding",
                     "wide-text", "many-elems", "bytes"))
    if op == "tag-delete" and tags:
        m = rng.choice(tags)
        return x[: m.start()] + x[m.end() :], op
    if op == "elem-dup" and len(tags) > 1:
        a, c = sorted(rng.sample(range(len(tags)), 2))
        seg = x[tags[a].start() : tags[c].start()]
        return x[: tags[c].start()] + seg * rng.choice((1, 2, 50)) + x[tags[c].start() :], op
    if op == "attr-value":
        vals = list(_ATTR_VALUE.finditer(x[:2_000_000]))
        if vals:
            m = rng.choice(vals)
            return x[: m.start()] + b'="' + rng.choice(_BAD_VALUES) + b'"' + x[m.end() :], op
    if op == "deep-nest" and tags:
        m = rng.choice(tags)
        name = m.group(1)
        n = rng.choice((64, 200, 254, 300, 5000))
        return x[: m.end()] + b"<%s>" % name * n + b"</%s>" % name * n + x[m.end() :], f"{op}-{n}"
    if op == "doctype":
        root = tags[0].group(1).decode("ascii", "replace") if tags else "a"
        dtd = entity_bomb(root) if rng.random() < 0.5 else xxe(root, secret_uri or "file:///etc/passwd")
        p = _after_prolog(x)
        body = x[p:]
        if b"&" not in body[:0] and tags and rng.random() < 0.7:  # reference the entity in a text node
            first_text = re.search(rb">([^<]{1,200})<", body)
            if first_text:
                ref = b"&e9;" if b"e9" in dtd else b"&xxe;"
                body = body[: first_text.start(1)] + ref + body[first_text.start(1) :]
        return x[:p] + dtd + body, op
    if op == "truncate" and x:
        return x[: rng.randrange(len(x))], op
    if op == "encoding":
        enc = rng.choice((b"UTF-16", b"EUC-KR", b"bogus-enc", b"UTF-32"))
        return re.sub(rb'encoding="[^"]*"', b'encoding="' + enc + b'"', x, count=1), op
    if op == "wide-text" and tags:
        m = rng.choice(tags)
        return x[: m.end()] + "가".encode() * rng.choice((10_000, 1_000_000)) + x[m.end() :], op
    if op == "many-elems" and len(tags) > 1:
        a = rng.randrange(len(tags) - 1)
        seg = x[tags[a].start() : tags[a + 1].start()]
        return x[: tags[a].start()] + seg * rng.choice((1000, 20_000)) + x[tags[a].start() :], op
    out, desc = mutate_bytes(x, rng)
    return out, "xml-" + desc


# =======================================================================================
# ZIP-aware mutations (HWPX, DOCX, XLSX)
# =======================================================================================

HOSTILE_MEMBER_NAMES = (
    "../../../../etc/passwd", "/etc/passwd", "..\\..\\windows\\win.ini", "C:/Windows/win.ini",
    "Contents/../../section0.xml", "Contents/section0.xml/../../../x", "name\nwith\nnewlines.xml",
    "rtl-\u202egpj.xml", "tab\tand\x1bescape.xml", "a" * 5000 + ".xml", "Contents/section0.xml\x00.txt",
    "../secret.txt", "word/../../../secret.txt",
)


def zip_members(data: bytes) -> list[tuple[str, bytes]] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return [(i.filename, zf.read(i)) for i in zf.infolist() if i.file_size < 50_000_000]
    except Exception:
        return None


def _patch_zip_headers(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Corrupt size/method/flag fields of local and central headers."""
    b = bytearray(data)
    spots = [m.start() for m in re.finditer(rb"PK\x01\x02|PK\x03\x04|PK\x05\x06", data)]
    if not spots:
        return mutate_bytes(data, rng)
    p = rng.choice(spots)
    fields = {  # (offset, width) of flags, method, sizes, name length, offsets
        b"PK\x01\x02": ((8, 2), (10, 2), (20, 4), (24, 4), (28, 2), (42, 4)),
        b"PK\x03\x04": ((6, 2), (8, 2), (18, 4), (22, 4), (26, 2)),
        b"PK\x05\x06": ((8, 2), (10, 2), (12, 4), (16, 4)),
    }[bytes(b[p : p + 4])]
    field_at, width = rng.choice(fields)
    if p + field_at + width <= len(b):
        val = rng.choice((0, 1, 0xFFFF, 99, 12, 14, 0x7FFFFFFF, 0xFFFFFFFF, 1 << 31))
        b[p + field_at : p + field_at + width] = (val & (0xFFFF if width == 2 else 0xFFFFFFFF)).to_bytes(width, "little")
    return bytes(b), f"zip-header@{field_at}"


def mutate_zip(data: bytes, rng: random.Random, *, secret_uri: str = "") -> tuple[bytes, str]:
    members = zip_members(data)
    if not members:
        return mutate_bytes(data, rng)
    op = rng.choice(("member-xml", "member-xml", "member-xml", "member-bytes", "drop", "rename", "dup",
                     "method", "headers", "raw"))
    xmlish = [i for i, (n, _) in enumerate(members) if n.lower().endswith((".xml", ".hpf", ".rels"))]
    i = rng.choice(xmlish) if xmlish and op != "member-bytes" else rng.randrange(len(members))
    name, content = members[i]
    method = zipfile.ZIP_DEFLATED
    if op == "member-xml":
        content, desc = mutate_xml(content, rng, secret_uri=secret_uri)
        members[i] = (name, content)
        op = f"{name}:{desc}"
    elif op == "member-bytes":
        content, desc = mutate_bytes(content, rng)
        members[i] = (name, content)
        op = f"{name}:{desc}"
    elif op == "drop":
        del members[i]
        op = f"drop:{name}"
    elif op == "rename":
        members[i] = (rng.choice(HOSTILE_MEMBER_NAMES) if rng.random() < 0.7 else name.upper(), content)
        op = "rename"
    elif op == "dup":
        members.insert(rng.randrange(len(members) + 1), (name, mutate_xml(content, rng)[0]))
        op = f"dup:{name}"
    elif op == "method":
        method = rng.choice((zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA))
        op = f"method-{method}"
    elif op == "headers":
        return _patch_zip_headers(data, rng)
    else:
        out, desc = mutate_bytes(data, rng)
        return out, "zip-raw-" + desc
    return _zip(members, method), op


# =======================================================================================
# OLE/HWP-aware mutations
# =======================================================================================


def ole_streams(data: bytes) -> dict[str, bytes] | None:
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
        try:
            return {"/".join(p): ole.openstream(p).read() for p in ole.listdir(streams=True, storages=False)}
        finally:
            ole.close()
    except Exception:
        return None


def raw_deflate(data: bytes, level: int = 6) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def split_records(payload: bytes) -> list[tuple[int, int, bytes]]:
    out: list[tuple[int, int, bytes]] = []
    pos = 0
    while pos + 4 <= len(payload):
        h = struct.unpack_from("<I", payload, pos)[0]
        tag, level, size = h & 0x3FF, (h >> 10) & 0x3FF, h >> 20
        pos += 4
        if size == 0xFFF:
            if pos + 4 > len(payload):
                break
            size = struct.unpack_from("<I", payload, pos)[0]
            pos += 4
        out.append((tag, level, payload[pos : pos + size]))
        pos += size
    return out


def record(tag: int, level: int, payload: bytes, *, size: int | None = None) -> bytes:
    n = len(payload) if size is None else size
    if n >= 0xFFF:
        return struct.pack("<II", tag | (level << 10) | (0xFFF << 20), n) + payload
    return struct.pack("<I", tag | (level << 10) | (n << 20)) + payload


def join_records(recs: list[tuple[int, int, bytes]]) -> bytes:
    return b"".join(record(t, lv, p) for t, lv, p in recs)


def mutate_records(recs: list[tuple[int, int, bytes]], rng: random.Random) -> tuple[bytes, str]:
    recs = list(recs) or [(66, 0, b"\0" * 22)]
    op = rng.choice(("size", "level", "tag", "payload", "dup", "deep", "table", "paratext", "ctrl"))
    i = rng.randrange(len(recs))
    if op == "size":  # a header that lies about its payload size
        t, lv, p = recs[i]
        head = b"".join(record(*r) for r in recs[:i])
        lie = rng.choice((0xFFE, 0xFFFFFFFF, 0x7FFFFFFF, len(p) + 1, max(len(p) - 1, 0)))
        return head + record(t, lv, p, size=lie) + join_records(recs[i + 1 :]), op
    if op == "level":
        for _ in range(rng.randint(1, 5)):
            j = rng.randrange(len(recs))
            recs[j] = (recs[j][0], rng.choice((0, 1, 2, 63, 64, 1023, rng.randrange(1024))), recs[j][2])
    elif op == "tag":
        for _ in range(rng.randint(1, 5)):
            j = rng.randrange(len(recs))
            recs[j] = (rng.choice((28, 66, 67, 71, 72, 76, 77, 88, rng.randrange(1024))), recs[j][1], recs[j][2])
    elif op == "payload":
        t, lv, p = recs[i]
        recs[i] = (t, lv, mutate_bytes(p, rng)[0])
    elif op == "dup":
        j = min(len(recs), i + rng.randint(1, 20))
        recs[i:i] = recs[i:j] * rng.choice((2, 100, 5000))
    elif op == "deep":  # a chain of records each one level deeper
        n = rng.choice((70, 300, 1023))
        recs[i:i] = [(rng.choice((66, 71, 72, 0)), k, b"tbl "[::-1] if k % 2 else b"") for k in range(n)]
    elif op == "table":  # a table control declaring a huge grid and cells with wild addresses
        rows, cols = rng.choice(((0xFFFF, 0xFFFF), (0, 0), (1, 0xFFFF), (450, 450)))
        lv = recs[i][1]
        cells = []
        for _ in range(rng.randint(0, 50)):
            addr = struct.pack("<HH", rng.randrange(0x10000), rng.randrange(0x10000))
            cells += [(72, lv + 1, b"\0" * 8 + addr + b"\0" * 4), (66, lv + 1, b"\0" * 22),
                      (67, lv + 2, "셀".encode("utf-16-le"))]
        recs[i:i] = [(71, lv, b" lbt" + b"\0" * 40), (77, lv + 1, b"\0" * 4 + struct.pack("<HH", rows, cols)), *cells]
    elif op == "paratext":  # control characters (possibly cut off) in the text
        units = [rng.choice((0, 1, 2, 9, 10, 11, 13, 24, 30, 31, 0x41, 0xAC00, 0xD800)) for _ in range(rng.randint(1, 40))]
        payload = struct.pack(f"<{len(units)}H", *units) + (b"\x01" if rng.random() < 0.3 else b"")
        recs.insert(i, (67, recs[i][1], payload))
    else:  # control headers with odd ids and short payloads
        cid = rng.choice((b" lbt", b" osg", b"onta", b"tudt", b"spct", b"daeh", b"  nf", b"dces", b"\0\0"))
        recs.insert(i, (71, recs[i][1], cid + rng.randbytes(rng.choice((0, 2, 6, 40)))))
    return join_records(recs), op


def mutate_ole(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    from dasan.ingest.hwp_writer import write_cfb

    streams = ole_streams(data)
    if not streams or "FileHeader" not in streams:
        return mutate_bytes(data, rng)
    header = bytearray(streams["FileHeader"])
    flags = struct.unpack_from("<I", header, 36)[0] if len(header) >= 40 else 0
    sections = [n for n in streams if n.startswith(("BodyText/", "ViewText/"))]
    op = rng.choice(("records", "records", "records", "wrong-compression", "deflate", "header", "summary",
                     "streams", "container", "container"))
    if op == "records" and sections and not flags & 4:
        name = rng.choice(sections)
        raw = streams[name]
        try:
            plain = zlib.decompress(raw, -15) if flags & 1 else raw
        except zlib.error:
            plain = raw
        payload, desc = mutate_records(split_records(plain), rng)
        streams[name] = raw_deflate(payload) if flags & 1 else payload
        op = f"{name}:rec-{desc}"
    elif op == "wrong-compression" and sections and len(header) >= 40:
        name = rng.choice(sections)
        struct.pack_into("<I", header, 36, flags ^ 1)  # flag says the opposite of the data
        streams["FileHeader"] = bytes(header)
        op = f"wrong-compression:{name}"
    elif op == "deflate" and sections:
        name = rng.choice(sections)
        choice = rng.choice(("garbage", "cut", "tail", "bomb"))
        raw = streams[name]
        if choice == "garbage":
            streams[name] = rng.randbytes(rng.randint(1, 4096))
        elif choice == "cut":
            streams[name] = raw[: rng.randrange(max(len(raw), 1))]
        elif choice == "tail":
            streams[name] = raw + rng.randbytes(64)
        else:  # small on disk, huge once inflated: many zero-sized unknown records
            streams[name] = raw_deflate(b"\0" * 4_000_000, 9)
        op = f"deflate-{choice}:{name}"
    elif op == "header" and len(header) >= 40:
        if rng.random() < 0.5:
            struct.pack_into("<I", header, 36, flags ^ (1 << rng.choice((0, 1, 2, 4, 8, 10, 3, 31))))
        else:
            struct.pack_into("<I", header, 32, rng.choice((0x05000000, 0x04000000, 0xFFFFFFFF, 0x05010700)))
        streams["FileHeader"] = bytes(header)
    elif op == "summary" and "\x05HwpSummaryInformation" in streams:
        b = bytearray(streams["\x05HwpSummaryInformation"])
        for _ in range(rng.randint(1, 4)):
            m_int32(b, rng)
        streams["\x05HwpSummaryInformation"] = bytes(b)
    elif op == "streams":
        choice = rng.choice(("drop", "many", "name"))
        if choice == "drop":
            streams.pop(rng.choice(sorted(streams)), None)
        elif choice == "many" and sections:
            src = streams[sections[0]]
            prefix = sections[0].split("/")[0]
            for k in range(1, rng.choice((3, 60))):
                streams[f"{prefix}/Section{k}"] = src
        else:
            prefix = sections[0].split("/")[0] if sections else "BodyText"
            streams[f"{prefix}/Section{rng.choice((99999999, 4294967296, 7))}"] = streams.get(sections[0], b"") if sections else b""
        op = f"streams-{choice}"
    else:  # damage the compound file structure itself (header, FAT, directory)
        b = bytearray(data)
        if rng.random() < 0.5:
            for _ in range(rng.randint(1, 4)):
                if len(b) >= 512:
                    struct.pack_into("<I", b, rng.randrange(0x2C, 0x200 - 4, 4), rng.choice(INTERESTING_32))
            return bytes(b), "ole-header"
        return mutate_bytes(data, rng)[0], "ole-bytes"
    try:
        return write_cfb(streams), op
    except (ValueError, struct.error):
        return mutate_bytes(data, rng)


# =======================================================================================
# Cases: mutated seeds, random bytes behind a magic prefix, targeted hostile files
# =======================================================================================

MAGICS: tuple[tuple[bytes, str], ...] = (
    (OLE_MAGIC, "x.hwp"), (b"PK\x03\x04", "x.hwpx"), (b"PK\x03\x04", "x.docx"), (b"PK\x05\x06", "x.xlsx"),
    (b"%PDF-1.7\n", "x.pdf"), (b'<?xml version="1.0"?><HWPML>', "x.hml"), (b"\xef\xbb\xbf", "x.txt"),
    (b"\xff\xfe", "x.txt"), (b"{", "x.jsonl"), (b"---\n", "x.md"), (b"<html>", "x.html"), (b"HWP Document File", "x.hwp"),
    (b"\xfe\xff\x00<\x00h\x00w\x00p\x00m\x00l", "x.hml"),
)


# =======================================================================================
# Text- and PDF-aware mutations
# =======================================================================================

TEXT_EXTS = (".txt", ".md", ".csv", ".tsv", ".jsonl", ".html", ".hml")
_TOKENS = (
    "제1조(목적)", "제60조의6(정의)", "제 3 조", "①", "②", "⑳", "1.", "5의2.", "가.", "부칙", "삭제 <2020.6.9>",
    "<개정 2020.4.7>", "제1장 총칙", "□", "○", "ㅇ", "-", "*", "※", "붙임", "보도자료", "보도시점 2026. 6. 23.(화)",
    "담당 부서", "---", "...", "```", "~~~", "|", "| a | b |", "|---|---|", "+---+", "#", "###### ", "**", "\\", "[",
    "](", "![", "<", ">", "<br>", "<table>", "<li>", "</div>", '"', "'", ",", ";", "\t", "{", "}", '{"id": 1}',
    '{"a": [', "null", "\ufeff", "\u00a0", "\u3000", "\r", "\x0b", "\x0c", "\u2028", "\u202e", "\ud7a3",
    "…", "&amp;", "&#0;", "&#xD800;", "<!--", "]]>", "\\ud800", ": ", "- ", "  - ", "1\\.", "*a*", "a" * 3000,
)


def mutate_text(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Line- and token-level edits of a text file, kept in its encoding where possible."""
    for enc in ("utf-8", "cp949", "latin-1"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    lines = text.split("\n")
    op = rng.choice(("token", "token", "token", "dup-lines", "del-lines", "swap-lines", "repeat-token", "long-line"))
    i = rng.randrange(len(lines))
    if op == "token":
        for _ in range(rng.randint(1, 5)):
            j = rng.randrange(len(lines))
            k = rng.randint(0, len(lines[j]))
            lines[j] = lines[j][:k] + rng.choice(_TOKENS) + lines[j][k:]
    elif op == "dup-lines":
        lines[i:i] = lines[i : i + rng.randint(1, 10)] * rng.choice((2, 50, 2000))
    elif op == "del-lines":
        del lines[i : i + rng.randint(1, 10)]
    elif op == "swap-lines" and len(lines) > 1:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "repeat-token":
        lines.insert(i, rng.choice(_TOKENS) * rng.choice((100, 10_000)))
    else:
        lines.insert(i, " ".join(rng.choice(_TOKENS) for _ in range(rng.choice((50, 5000)))))
    out = "\n".join(lines)
    try:
        return out.encode(enc if enc != "latin-1" else "utf-8"), f"text-{op}"
    except UnicodeEncodeError:
        return out.encode("utf-8", "surrogatepass"), f"text-{op}"


_PDF_TOKEN = re.compile(rb"-?\d+(?:\.\d+)?|/[A-Za-z]+|<<|>>|\[|\]|\b(?:obj|endobj|stream|endstream|R|null|xref|trailer)\b")
_PDF_SWAPS = (b"0", b"-1", b"99999999", b"1 0 R", b"2 0 R", b"3 0 R", b"<<", b">>", b"[", b"]", b"/FlateDecode", b"/LZWDecode",
              b"/Kids [2 0 R]", b"/Count -1", b"null", b"(", b")", b"stream\n", b"endobj", b"/Parent 3 0 R", b"9 0 obj",
              b"/Type /Pages", b"/Length 999999", b"/Resources 3 0 R", b"/XObject << /X 3 0 R >>", b"/Im1 Do")


def mutate_pdf(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    tokens = list(_PDF_TOKEN.finditer(data[:1_000_000]))
    if not tokens:
        return mutate_bytes(data, rng)
    for _ in range(rng.randint(1, 4)):
        m = rng.choice(tokens)
        data = data[: m.start()] + rng.choice(_PDF_SWAPS) + data[m.end() :]
        tokens = list(_PDF_TOKEN.finditer(data[:1_000_000])) or tokens
    return data, "pdf-token"


def pick_seed(seeds: list[Case], rng: random.Random) -> Case:
    """A seed drawn format first, so that the 100-odd HWP/HWPX samples do not crowd out the rest."""
    groups: dict[str, list[Case]] = {}
    for c in seeds:
        groups.setdefault(Path(c.filename).suffix.lower(), []).append(c)
    return rng.choice(groups[rng.choice(sorted(groups))])


def mutate_case(seed: Case, rng: random.Random, *, secret_uri: str = "") -> Case:
    data = seed.data
    ops: list[str] = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        try:
            if seed.filename.endswith(TEXT_EXTS) and rng.random() < 0.7:
                data, desc = mutate_text(data, rng)
            elif data[:5] == b"%PDF-" and rng.random() < 0.6:
                data, desc = mutate_pdf(data, rng)
            elif data[:8] == OLE_MAGIC and rng.random() < 0.8:
                data, desc = mutate_ole(data, rng)
            elif data[:2] == b"PK" and rng.random() < 0.8:
                data, desc = mutate_zip(data, rng, secret_uri=secret_uri)
            elif data.lstrip()[:1] == b"<" and rng.random() < 0.6:
                data, desc = mutate_xml(data, rng, secret_uri=secret_uri)
            else:
                data, desc = mutate_bytes(data, rng)
        except (struct.error, ValueError, IndexError, zipfile.BadZipFile) as e:  # a mutator met input it cannot parse
            data, desc = mutate_bytes(data, rng)
            desc = f"{desc}(after {type(e).__name__})"
        ops.append(desc)
    return Case(f"{seed.name}+{'|'.join(ops)}", data, seed.filename)


def magic_case(index: int, tail: bytes) -> Case:
    magic, name = MAGICS[index % len(MAGICS)]
    return Case(f"magic:{name}:{len(tail)}", magic + tail, name)


def _hwpx_doc(section: bytes, *, hpf: bytes | None = None, extra: list[tuple[str, bytes]] | None = None) -> bytes:
    hpf = hpf or (
        b'<?xml version="1.0"?><opf:package xmlns:opf="http://www.idpf.org/2007/opf/"><opf:metadata>'
        b"<opf:title>t</opf:title></opf:metadata><opf:manifest><opf:item id=\"s0\" href=\"Contents/section0.xml\"/>"
        b"</opf:manifest><opf:spine><opf:itemref idref=\"s0\"/></opf:spine></opf:package>"
    )
    members = [("mimetype", b"application/hwp+zip"), ("Contents/content.hpf", hpf), ("Contents/section0.xml", section)]
    return _zip(members + (extra or []))


_HP = b'xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph"'


def _section(body: bytes) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?><hs:sec ' + _HP + b">" + body + b"</hs:sec>"


def _para(text: str) -> bytes:
    return b"<hp:p><hp:run><hp:t>" + text.encode() + b"</hp:t></hp:run></hp:p>"


def _docx_with(document: bytes | None = None, rels: bytes | None = None, extra: list[tuple[str, bytes]] | None = None) -> bytes:
    members = zip_members(make_docx()) or []
    out = []
    for name, data in members:
        if name == "word/document.xml" and document is not None:
            data = document
        elif name == "word/_rels/document.xml.rels" and rels is not None:
            data = rels
        out.append((name, data))
    return _zip(out + (extra or []))


def _xlsx_with(replace: dict[str, bytes], extra: list[tuple[str, bytes]] | None = None) -> bytes:
    members = [(n, replace.get(n, d)) for n, d in (zip_members(make_xlsx()) or [])]
    return _zip(members + (extra or []))


def _patch_central(data: bytes, name: str, *, usize: int | None = None, flags: int | None = None,
                   method: int | None = None) -> bytes:
    b = bytearray(data)
    for m in re.finditer(rb"PK\x01\x02", data):
        p = m.start()
        n = struct.unpack_from("<H", b, p + 28)[0]
        if b[p + 46 : p + 46 + n] == name.encode():
            if usize is not None:
                struct.pack_into("<I", b, p + 24, usize)
            if flags is not None:
                struct.pack_into("<H", b, p + 8, flags)
            if method is not None:
                struct.pack_into("<H", b, p + 10, method)
    return bytes(b)


def _hwp_from(section_payload: bytes, *, flags: int = 1, compress: bool = True, extra: dict[str, bytes] | None = None) -> bytes:
    from dasan.ingest.hwp_writer import write_cfb

    header = b"HWP Document File".ljust(32, b"\0") + struct.pack("<II", 0x05010700, flags)
    body = raw_deflate(section_payload) if compress else section_payload
    return write_cfb({"FileHeader": header.ljust(256, b"\0"), "DocInfo": b"", "BodyText/Section0": body, **(extra or {})})


def _zero_deflate(n: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(1 << 20)
    return b"".join(c.compress(block) for _ in range(n >> 20)) + c.flush()


def _paragraph_bomb(mib: int) -> bytes:
    """A raw-deflated section holding one PARA_TEXT record of ``mib`` MiB of Hangul."""
    chunk = "가".encode("utf-16-le") * (1 << 19)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [c.compress(record(66, 0, b"\0" * 22)), c.compress(struct.pack("<II", 67 | (1 << 10) | (0xFFF << 20), mib << 20))]
    parts += [c.compress(chunk) for _ in range(mib)]
    return b"".join(parts) + c.flush()


def _para_recs(text: str, level: int = 0) -> bytes:
    return record(66, level, b"\0" * 22) + record(67, level + 1, (text + "\r").encode("utf-16-le"))


def hostile_cases(shared: Path | None, secret_uri: str, *, heavy: bool = True) -> list[Case]:
    """A fixed list of targeted hostile files, one per known attack on a reader.

    ``heavy=False`` leaves out the cases that take seconds to build or to read (inputs of tens
    of megabytes once decompressed) and uses 16 MiB instead of 64 MiB zip bombs.
    """
    cases: list[Case] = []
    add = cases.append

    def big(make: Callable[[], Case]) -> None:
        if heavy:
            add(make())

    zeros64 = bytes((64 if heavy else 16) << 20)
    # --- ZIP bombs and lying ZIP headers ---------------------------------------------------
    add(Case("hwpx:zip-bomb-section", _hwpx_doc(_section(_para("가")) + b" " * len(zeros64)), "bomb.hwpx"))
    add(Case("docx:zip-bomb-member", _docx_with(extra=[("word/media/bomb.bin", zeros64)]), "bomb.docx"))
    add(Case("xlsx:zip-bomb-sheet", _xlsx_with({}, extra=[("xl/worksheets/bomb.xml", zeros64)]), "bomb.xlsx"))
    big_doc = (b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
               b"<w:body>" + b"<w:p><w:r><w:t>\xea\xb0\x80</w:t></w:r></w:p>" * 1_500_000 + b"</w:body></w:document>")
    big(lambda: Case("docx:huge-document-xml", _docx_with(big_doc), "huge.docx"))
    rows = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>' % (i, i) for i in range(1, 100_000))
    sheet = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             b'<dimension ref="A1:XFD1048576"/><sheetData>' + rows + b"</sheetData></worksheet>")
    big(lambda: Case("xlsx:huge-dimension-many-rows", _xlsx_with({"xl/worksheets/sheet1.xml": sheet}), "rows.xlsx"))
    far = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b'<dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
           b'<row r="1048576"><c r="XFD1048576"><v>2</v></c></row></sheetData></worksheet>')
    add(Case("xlsx:far-corner-cell", _xlsx_with({"xl/worksheets/sheet1.xml": far}), "far.xlsx"))
    small = _hwpx_doc(_section(_para("본문")))
    add(Case("hwpx:declared-4GB", _patch_central(small, "Contents/section0.xml", usize=0xFFFFFFFF), "big.hwpx"))
    add(Case("hwpx:declared-too-small", _patch_central(small, "Contents/section0.xml", usize=3), "small.hwpx"))
    add(Case("hwpx:encrypted-flag", _patch_central(small, "Contents/section0.xml", flags=1), "enc.hwpx"))
    add(Case("hwpx:method-99", _patch_central(small, "Contents/section0.xml", method=99), "m99.hwpx"))
    add(Case("docx:method-99", _patch_central(make_docx(), "word/document.xml", method=99), "m99.docx"))
    add(Case("xlsx:encrypted-flag", _patch_central(make_xlsx(), "xl/workbook.xml", flags=1), "enc.xlsx"))
    add(Case("hwpx:many-members", _hwpx_doc(_section(_para("x")), extra=[(f"BinData/{i}", b"") for i in range(20_001)]),
             "many.hwpx"))
    # --- XML: entity bombs, XXE, deep nesting, huge text ---------------------------------------
    for label, doc in (("bomb", entity_bomb("hs:sec")), ("xxe", xxe("hs:sec", secret_uri))):
        body = _section(b"<hp:p><hp:run><hp:t>" + (b"&e9;" if label == "bomb" else b"&xxe;") + b"</hp:t></hp:run></hp:p>")
        add(Case(f"hwpx:{label}-section", _hwpx_doc(body[:38] + doc + body[38:]), f"{label}.hwpx"))
        add(Case(f"hwpx:{label}-manifest", _hwpx_doc(_section(_para("x")), hpf=b'<?xml version="1.0"?>' + doc.replace(
            b"hs:sec", b"package") + b"<package><title>" + (b"&e9;" if label == "bomb" else b"&xxe;") + b"</title></package>"),
            f"{label}-hpf.hwpx"))
        ent = b"&e9;" if label == "bomb" else b"&xxe;"
        wdoc = (b'<?xml version="1.0"?>' + doc.replace(b"hs:sec", b"w:document") +
                b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
                + ent + b"</w:t></w:r></w:p></w:body></w:document>")
        add(Case(f"docx:{label}", _docx_with(wdoc), f"{label}.docx"))
        ss = (b'<?xml version="1.0"?>' + doc.replace(b"hs:sec", b"sst") +
              b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>' + ent + b"</t></si></sst>")
        add(Case(f"xlsx:{label}-sharedstrings", _xlsx_with({}, extra=[("xl/sharedStrings.xml", ss)]), f"{label}.xlsx"))
        hml = _HWPML.encode().replace(b"<HWPML", doc.replace(b"hs:sec", b"HWPML") + b"<HWPML", 1).replace(
            "시험 문서".encode(), ent)
        add(Case(f"hwpml:{label}", hml, f"{label}.hml"))
        decls = doc[doc.index(b"[") + 1 : doc.rindex(b"]")]
        add(Case(f"html:{label}", b"<!DOCTYPE html [" + decls + b"]><html><body><p>" + ent + b"</p></body></html>",
                 f"{label}.html"))
    for depth in (255, 256, 100_000):
        nest = b"<hp:tbl><hp:tr><hp:tc><hp:subList>" * (depth // 4) + _para("깊이") + b"</hp:subList></hp:tc></hp:tr></hp:tbl>" * (depth // 4)
        add(Case(f"hwpx:nested-tables-{depth}", _hwpx_doc(_section(nest)), f"nest{depth}.hwpx"))
        add(Case(f"hwpx:nested-unknown-{depth}", _hwpx_doc(_section(b"<hp:x>" * depth + _para("a") + b"</hp:x>" * depth)),
                 f"nestx{depth}.hwpx"))
        add(Case(f"hwpx:nested-t-{depth}", _hwpx_doc(_section(b"<hp:p><hp:run><hp:t>" + b"<hp:t>" * depth + b"x" + b"</hp:t>" * depth
                                                              + b"</hp:t></hp:run></hp:p>")), f"nestt{depth}.hwpx"))
    big(lambda: Case("hwpx:huge-text-node", _hwpx_doc(_section(_para("가" * 20_000_000))), "text.hwpx"))
    big(lambda: Case("hwpx:huge-attribute", _hwpx_doc(_section(b'<hp:p a="' + b"x" * 20_000_000 + b'"/>')), "attr.hwpx"))
    add(Case("hwpx:wide-table", _hwpx_doc(_section(
        b"<hp:tbl>" + b"".join(b'<hp:tr><hp:tc><hp:cellAddr colAddr="0" rowAddr="%d"/><hp:cellSpan colSpan="65535" rowSpan="65535"/>'
                               b"<hp:subList>" % i + _para("c") + b"</hp:subList></hp:tc></hp:tr>" for i in range(2000))
        + b"</hp:tbl>")), "wide.hwpx"))
    add(Case("hwpx:cell-address-overflow", _hwpx_doc(_section(
        b'<hp:tbl><hp:tr><hp:tc><hp:cellAddr colAddr="999999999999999999999" rowAddr="-5"/></hp:tc>'
        b'<hp:tc><hp:cellAddr colAddr="1000000" rowAddr="1000000"/></hp:tc></hp:tr></hp:tbl>')), "addr.hwpx"))
    add(Case("hwpml:deep", _HWPML.encode().replace(b"<P><TEXT><CHAR>", b"<P><TEXT>" + b"<X>" * 250 + b"<CHAR>", 1).replace(
        b"</CHAR></TEXT></P>", b"</CHAR>" + b"</X>" * 250 + b"</TEXT></P>", 1), "deep.hml"))
    add(Case("docx:deep-sdt", _docx_with(
        b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        + b"<w:sdt><w:sdtContent>" * 120 + b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" + b"</w:sdtContent></w:sdt>" * 120
        + b"</w:body></w:document>"), "sdt.docx"))
    # --- HWP 5.0 records and OLE structure ------------------------------------------------------
    add(Case("hwp:record-size-4GB", _hwp_from(_para_recs("가") + record(67, 1, b"", size=0xFFFFFFFF)), "size.hwp"))
    add(Case("hwp:stored-but-flagged-compressed", _hwp_from(_para_recs("가"), compress=False), "flag.hwp"))
    add(Case("hwp:compressed-but-flagged-stored", _hwp_from(_para_recs("가"), flags=0, compress=True), "flag0.hwp"))
    big(lambda: Case("hwp:inflate-bomb", _hwp_from(b"", extra={"BodyText/Section0": _zero_deflate(300 << 20)}), "bomb.hwp"))
    add(Case("hwp:paragraph-ratio-bomb", _hwp_from(b"", extra={"BodyText/Section0": _paragraph_bomb(8)}), "para.hwp"))
    big(lambda: Case("hwp:one-190MB-paragraph", _hwp_from(b"", extra={"BodyText/Section0": _paragraph_bomb(190)}), "para.hwp"))
    big(lambda: Case("hwp:two-million-records", _hwp_from(record(66, 0, b"") * 2_000_001), "recs.hwp"))
    add(Case("hwp:level-chain-1023", _hwp_from(b"".join(record(0, k, b"") for k in range(1024)) + _para_recs("x")), "chain.hwp"))
    add(Case("hwp:huge-table-grid", _hwp_from(record(66, 0, b"\0" * 22) + record(67, 1, b"\x0b\0" + b" lbt"[::-1] + b"\0" * 10)
                                             + record(71, 1, b" lbt") + record(77, 2, b"\0" * 4 + b"\xff\xff\xff\xff")
                                             + b"".join(record(72, 2, b"\0" * 8 + struct.pack("<HH", i % 7, i)) + _para_recs("c", 2)
                                                        for i in range(3000))), "grid.hwp"))
    add(Case("hwp:odd-paratext", _hwp_from(record(66, 0, b"") + record(67, 1, b"\x41\x00\x0b\x00\x20")), "odd.hwp"))
    add(Case("hwp:summary-lies", _hwp_from(_para_recs("본문"), extra={"\x05HwpSummaryInformation": b"\xfe\xff" + b"\0" * 42
                                                                  + struct.pack("<IIIII", 48, 0, 0xFFFFFFFF, 2, 0xFFFFFF00)}),
             "summary.hwp"))
    add(Case("hwp:distribution-garbage", _hwp_from(b"", flags=5, extra={"ViewText/Section0": b"\x1c\x00\x00\x10"
                                                                       + bytes(range(256)) + b"\x00" * 35}), "dist.hwp"))
    ole = bytearray(_hwp_from(_para_recs("루프")))
    struct.pack_into("<I", ole, 0x30, 0)  # directory starts at sector 0 ...
    add(Case("ole:directory-at-sector-0", bytes(ole), "dir0.hwp"))
    ole = bytearray(_hwp_from(_para_recs("루프")))
    fat_sector = struct.unpack_from("<I", ole, 0x4C)[0]
    struct.pack_into("<I", ole, 512 + fat_sector * 512, 0)  # sector 0 chains to itself
    add(Case("ole:fat-self-loop", bytes(ole), "loop.hwp"))
    ole = bytearray(_hwp_from(_para_recs("루프")))
    add(Case("ole:sector-shift-huge", bytes(ole[:0x1E]) + b"\x1f\x00" + bytes(ole[0x20:]), "shift.hwp"))
    add(Case("ole:header-only", OLE_MAGIC + b"\0" * 504, "hdr.hwp"))
    # --- PDF ----------------------------------------------------------------------------------
    pdf = make_pdf(["x"])
    add(Case("pdf:deep-array", pdf.replace(b"/MediaBox [0 0 595 842]", b"/MediaBox " + b"[" * 100_000 + b"]" * 100_000), "deep.pdf"))
    add(Case("pdf:deep-dict", pdf.replace(b"/Author (Dasan)", b"/Author " + b"<</A " * 50_000 + b">>" * 50_000), "dict.pdf"))
    add(Case("pdf:pages-cycle", pdf.replace(b"/Kids [3 0 R]", b"/Kids [2 0 R 3 0 R]"), "cycle.pdf"))
    add(Case("pdf:count-huge", pdf.replace(b"/Count 1", b"/Count 999999999"), "count.pdf"))
    big(lambda: Case("pdf:content-bomb", make_pdf([], raw_content=zlib.compress(b"0 0 m " * 20_000_000, 9)), "cbomb.pdf"))
    big(lambda: Case("pdf:zero-bomb", make_pdf([], raw_content=zlib.compress(bytes(300_000_000), 9)), "zbomb.pdf"))
    add(Case("pdf:xref-prev-loop", pdf.replace(b"/Info 6 0 R", b"/Info 6 0 R /Prev 0"), "prev.pdf"))
    add(Case("pdf:no-xref-garbage", b"%PDF-1.4\n" + b"1 0 obj << /Type /Catalog /Pages 1 0 R >> endobj\n" * 5000, "garbage.pdf"))
    head = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"", b"<< /Length 30 >>\nstream\nBT /F1 9 Tf (Seite) Tj ET\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", b"<< /Title (t) >>"]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 99 99] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
    n = 20_000 if heavy else 3000
    head[1], head[2] = b"<< /Type /Pages /Kids [" + b"3 0 R " * n + b"] /Count %d >>" % n, page
    add(Case("pdf:one-page-listed-many-times", pdf_from_objects(head), "kids.pdf"))
    text = zlib.compress(b"BT /F1 9 Tf " + b"(Many words of text repeated on every page) Tj T* " * 4000 + b"ET", 9)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"", b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(text)
            + text + b"\nendstream", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", b"<< /Title (t) >>"]
    objs += [page] * n
    kids = b" ".join(b"%d 0 R" % (7 + i) for i in range(n))
    objs[1], objs[2] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % n, b"null"
    add(Case("pdf:pages-sharing-one-big-content-stream", pdf_from_objects(objs), "shared.pdf"))
    loop = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 99 99] /Contents 4 0 R /Resources << /XObject << /X 7 0 R >> "
            b"/Font << /F1 5 0 R >> >> >>", b"<< /Length 5 >>\nstream\n/X Do\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", b"<< /Title (t) >>",
            b"<< /Type /XObject /Subtype /Form /BBox [0 0 9 9] /Resources << /XObject << /X 7 0 R >> /Font << /F1 5 0 R >> >> "
            b"/Length 28 >>\nstream\nBT /F1 9 Tf (x) Tj ET /X Do\nendstream"]
    add(Case("pdf:form-xobject-draws-itself", pdf_from_objects(loop), "xloop.pdf"))
    form = zlib.compress(b"BT /F1 9 Tf " + b"(abc) Tj " * 1000 + b"ET", 9)
    loop[3] = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(draw := zlib.compress(b"/X Do " * 5000, 9)) + draw + b"\nendstream"
    loop[6] = (b"<< /Type /XObject /Subtype /Form /BBox [0 0 9 9] /Resources << /Font << /F1 5 0 R >> >> "
               b"/Length %d /Filter /FlateDecode >>\nstream\n" % len(form) + form + b"\nendstream")
    add(Case("pdf:form-xobject-drawn-5000-times", pdf_from_objects(loop), "xmany.pdf"))
    add(Case("pdf:encrypted-unknown", pdf.replace(b"/Info 6 0 R", b"/Info 6 0 R /Encrypt << /Filter /Weird /V 9 /R 9 >>"),
             "enc.pdf"))
    # --- text formats -------------------------------------------------------------------------
    big(lambda: Case("csv:huge-field", b'a,b\n"' + b"x" * 5_000_000 + b'",1\n', "field.csv"))
    add(Case("csv:sniffer-quotes", (b'"a"' + b',"b' * 20_000 + b"\n") * 3, "quotes.csv"))
    add(Case("csv:many-columns", b",".join(b"c%d" % i for i in range(200_000)) + b"\n" + b"1," * 200_000 + b"\n", "wide.csv"))
    add(Case("csv:nul-bytes", b"a,b\n1,\x00\x00\n", "nul.csv"))
    add(Case("jsonl:deep", b"{\"a\":" + b"[" * 200_000 + b"]" * 200_000 + b"}\n", "deep.jsonl"))
    add(Case("jsonl:huge-number", b'{"a": 1e999999}\n{"b": -1e999999}\n{"c": NaN}\n', "num.jsonl"))
    add(Case("jsonl:lone-surrogate", b'{"text": "\\ud800\\udfff\\ud800"}\n', "sur.jsonl"))
    add(Case("md:yaml-deep", b"---\na: " + b"[" * 100_000 + b"]" * 100_000 + b"\n---\nx\n", "deep.md"))
    add(Case("md:yaml-python-tag", b"---\na: !!python/object/apply:os.system ['echo pwned']\n---\nx\n", "tag.md"))
    add(Case("md:yaml-bad-date", b"---\ndate: 2026-13-45\nt: 9999-99-99T99:99:99\n---\nx\n", "date.md"))
    add(Case("md:nested-lists", b"".join(b" " * i + b"- x\n" for i in range(3000)), "lists.md"))
    add(Case("md:unclosed-fence", b"```\n" + b"code\n" * 100_000, "fence.md"))
    big(lambda: Case("md:table-rows", b"| a | b |\n|---|---|\n" + b"| 1 | 2 |\n" * 200_000, "table.md"))
    for tag in (b"span", b"b", b"a", b"p", b"li", b"font", b"td", b"table", b"select", b"svg", b"i"):
        add(Case(f"html:nested-{tag.decode()}", b"<html><body>" + b"<%s>" % tag * 50_000 + "본문".encode(), f"n-{tag.decode()}.html"))
    add(Case("html:bad-charset", b'<html><head><meta charset="utf-7"></head><body>+ACI-</body></html>', "c.html"))
    add(Case("html:charset-cp1252-binary", b'<html><meta charset="x-user-defined"><body>' + bytes(range(128, 256)) * 10, "b.html"))
    add(Case("html:ol-start-huge", b"<ol start='999999999999999999999999999'><li>a</li></ol>", "ol.html"))
    add(Case("txt:undecodable", bytes(range(128, 256)) * 100, "bin.txt"))
    big(lambda: Case("txt:one-huge-line", "가".encode() * 10_000_000, "line.txt"))
    big(lambda: Case("txt:many-lines", b"x\n" * 1_000_000, "lines.txt"))
    big(lambda: Case("txt:law-like-huge", ("제1조(목적) " + "가" * 5000 + "\n").encode() * 2000, "law.txt"))
    big(lambda: Case("txt:press-like", (_PRESS + "□ 항목\n" * 50_000).encode(), "press.txt"))
    add(Case("txt:article-numbers-huge", "".join(f"제{n}조(x) 내용\n" for n in (99999999, 1, 2, 3, 10**30)).encode(), "art.txt"))
    add(Case("txt:empty-after-bom", b"\xef\xbb\xbf", "bom.txt"))
    add(Case("txt:utf16-odd", b"\xff\xfe" + b"A\x00" * 10 + b"\x00", "odd.txt"))
    add(Case("txt:utf32-bad", b"\xff\xfe\x00\x00" + b"\xff\xff\xff\xff" * 4, "u32.txt"))
    add(Case("any:single-byte", b"\x00", "x"))
    add(Case("any:zip-empty", b"PK\x05\x06" + b"\0" * 18, "x.hwpx"))
    add(Case("any:old-hwp3", b"HWP Document File V3.00 \x1a\x01\x02\x03\x04\x05", "old.hwp"))
    if shared is not None:
        real = shared / "data" / "hwp-samples" / "hwp" / "viewtext.hwp"
        if real.exists():
            streams = ole_streams(real.read_bytes()) or {}
            if "ViewText/Section0" in streams:
                from dasan.ingest.hwp_writer import write_cfb

                vt = bytearray(streams["ViewText/Section0"])
                vt[300:] = bytes(len(vt) - 300)
                add(Case("hwp:distribution-zeroed-cipher", write_cfb({**streams, "ViewText/Section0": bytes(vt)}), "vt.hwp"))
    return cases


def traversal_cases(secret_uri: str) -> list[Case]:
    """ZIP members, manifests and relationships that point outside the file."""
    cases = []
    for name in HOSTILE_MEMBER_NAMES:
        inside = b"text stored inside the archive"
        cases.append(Case(f"hwpx:member:{name[:40]!r}", _hwpx_doc(_section(_para("본문")), extra=[(name, inside)]),
                          "member.hwpx"))
        cases.append(Case(f"docx:member:{name[:40]!r}", _docx_with(extra=[(name, inside)]), "member.docx"))
        cases.append(Case(f"xlsx:member:{name[:40]!r}", _xlsx_with({}, extra=[(name, inside)]), "member.xlsx"))
    for href in ("../../../../etc/passwd", "/etc/passwd", "file:///etc/passwd", secret_uri, "../secret.txt",
                 "Contents/../../../secret.txt", "Contents/section0.xml\x00"):
        esc = href.replace("&", "&amp;").replace('"', "&quot;").replace("\x00", "&#0;")
        hpf = (b'<?xml version="1.0"?><opf:package xmlns:opf="http://www.idpf.org/2007/opf/"><opf:manifest>'
               b'<opf:item id="s0" href="' + esc.encode() + b'"/><opf:item id="s1" href="section0.xml"/></opf:manifest>'
               b'<opf:spine><opf:itemref idref="s0"/><opf:itemref idref="s1"/></opf:spine></opf:package>')
        container = (b'<?xml version="1.0"?><container><rootfiles><rootfile full-path="' + esc.encode() +
                     b'"/></rootfiles></container>')
        cases.append(Case(f"hwpx:href:{href[:40]!r}", _hwpx_doc(_section(_para("본문")), hpf=hpf,
                                                                extra=[("META-INF/container.xml", container)]), "href.hwpx"))
        docx_rels = dict(zip_members(make_docx()) or [])["word/_rels/document.xml.rels"]
        docx_rels = docx_rels.replace(b'Target="styles.xml"', b'Target="' + esc.encode() + b'"').replace(
            b"</Relationships>", b'<Relationship Id="rId99" TargetMode="External" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/image" Target="' + esc.encode() + b'"/></Relationships>')
        cases.append(Case(f"docx:rels:{href[:40]!r}", _docx_with(rels=docx_rels), "rels.docx"))
        wb_rels = dict(zip_members(make_xlsx()) or [])["xl/_rels/workbook.xml.rels"]
        wb_rels = wb_rels.replace(b'Target="/xl/worksheets/sheet2.xml"', b'Target="' + esc.encode() + b'"')
        cases.append(Case(f"xlsx:rels:{href[:40]!r}", _xlsx_with({"xl/_rels/workbook.xml.rels": wb_rels}), "rels.xlsx"))
    return cases


# File names on disk: ``read_file`` gets these paths as given.
HOSTILE_FILE_NAMES = (
    "줄\n바꿈.hwp", "rtl-\u202egpj.hwp", "tab\tesc\x1b[31m.txt", "-leading-dash.txt", "..dots..txt",
    "가" * 80 + ".txt", "공백 있는 이름 .pdf", "\u200b\u2066zero.docx", "x" * 250,
)


# =======================================================================================
# Worker (runs inside the subprocess)
# =======================================================================================

_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def message_problem(text: str, *, korean: bool = True) -> str | None:
    """Why an error message is not acceptable to show a user, or ``None``."""
    if not text.strip():
        return "empty message"
    if korean and not re.search(r"[\uac00-\ud7a3]", text):
        return "message is not Korean"
    bad = [c for c in text if unicodedata.category(c) == "Cc" or c in _BIDI]
    if bad:
        return f"raw control/bidi characters {sorted(set(bad))!r} in message"
    if len(text) > 4000:
        return f"message too long ({len(text)} chars)"
    return None


class FileGuard:
    """Audit hook: records any file a case opens besides its own (and any write at all)."""

    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    EVENTS = ("open", "os.listdir", "os.scandir", "os.remove", "os.rename", "os.mkdir", "os.rmdir", "os.truncate",
              "os.chmod", "os.link", "os.symlink", "shutil.copyfile", "shutil.rmtree", "tempfile.mkstemp")

    def __init__(self) -> None:
        import site
        import sysconfig

        roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(REPO / "dasan"), *site.getsitepackages(),
                 *sysconfig.get_paths().values(), "/usr/", "/lib", "/proc/", "/sys/", "/dev/"}
        self.roots = tuple(os.path.realpath(r) for r in roots if r)
        self.active = False
        self.allowed: set[str] = set()
        self.violations: list[str] = []

    def begin(self, path: str) -> None:
        self.allowed = {os.path.realpath(path)} if "\x00" not in path else set()
        self.violations = []
        self.active = True

    def end(self) -> list[str]:
        self.active = False
        return self.violations

    def __call__(self, event: str, args: tuple) -> None:
        if not self.active or event not in self.EVENTS:
            return
        self.active = False  # no recursion through realpath
        try:
            self._check(event, args)
        finally:
            self.active = True

    def _check(self, event: str, args: tuple) -> None:
        target = args[0] if args else None
        if isinstance(target, int) or target is None:
            return
        try:
            path = os.path.realpath(os.fsdecode(target))
        except (TypeError, ValueError):
            path = repr(target)
        if "__pycache__" in path:  # the import system caching bytecode
            return
        write = event != "open" and event not in ("os.listdir", "os.scandir")
        if event == "open":
            mode, flags = (*args, None, None)[1:3]
            write = bool(mode and any(c in str(mode) for c in "wax+")) or bool(isinstance(flags, int) and flags & self.WRITE_FLAGS)
        if write:
            self.violations.append(f"{event} for writing: {path}")
        elif path not in self.allowed and not path.startswith(self.roots):
            self.violations.append(f"{event}: {path}")


def _vm_kb(field_name: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _wrapped_by_read_file(e: BaseException) -> bool:
    """True when ``read_file``'s last-resort handler turned an unexpected exception into a ReadError."""
    from dasan.errors import DasanError, ReadError

    if type(e) is not ReadError or e.__cause__ is None or isinstance(e.__cause__, DasanError):
        return False
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_name == "read_file" and "readers" in tb.tb_frame.f_code.co_filename


def _short_tb(e: BaseException) -> str:
    lines = traceback.format_exception(type(e), e, e.__traceback__)
    text = "".join(lines)
    return text[-3000:]


def run_one(path: str, mode: str, guard: FileGuard | None = None) -> dict[str, object]:
    from dasan.errors import DasanError
    from dasan.ingest.chunking import chunk_document
    from dasan.ingest.readers import read_file
    from dasan.ingest.structure import detect_kind
    from dasan.types import Document

    outcome, detail = "doc", ""
    if mode.startswith("probe-"):  # checks of the oracle itself (tests/test_fuzz_readers.py)
        return _probe(mode, path)
    try:
        doc = read_file(path)
        if not isinstance(doc, Document):
            raise TypeError(f"read_file returned {type(doc).__name__}")
        blob = json.dumps([doc.title, [(b.text, b.rows) for b in doc.blocks]], ensure_ascii=False, default=str)
        if mode == "pipeline":
            doc.kind = detect_kind(doc)
            chunks = chunk_document(doc, "fuzz")
            blob += "".join(c.text + c.citation.label for c in chunks)
            for c in chunks:  # what the store writes must encode as UTF-8 JSON
                json.dumps([c.text, c.context, c.citation.__dict__], ensure_ascii=False).encode()
                json.dumps(c.meta, ensure_ascii=False, default=str).encode()
            detail = f"{doc.format}/{doc.kind} blocks={len(doc.blocks)} chunks={len(chunks)}"
        else:
            detail = f"{doc.format} blocks={len(doc.blocks)}"
        json.dumps(doc.metadata, ensure_ascii=False, default=str).encode()
        if SENTINEL in blob or SENTINEL in json.dumps(doc.metadata, default=str):
            outcome, detail = "leak", "secret file content appears in the document"
    except DasanError as e:
        if guard is not None:
            guard.active = False  # formatting a traceback reads source files
        if _wrapped_by_read_file(e):
            cause = e.__cause__
            assert cause is not None
            outcome, detail = "bug", f"{type(cause).__name__} reached read_file's fallback:\n{_short_tb(cause)}"
        else:
            problem = message_problem(e.message) or message_problem(str(e), korean=False)
            outcome = "bad-message" if problem else "error"
            detail = f"{type(e).__name__}: {e.message[:300]!r}" + (f" -- {problem}" if problem else "")
            if SENTINEL in str(e):
                outcome, detail = "leak", "secret file content appears in an error message"
    except BaseException as e:  # anything else is what we are looking for
        if guard is not None:
            guard.active = False
        outcome, detail = "bug", f"{type(e).__name__} escaped:\n{_short_tb(e)}"
    return {"outcome": outcome, "detail": detail}


_HEADROOM_MB = 1024


def _probe(mode: str, path: str) -> dict[str, object]:
    if mode == "probe-open":
        (Path(path).parent.parent / "secret.txt").read_text()
    elif mode == "probe-hang":
        time.sleep(3600)
    elif mode == "probe-memory":  # more than the headroom, far less than the machine has
        try:
            bytearray((_HEADROOM_MB + 256) << 20)
        except MemoryError:
            return {"outcome": "bug", "detail": "MemoryError escaped"}
    return {"outcome": "doc", "detail": mode}


def _warm_up() -> None:
    """Import every reader and load Kiwi before the memory limit and the audit hook start."""
    from dasan.ingest.chunking import chunk_document
    from dasan.ingest.readers import read_file
    from dasan.ingest.structure import detect_kind
    from dasan.korean.sentences import get_kiwi, pack_sentences

    get_kiwi()
    pack_sentences("첫 문장입니다. 둘째 문장입니다. " * 100, 100)
    with tempfile.TemporaryDirectory() as d:
        for case in generated_seeds():
            p = Path(d) / case.filename
            p.write_bytes(case.data)
            with contextlib.suppress(Exception):
                doc = read_file(p)
                doc.kind = detect_kind(doc)
                chunk_document(doc, "warm")


def worker_main(mem_mb: int) -> int:
    import resource

    global _HEADROOM_MB
    _HEADROOM_MB = mem_mb
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # library prints must not corrupt the protocol
    _warm_up()
    base = _vm_kb("VmSize") * 1024
    limit = base + mem_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    guard = FileGuard()
    sys.addaudithook(guard)
    rss0 = _vm_kb("VmRSS") / 1024
    proto.write(json.dumps({"ready": True, "vm_mb": base >> 20, "limit_mb": limit >> 20, "rss_mb": rss0}) + "\n")
    for line in sys.stdin:
        req = json.loads(line)
        _reset_peak()
        started = time.perf_counter()
        guard.begin(req["path"])
        try:
            res = run_one(req["path"], req.get("mode", "pipeline"), guard)
        finally:
            violations = guard.end()
        if violations:
            res = {"outcome": "file-access", "detail": "; ".join(violations[:5])}
        res["secs"] = time.perf_counter() - started
        res["rss_mb"] = _vm_kb("VmHWM") / 1024
        proto.write(json.dumps(res) + "\n")
    return 0


# =======================================================================================
# Runner (parent side)
# =======================================================================================


class Runner:
    """Feeds cases to a worker subprocess; restarts it after a hang or a crash."""

    def __init__(self, *, timeout: float = 20.0, mem_mb: int = 1024, save_dir: Path | None = None) -> None:
        self.timeout = timeout
        self.mem_mb = mem_mb
        self.root = Path(tempfile.mkdtemp(prefix="dasan-fuzz-run-"))
        self.cases_dir = self.root / "cases"
        self.cases_dir.mkdir()
        (self.root / "secret.txt").write_text(SENTINEL)
        self.secret_uri = (self.root / "secret.txt").as_uri()
        self.save_dir = save_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, object] = {}
        self.count = 0
        self.failures: list[Result] = []
        self.max_rss = 0.0

    # -- process handling ------------------------------------------------------------------
    def _start(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", "--mem-mb", str(self.mem_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=self.cases_dir, env=env,
            start_new_session=True,
        )
        line = self._readline(180.0)
        if not line:
            self._kill()
            raise RuntimeError("fuzz worker failed to start")
        self.info = json.loads(line)

    def _readline(self, timeout: float) -> bytes | None:
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        return self.proc.stdout.readline()

    def _kill(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        if self.proc is not None and self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._kill()
            self.proc = None
        shutil.rmtree(self.root, ignore_errors=True)  # scratch files only; reproducers live in save_dir

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running cases ---------------------------------------------------------------------
    def run(self, case: Case, *, path: str | None = None) -> Result:
        """Run one case; ``path`` overrides where the worker is told to read (hostile names)."""
        if self.proc is None:
            self._start()
        assert self.proc is not None and self.proc.stdin is not None
        target = self.cases_dir / case.filename
        if path is None:
            target.write_bytes(case.data)
        self.count += 1
        req = json.dumps({"path": path or str(target), "mode": case.mode}) + "\n"
        started = time.perf_counter()
        try:
            self.proc.stdin.write(req.encode())
            self.proc.stdin.flush()
            line = self._readline(self.timeout)
        except BrokenPipeError:
            line = b""
        secs = time.perf_counter() - started
        if line is None:
            self._kill()
            result = Result(case.name, "hang", f"no answer within {self.timeout:.0f} s", secs)
        elif not line:
            code = self.proc.wait()
            self.proc = None
            why = "killed (memory?)" if code == -signal.SIGKILL else f"exit code {code}"
            result = Result(case.name, "crash", f"worker died: {why}", secs)
        else:
            res = json.loads(line)
            result = Result(case.name, str(res["outcome"]), str(res["detail"]), float(res["secs"]), float(res["rss_mb"]))
            self.max_rss = max(self.max_rss, result.rss_mb)
        if path is None:
            with contextlib.suppress(OSError):
                target.unlink()
        if not result.ok:
            result.saved = self._save(case, result)
            self.failures.append(result)
        return result

    def _save(self, case: Case, result: Result) -> str:
        if self.save_dir is None:
            self.save_dir = Path(tempfile.mkdtemp(prefix="dasan-fuzz-"))
        ext = Path(case.filename).suffix or ".bin"
        stem = f"{len(self.failures) + 1:04d}-{result.outcome}"
        dest = self.save_dir / (stem + ext)
        dest.write_bytes(case.data)
        (self.save_dir / (stem + ".case.txt")).write_text(
            f"case: {case.name}\nfile name: {case.filename!r}\noutcome: {result.outcome}\n\n{result.detail}\n\n"
            f"replay: {sys.executable} scripts/fuzz_readers.py --replay {dest} --as-name {case.filename}\n",
            encoding="utf-8",
        )
        return str(dest)


# =======================================================================================
# Command line
# =======================================================================================


def case_stream(seeds: list[Case], rng: random.Random, secret_uri: str) -> Iterator[Case]:
    while True:
        r = rng.random()
        if r < 0.08:
            yield magic_case(rng.randrange(len(MAGICS)), rng.randbytes(rng.choice((0, 16, 600, 5000))))
        else:
            yield mutate_case(pick_seed(seeds, rng), rng, secret_uri=secret_uri)


def fuzz(seconds: float, seed: int, *, timeout: float, mem_mb: int, targeted: bool, out: Path | None,
         verbose: bool = False) -> int:
    from dasan.config import shared_dir

    shared = shared_dir() if shared_dir().exists() else None
    seeds = all_seeds(shared)
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    with Runner(timeout=timeout, mem_mb=mem_mb, save_dir=out) as runner:
        started = time.monotonic()

        def report(res: Result) -> None:
            counts[res.outcome] = counts.get(res.outcome, 0) + 1
            if verbose:
                print(f"{res.outcome:11s} {res.secs:6.2f}s {res.rss_mb:5.0f}MB  {res.case[:90]}  {res.detail[:100]!r}",
                      flush=True)
            if not res.ok:
                print(f"FAIL {res.outcome}: {res.case}\n  {res.detail.splitlines()[0] if res.detail else ''}\n"
                      f"  saved: {res.saved}", flush=True)

        if targeted:
            for case in hostile_cases(shared, runner.secret_uri) + traversal_cases(runner.secret_uri):
                report(runner.run(case))
        for case in case_stream(seeds, rng, runner.secret_uri):
            if time.monotonic() - started >= seconds:
                break
            report(runner.run(case))
        elapsed = time.monotonic() - started
        print(f"\nseeds: {len(seeds)}  worker: {runner.info}")
        print(f"cases: {runner.count} in {elapsed:.1f} s = {runner.count / max(elapsed, 1e-9):.1f} cases/s; "
              f"outcomes: {dict(sorted(counts.items()))}; peak worker RSS {runner.max_rss:.0f} MB")
        if runner.failures:
            print(f"{len(runner.failures)} failure(s); reproducers in {runner.save_dir}")
            return 1
        print("no failures")
        return 0


def replay(path: Path, name: str | None, *, timeout: float, mem_mb: int) -> int:
    with Runner(timeout=timeout, mem_mb=mem_mb) as runner:
        res = runner.run(Case(f"replay:{path.name}", path.read_bytes(), name or path.name))
        print(f"{res.outcome} in {res.secs:.2f} s, peak RSS {res.rss_mb:.0f} MB\n{res.detail}")
        return 0 if res.ok else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="how long to fuzz (default 60)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (runs are reproducible per seed)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds allowed per case (default 30)")
    ap.add_argument("--mem-mb", type=int, default=1024, help="address-space headroom of the worker in MiB")
    ap.add_argument("--no-targeted", action="store_true", help="skip the fixed list of hostile files")
    ap.add_argument("--out", type=Path, help="where to save failing inputs (default: a new temp dir)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every case with its outcome and time")
    ap.add_argument("--replay", type=Path, help="run one saved input and print the outcome")
    ap.add_argument("--as-name", help="file name to give the replayed input (extension matters)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker_main(args.mem_mb)
    if args.replay:
        return replay(args.replay, args.as_name, timeout=args.timeout, mem_mb=args.mem_mb)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    return fuzz(args.seconds, args.seed, timeout=args.timeout, mem_mb=args.mem_mb, targeted=not args.no_targeted,
                out=args.out, verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())
