"""Korean sentence splitting with Kiwi.

One :class:`kiwipiepy.Kiwi` instance is created lazily (loading its model takes a second or
two) and shared by the whole process. Calls are serialised with a lock, so the splitter is
safe to use from several threads. If Kiwi cannot be loaded, a conservative punctuation-based
splitter is used instead, so chunking never fails because of the analyser.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

log = logging.getLogger(__name__)

#: Kiwi is fed at most this many characters at a time; longer text is cut at line or space
#: boundaries first so that memory and time stay bounded on pathological input.
MAX_PIECE_CHARS = 20_000

#: A piece with a space-free run longer than this is split by punctuation, not by Kiwi.
MAX_WORD_CHARS = 200

#: Kiwi characters one document may use (see :func:`kiwi_budget`); beyond it the punctuation
#: splitter takes over. Kiwi runs at a few µs per character on prose but up to ~60 µs on long
#: unpunctuated lines, so a hostile 9M-character document would otherwise take many minutes.
DOCUMENT_KIWI_CHARS = 500_000

_budget: ContextVar[list[int] | None] = ContextVar("kiwi_budget", default=None)
_lock = threading.Lock()
_kiwi: Any = None
_kiwi_failed = False

# Fallback: end of sentence = ., ?, ! (optionally closed by a quote/bracket) followed by space,
# but not a dot between digits ("1.5", "2026. 6. 23.") and not an enumerator ("1." at line start).
_FALLBACK_END = re.compile(r"(?<!\d)[.?!。？！]+[\"'”’)\]」』]*(?=\s)|\n+")


def get_kiwi() -> Any | None:
    """Return the shared Kiwi instance, creating it on first use (``None`` if unavailable)."""
    global _kiwi, _kiwi_failed
    if _kiwi is not None or _kiwi_failed:
        return _kiwi
    with _lock:
        if _kiwi is None and not _kiwi_failed:
            try:
                from kiwipiepy import Kiwi

                # The typo dictionary only serves typo-tolerant analysis; skipping it makes
                # start-up faster and changes nothing for sentence splitting or tokenising.
                _kiwi = Kiwi(load_typo_dict=False)
            except Exception as e:  # model files missing or a broken install
                log.warning("Kiwi를 불러오지 못해 단순 문장 분리기를 사용합니다: %s", e)
                _kiwi_failed = True
    return _kiwi


def _pieces(text: str, limit: int = MAX_PIECE_CHARS) -> list[tuple[int, str]]:
    """Cut ``text`` into pieces of at most ``limit`` characters at line/space boundaries."""
    out: list[tuple[int, str]] = []
    start = 0
    n = len(text)
    while n - start > limit:
        cut = text.rfind("\n", start, start + limit)
        if cut <= start:
            cut = text.rfind(" ", start, start + limit)
        if cut <= start:
            cut = start + limit
        out.append((start, text[start:cut]))
        start = cut
    out.append((start, text[start:]))
    return out


def _longest_word(text: str) -> int:
    return max((len(w) for w in text.split()), default=0)


def _fallback_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _FALLBACK_END.finditer(text):
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    return spans


@contextmanager
def kiwi_budget(chars: int = DOCUMENT_KIWI_CHARS) -> Iterator[None]:
    """Within the block, at most ``chars`` characters go through Kiwi (then the fallback)."""
    token = _budget.set([chars])
    try:
        yield
    finally:
        _budget.reset(token)


def _spend(n: int) -> bool:
    """Take ``n`` characters from the current budget; False when it is exhausted."""
    b = _budget.get()
    if b is None:
        return True
    if b[0] < n:
        return False
    b[0] -= n
    return True


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the sentences of ``text``, whitespace trimmed."""
    if not text.strip():
        return []
    kiwi = get_kiwi()
    raw: list[tuple[int, int]] = []
    for offset, piece in _pieces(text):
        if not piece.strip():
            continue
        if kiwi is None or _longest_word(piece) > MAX_WORD_CHARS or not _spend(len(piece)):
            # Kiwi is very slow on long runs without spaces (garbled or binary-ish text).
            spans = _fallback_spans(piece)
        else:
            try:
                with _lock:
                    sents = kiwi.split_into_sents(piece)
                spans = [(s.start, s.end) for s in sents]
            except Exception as e:  # never let the analyser break ingestion
                log.warning("Kiwi 문장 분리 실패, 단순 분리기로 대신합니다: %s", e)
                spans = _fallback_spans(piece)
        raw.extend((offset + a, offset + b) for a, b in spans)
    return _normalise_spans(text, raw)


