"""Compact per-row columns for the search indexes.

A Python ``str`` per chunk costs ~100 bytes and a ``dict`` per chunk several hundred; at a
million chunks that is most of the index's memory. These helpers keep per-row data as packed
buffers and small integers instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

NO_DATE = int(np.iinfo(np.int32).min)  # date_key of a missing or unreadable date
_DATE = re.compile(r"(\d{4})(?:[-./\s]{0,2}(\d{1,2})(?:[-./\s]{0,2}(\d{1,2}))?)?(?!\d)")
_trim = None  # libc malloc_trim, once looked up (False: unavailable)


class IdList(Sequence[str]):
    """Strings packed into one bytes buffer: about ``len(id) + 8`` bytes each instead of ~100
    for a list of ``str`` (fixed-width ids, such as 32-hex chunk ids, need no offsets)."""

    def __init__(self, items: Iterable[str] = ()) -> None:
        enc = [s.encode("utf-8", "surrogatepass") for s in items]
        self._n = len(enc)
        self._buf = b"".join(enc)
        widths = {len(b) for b in enc}
        self._width = widths.pop() if len(widths) == 1 else 0
        self._off: np.ndarray | None = None
        if self._n and not self._width:
            self._off = np.zeros(self._n + 1, dtype=np.int64)
            np.cumsum([len(b) for b in enc], out=self._off[1:])

    def __len__(self) -> int:
        return self._n

    def _get(self, i: int) -> str:
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(i)
        if self._off is None:
            a = i * self._width
            return self._buf[a : a + self._width].decode("utf-8", "surrogatepass")
        return self._buf[int(self._off[i]) : int(self._off[i + 1])].decode("utf-8", "surrogatepass")

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self._get(j) for j in range(*i.indices(self._n))]
        return self._get(int(i))

    def __iter__(self) -> Iterator[str]:
        if self._width and self._n:
            text = self._buf.decode("utf-8", "surrogatepass")
            if len(text) == len(self._buf):  # ASCII (hex chunk ids): one decode, then slices
                w = self._width
                return iter([text[a : a + w] for a in range(0, len(text), w)])
        return (self._get(i) for i in range(self._n))

    def extended(self, items: Iterable[str]) -> IdList:
        """A new list: these strings followed by ``items`` (this one unchanged)."""
        return IdList(list(self) + list(items)) if not self._width else _concat(self, IdList(items))

    def nbytes(self) -> int:
        return len(self._buf) + (0 if self._off is None else self._off.nbytes)


def _concat(a: IdList, b: IdList) -> IdList:
    if len(b) and b._width != a._width:
        return IdList(list(a) + list(b))
    out = IdList()
    out._n, out._buf, out._width = a._n + b._n, a._buf + b._buf, a._width
    return out


def date_key(text: str, *, high: bool = False) -> int:
    """``"2026-04-14"`` (or ``2026.4.14``, ``20260414``) -> ``20260414``, an int that orders like
    the date; ``NO_DATE`` when the text does not start with a date. A bare year or year-month is
    widened to its first day, or with ``high`` its last (``date_to="2026"`` keeps all of 2026)."""
    m = _DATE.match(text.strip())
    if not m:
        return NO_DATE
    year, month, day = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
    if not (0 <= month <= 12 and 0 <= day <= 31) or (day and not month):
        return NO_DATE
    if not month:
        return year * 10000 + (9999 if high else 0)
    if not day:
        return year * 10000 + month * 100 + (99 if high else 0)
    return year * 10000 + month * 100 + day


def release_free_memory() -> None:
    """Hand freed heap pages back to the OS (glibc ``malloc_trim``; a no-op elsewhere).

    Building an index allocates and frees millions of short-lived objects; without this the
    process keeps their pages and its resident size stays near the build peak."""
    global _trim
    if _trim is None:
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _trim = libc.malloc_trim
        except (OSError, AttributeError):
            _trim = False
    if _trim:
        _trim(0)

