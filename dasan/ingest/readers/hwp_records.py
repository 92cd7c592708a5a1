"""Low-level HWP 5.0 pieces: bounded raw-deflate, the record stream and PARA_TEXT decoding.

A stream is a flat sequence of records; each header is one little-endian UINT32 with the
tag id in bits 0-9, the nesting level in bits 10-19 and the payload size in bits 20-31
(0xFFF means the real size follows as another UINT32). Records are kept flat here; the
tree is navigated through :meth:`RecordStream.children`, where a record's subtree is the
run of following records with a deeper level (so a level jump never loses records).
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from dasan.errors import CorruptFileError, FileTooLargeError
from dasan.ingest.safezip import MAX_RATIO, RATIO_FLOOR

# Tag ids (HWPTAG_BEGIN = 16).
DISTRIBUTE_DOC_DATA = 28
PARA_HEADER = 66
PARA_TEXT = 67
CTRL_HEADER = 71
LIST_HEADER = 72
SHAPE_COMPONENT = 76
TABLE = 77
EQEDIT = 88

#: Largest number of records accepted in one stream (each costs a small Python object).
MAX_RECORDS = 2_000_000

# PARA_TEXT control characters. Char controls take one UTF-16 unit; inline and extended
# controls take eight (code, six units of parameters, code). Extended controls stand for a
# CTRL_HEADER record of the same paragraph, in the same order.
CHAR_CONTROLS = frozenset({0, 10, 13, 24, 25, 26, 27, 28, 29, 30, 31})
EXTENDED_CONTROLS = frozenset({1, 2, 3, 11, 12, 14, 15, 16, 17, 18, 21, 22, 23})
_CHAR_REPLACEMENT = {10: "\n", 24: "-", 30: " ", 31: " "}
PARA_END = 13
TAB = 9


def inflate(data: bytes, stream: str, limit: int) -> bytes:
    """Raw-inflate ``data`` without ever producing more than ``limit`` bytes, nor more than
    ``MAX_RATIO`` times its size once past ``RATIO_FLOOR`` (the rule :mod:`~dasan.ingest.safezip`
    applies to HWPX: a 200 KB section must not become a 200 MB paragraph)."""
    d = zlib.decompressobj(-15)
    ratio_cap = max(RATIO_FLOOR, MAX_RATIO * len(data))
    try:
        out = d.decompress(data, min(limit, ratio_cap) + 1)
    except zlib.error as e:
        raise CorruptFileError(
            f"HWP '{stream}' 스트림의 압축 데이터가 손상되었습니다 ({e}). 원본 파일을 한글에서 다시 저장해 주세요."
        ) from e
    if len(out) > ratio_cap and ratio_cap < limit:
        raise FileTooLargeError(
            f"HWP '{stream}' 스트림의 압축률이 비정상적으로 높습니다 ({MAX_RATIO}:1 초과, 압축 폭탄 의심). "
            "신뢰할 수 있는 원본 파일을 사용하세요."
        )
    if len(out) > limit:
        raise FileTooLargeError(
            f"HWP '{stream}' 스트림의 압축을 풀면 한도({limit:,}바이트)를 넘습니다 (압축 폭탄 의심). "
            "정상 문서라면 DASAN_MAX_STREAM_BYTES 한도를 올리세요."
        )
    if not d.eof:
        raise CorruptFileError(
            f"HWP '{stream}' 스트림의 압축 데이터가 중간에 끊겼습니다 (파일이 잘렸을 수 있음). "
            "원본 파일을 다시 받아 주세요."
        )
    return out


@dataclass(slots=True)
class Record:
    tag: int
    level: int
    payload: bytes


class RecordStream:
    """The records of one stream with precomputed subtree ends."""

    def __init__(self, records: list[Record]) -> None:
        self.records = records
        self._end = _subtree_ends(records)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> Record:
        return self.records[i]

    def roots(self) -> Iterator[int]:
        i, n = 0, len(self.records)
        while i < n:
            yield i
            i = self._end[i]

    def children(self, i: int) -> Iterator[int]:
        c, end = i + 1, self._end[i]
        while c < end:
            yield c
            c = self._end[c]


def _subtree_ends(records: list[Record]) -> list[int]:
    n = len(records)
    end = [n] * n
    stack: list[int] = []
    for i, r in enumerate(records):
        while stack and records[stack[-1]].level >= r.level:
            end[stack.pop()] = i
        stack.append(i)
    return end


def parse_records(data: bytes, stream: str, *, strict: bool = True) -> RecordStream:
    """Split a decompressed stream into records.

    ``strict`` rejects a record that runs past the end of the stream; otherwise the stream
    is cut at the last complete record (used for decrypted streams that carry padding).
    """
    records: list[Record] = []
    pos, n = 0, len(data)
    unpack = struct.unpack_from
    while pos + 4 <= n:
        header = unpack("<I", data, pos)[0]
        tag, level, size = header & 0x3FF, (header >> 10) & 0x3FF, header >> 20
        pos += 4
        if size == 0xFFF:
            if pos + 4 > n:
                break
            size = unpack("<I", data, pos)[0]
            pos += 4
        if pos + size > n:
            if strict:
                raise CorruptFileError(
                    f"HWP '{stream}' 스트림의 레코드가 스트림 끝을 넘어갑니다 (잘리거나 손상된 파일). "
                    "원본 파일을 한글에서 다시 저장해 주세요."
                )
            return RecordStream(records)
        records.append(Record(tag, level, data[pos : pos + size]))
        if len(records) > MAX_RECORDS:
            raise FileTooLargeError(
                f"HWP '{stream}' 스트림의 레코드가 너무 많습니다 ({MAX_RECORDS:,}개 초과). 문서를 나누어 저장해 주세요."
            )
        pos += size
    if strict and pos < n and any(data[pos:]):
        raise CorruptFileError(
            f"HWP '{stream}' 스트림 끝에 불완전한 레코드가 있습니다 (잘리거나 손상된 파일). 원본 파일을 다시 받아 주세요."
        )
    return RecordStream(records)


def ctrl_id(payload: bytes) -> str:
    """The four-letter control id at the start of a CTRL_HEADER payload (e.g. ``'tbl '``)."""
    if len(payload) < 4:
        return ""
    return payload[3::-1].decode("latin-1")


@dataclass(slots=True)
class Marker:
    """An extended control inside the paragraph text (stands for one CTRL_HEADER)."""

    code: int
    ctrl: str


#: A UTF-16LE code unit below 32 (a control character); matches at odd offsets are skipped.
_CONTROL_UNIT = re.compile(rb"[\x00-\x1f]\x00")


def split_para_text(payload: bytes) -> list[str | Marker]:
    """Decode PARA_TEXT into text runs and markers for extended controls.

    Char controls are skipped or mapped (line break → ``\\n``, non-breaking/fixed-width space →
    space); inline controls are skipped except tab (→ ``\\t``); the paragraph ends at 0x0D.
    Runs of text between controls are found with a regex, never unit by unit in Python, and
    the payload is never unpacked into integers (a 200 MB paragraph must not take gigabytes).
    """
    n = len(payload) // 2
    out: list[str | Marker] = []
    start = i = 0

    def flush(until: int) -> None:
        if until > start:
            out.append(payload[start * 2 : until * 2].decode("utf-16-le", errors="replace"))

    while True:
        m = _CONTROL_UNIT.search(payload, i * 2, n * 2)
        while m is not None and m.start() % 2:
            m = _CONTROL_UNIT.search(payload, m.start() + 1, n * 2)
        if m is None:
            break
        i = m.start() // 2
        u = payload[m.start()]
        flush(i)
        if u in CHAR_CONTROLS:
            if u == PARA_END:
                return out
            rep = _CHAR_REPLACEMENT.get(u)
            if rep:
                out.append(rep)
            i += 1
        else:
            if u == TAB:
                out.append("\t")
            elif u in EXTENDED_CONTROLS:
                out.append(Marker(u, ctrl_id(payload[(i + 1) * 2 : (i + 3) * 2])))
            i += 8
        start = i
        if i >= n:
            break
    flush(n)
    return out