def _normalise_spans(text: str, raw: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Make spans ordered and non-overlapping, cover every non-space character, trim spaces."""
    joined: list[tuple[int, int]] = []
    prev = 0
    for a, b in sorted(raw):
        a = max(a, prev)
        b = max(b, a)
        if text[prev:a].strip():  # text the analyser skipped: give it to a neighbour
            if joined:
                joined[-1] = (joined[-1][0], a)
            else:
                a = prev
        joined.append((a, b))
        prev = b
    if text[prev:].strip():
        if joined:
            joined[-1] = (joined[-1][0], len(text))
        else:
            joined.append((prev, len(text)))
    out: list[tuple[int, int]] = []
    for a, b in joined:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            out.append((a, b))
    return out


def split_sentences(text: str) -> list[str]:
    """Split Korean (or mixed) text into sentences; the pieces are slices of ``text``."""
    return [text[a:b] for a, b in sentence_spans(text)]


def hard_split(text: str, max_chars: int) -> list[str]:
    """Cut one overlong sentence into pieces of at most ``max_chars``, preferring spaces."""
    out: list[str] = []
    rest = text.strip()
    while len(rest) > max_chars:
        cut = rest.rfind(" ", 0, max_chars + 1)
        if cut < max_chars // 2:
            cut = max_chars
        out.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        out.append(rest)
    return out


def pack_sentences(text: str, max_chars: int) -> list[str]:
    """Group the sentences of ``text`` into pieces of at most ``max_chars`` characters.

    A piece never ends mid-sentence unless a single sentence is longer than ``max_chars``,
    in which case that sentence alone is cut at spaces.
    """
    text = text.strip()
    if len(text) <= max_chars:
        return [text] if text else []
    pieces: list[str] = []
    cur_start: int | None = None
    cur_end = 0
    for a, b in sentence_spans(text):
        if b - a > max_chars:
            if cur_start is not None:
                pieces.append(text[cur_start:cur_end])
                cur_start = None
            pieces.extend(hard_split(text[a:b], max_chars))
            continue
        if cur_start is None:
            cur_start, cur_end = a, b
        elif b - cur_start <= max_chars:
            cur_end = b
        else:
            pieces.append(text[cur_start:cur_end])
            cur_start, cur_end = a, b
    if cur_start is not None:
        pieces.append(text[cur_start:cur_end])
    return [p for p in pieces if p.strip()]


def pack_text(text: str, max_chars: int) -> list[str]:
    """Pack ``text`` into pieces ≤ ``max_chars``: whole lines first, sentences only inside a
    line that is itself too long (so Kiwi runs only where it must)."""
    text = text.strip()
    if len(text) <= max_chars:
        return [text] if text else []
    lines = (line.strip() for line in text.split("\n"))
    return pack_lines([line for line in lines if line], max_chars)


def pack_lines(lines: list[str], max_chars: int, start: str = "") -> list[str]:
    """Join ``lines`` with newlines into pieces ≤ ``max_chars`` (continuing ``start``); a line
    that is itself too long is split into sentences first."""
    out: list[str] = []
    cur = start
    for line in lines:
        parts = [line] if len(line) <= max_chars else pack_sentences(line, max_chars)
        for part in parts:
            if cur and len(cur) + 1 + len(part) > max_chars:
                out.append(cur)
                cur = part
            else:
                cur = f"{cur}\n{part}" if cur else part
    if cur:
        out.append(cur)
    return out
