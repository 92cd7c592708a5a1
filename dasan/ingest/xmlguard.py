"""Refuse XML that carries a document type declaration, before any XML parser sees it.

Every XML attack on a document reader (billion laughs, quadratic blow-up, external entities
that read local files or reach the network) needs a DTD: entities can only be declared in
one, and the DTD can only stand in the prolog, between the XML declaration and the root
element. No real HWPX, HWPML, DOCX or XLSX part has one. So each XML part's prolog is
scanned here — byte by byte, without parsing — and a ``<!DOCTYPE`` (or any other markup
declaration) refuses the whole file with :class:`~dasan.errors.HostileFileError`.

The check does not depend on what an XML library does with a DTD (lxml 6.2 started stopping
some of these documents with its own "amplification factor" error, which used to be
reported as a damaged file). The parsers keep their hardened options as a second layer.

The prolog is small in real files (an XML declaration and perhaps a comment); one longer
than :data:`PROLOG_LIMIT` is refused too, so the scan is bounded in time and memory.
"""

from __future__ import annotations

import io
from typing import IO

from dasan.errors import HostileFileError

#: Most prolog bytes read before the root element must have started (real files: < 200).
PROLOG_LIMIT = 64 * 1024
_READ = 4096

# (byte-order mark or first bytes of '<?' / '<') -> codec of the prolog. Encodings where
# markup characters are single ASCII bytes (UTF-8, EUC-KR, CP949, Latin-1 …) need no decoding.
_WIDE = (
    (b"\xff\xfe\x00\x00", "utf-32-le", 4),
    (b"\x00\x00\xfe\xff", "utf-32-be", 4),
    (b"\x3c\x00\x00\x00", "utf-32-le", 0),
    (b"\x00\x00\x00\x3c", "utf-32-be", 0),
    (b"\xff\xfe", "utf-16-le", 2),
    (b"\xfe\xff", "utf-16-be", 2),
    (b"\x3c\x00", "utf-16-le", 0),
    (b"\x00\x3c", "utf-16-be", 0),
)
_WS = " \t\r\n"


def _hostile(label: str, part: str, why: str) -> HostileFileError:
    return HostileFileError(
        f"{label} 파일의 {part}에 {why} 안전을 위해 이 파일을 읽지 않았습니다 "
        "(XML 엔티티 공격 차단). 신뢰할 수 있는 원본을 한글·Word·Excel에서 다시 저장해 올려 주세요."
    )


def _decode(head: bytes) -> str:
    for mark, codec, skip in _WIDE:
        if head.startswith(mark):
            body = head[skip:]
            unit = 4 if "32" in codec else 2
            body = body[: len(body) - len(body) % unit]
            return body.decode(codec, errors="replace")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.decode("latin-1")  # markup is ASCII; other bytes only need to stay one char each


def _scan(text: str, complete: bool) -> str:
    """'root' when the root element starts cleanly, 'more' when the prolog is cut, else why refused."""
    pos, n = 0, len(text)
    while True:
        while pos < n and text[pos] in _WS:
            pos += 1
        if pos >= n:
            return "root" if complete else "more"  # empty or whitespace-only: the parser reports it
        if text.startswith("<?", pos):
            end = text.find("?>", pos + 2)
            if end < 0:
                return "root" if complete else "more"
            pos = end + 2
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos + 4)
            if end < 0:
                return "root" if complete else "more"
            pos = end + 3
        elif text.startswith("<!", pos):
            if not complete and n - pos < 9:
                return "more"
            return "DTD/엔티티 선언(DOCTYPE)이 있어"
        elif text.startswith("<", pos):
            if pos + 1 >= n and not complete:
                return "more"
            return "root"
        else:
            return "root"  # text before the root: not well-formed, left to the parser's error


def check_prolog(head: bytes, *, label: str, part: str, complete: bool = True) -> bool:
    """Raise :class:`HostileFileError` when ``head`` (the start of a part) declares a DTD.

    Returns False when ``head`` ends inside the prolog and more bytes are needed
    (only when ``complete`` is False); True when the root element starts cleanly.
    """
    verdict = _scan(_decode(head), complete)
    if verdict == "root":
        return True
    if verdict == "more":
        if len(head) >= PROLOG_LIMIT:
            raise _hostile(label, part, f"루트 요소 앞의 머리말(prolog)이 비정상적으로 길어 ({PROLOG_LIMIT // 1024} KB 초과)")
        return False
    raise _hostile(label, part, verdict)


def check_bytes(data: bytes, *, label: str, part: str) -> None:
    """Check a whole part held in memory."""
    check_prolog(data[:PROLOG_LIMIT], label=label, part=part, complete=len(data) <= PROLOG_LIMIT)


class _Replay(io.RawIOBase):
    """A stream that yields the already-read prolog bytes, then the rest of the source."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        super().__init__()
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(b))
        n = len(data)
        b[:n] = data
        return n


def checked_stream(source: IO[bytes], *, label: str, part: str) -> IO[bytes]:
    """Read ``source``'s prolog, refuse a DTD, and return a stream that reads the part whole."""
    head = b""
    while True:
        chunk = source.read(_READ)
        head += chunk
        if check_prolog(head, label=label, part=part, complete=not chunk):
            break
    return io.BufferedReader(_Replay(head, source))
