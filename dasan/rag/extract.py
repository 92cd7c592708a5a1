"""Extractive answer composition: which source units to quote, from which articles.

Search returns one passage per article (its best chunk); the answer may sit in another part
of the same article (a long 제21조 is split at 항), so each candidate article is read whole.
Every unit (a 항·호 line or a sentence) is scored by the IDF-weighted share of the question's
terms it contains plus, with a dense embedder, its semantic similarity to the question. When
the question asks for a value ("며칠", "얼마", "몇 살"), units that state a value of that kind
(see :mod:`dasan.rag.answer_type`) count double, and every quoted article shows its
value-stating unit.

The top retrieved article is always quoted; further articles are quoted when their best unit
scores within ``other_ratio`` of the best. Articles whose quote states the asked value come
first in the answer.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from dasan.korean.tokenize import tokenize_many
from dasan.rag.answer_type import AnswerType, states_value
from dasan.rag.support import units
from dasan.types import Chunk, CitedSource, Hit

_HEADING_RE = re.compile(r"^제\d+조(?:의\d+)?\s*\(.*\)\s*$")


@dataclass
class ComposeConfig:
    candidates: int = 5  # retrieved articles read
    max_articles: int = 4  # articles quoted at most
    lead_chars: int = 600  # quoted from the leading article
    other_chars: int = 300  # quoted from each further article
    unit_ratio: float = 0.3  # a unit is quoted when it scores this well relative to its article's best
    other_ratio: float = 0.6  # a further article is quoted when its best unit is this close to the best
    value_bonus: float = 1.0  # score multiplier 1 + bonus for a unit stating the asked kind of value
    # Semantic support of a unit: e5 cosine to the question above ``dense_floor`` (unrelated
    # text on the same topic sits near 0.8), rescaled to 0..1 and weighted, added to coverage.
    dense_weight: float = 0.6
    dense_floor: float = 0.8
    dense_units: int = 64  # at most this many units embedded per answer (the best by shared words)


@dataclass
class Unit:
    chunk: Chunk
    pos: int  # order within the article
    text: str
    score: float
    has_value: bool


@dataclass
class Article:
    rank: int  # retrieval rank (0 = best)
    units: list[Unit]

    @cached_property
    def best(self) -> Unit | None:
        return max(self.units, key=lambda u: u.score, default=None)


_TOKENS: OrderedDict[str, frozenset[str]] = OrderedDict()  # unit text → content morphemes (LRU)
_TOKENS_MAX = 50_000
_TOKENS_LOCK = threading.Lock()


def unit_tokens(texts: list[str]) -> list[frozenset[str]]:
    """Content morphemes of each unit; statute units recur across questions, so they are
    kept in a bounded per-process cache, and the missing ones are analysed in one batch."""
    with _TOKENS_LOCK:
        missing = [t for t in dict.fromkeys(texts) if t not in _TOKENS]
    if missing:
        fresh = dict(zip(missing, (frozenset(x) for x in tokenize_many(missing)), strict=True))
        with _TOKENS_LOCK:
            _TOKENS.update(fresh)
            while len(_TOKENS) > _TOKENS_MAX:
                _TOKENS.popitem(last=False)
    out = []
    with _TOKENS_LOCK:
        for t in texts:
            toks = _TOKENS.get(t)
            if toks is None:  # evicted by a concurrent caller: analyse it again
                toks = frozenset(tokenize_many([t])[0])
            else:
                _TOKENS.move_to_end(t)
            out.append(toks)
    return out


def clear_unit_tokens() -> None:
    with _TOKENS_LOCK:
        _TOKENS.clear()


def quotable(text: str) -> list[str]:
    """The units of a chunk that may be quoted (article headings are not)."""
    return [u for u in units(text) if not _HEADING_RE.match(u)]


def article_texts(hits: list[Hit], articles: dict[str, list[Chunk]], cfg: ComposeConfig) -> list[str]:
    """Distinct quotable units of the candidate articles (what :func:`score_articles` scores)."""
    seen: dict[str, None] = {}
    for h in hits[: cfg.candidates]:
        for c in articles.get(h.chunk.id) or [h.chunk]:
            seen.update(dict.fromkeys(quotable(c.text)))
    return list(seen)


def score_articles(hits: list[Hit], articles: dict[str, list[Chunk]], cover: Callable[[str], float],
                   types: tuple[AnswerType, ...], cfg: ComposeConfig) -> list[Article]:
    out = []
    for rank, h in enumerate(hits[: cfg.candidates]):
        chunks = articles.get(h.chunk.id) or [h.chunk]
        us: list[Unit] = []
        seen: set[str] = set()
        for c in chunks:
            for u in quotable(c.text):
                if u in seen:
                    continue
                seen.add(u)
                value = bool(types) and states_value(u, types)
                s = cover(u) * ((1 + cfg.value_bonus) if value else 1.0)
                us.append(Unit(c, len(us), u, s, value))
        out.append(Article(rank, us))
    return out


def compose(articles: list[Article], cfg: ComposeConfig) -> tuple[list[str], list[CitedSource]]:
    """Answer lines (``label: quote [n]``) and their citations; empty when nothing covers."""
    usable = [a for a in articles if a.best and a.best.score > 0]
    if not usable:
        return [], []
    lead = usable[0]  # retrieval (both legs) judges relevance better than shared words alone
    top = max(a.best.score for a in usable)  # type: ignore[union-attr]
    chosen = [lead] + [a for a in usable[1:] if a.best.score >= cfg.other_ratio * top]  # type: ignore[union-attr]
    chosen = chosen[: cfg.max_articles]
    plans: list[tuple[Article, list[Unit]]] = []
    for i, a in enumerate(chosen):
        best = a.best
        assert best is not None
        budget = cfg.lead_chars if i == 0 else cfg.other_chars
        keep: list[Unit] = []
        size = 0
        for u in sorted(a.units, key=lambda u: -u.score):
            if u.score < cfg.unit_ratio * best.score or (keep and size + len(u.text) > budget):
                continue
            keep.append(u)
            size += len(u.text)
        # The question asks for a value and this article states one: quote it, even where the
        # unit shares few words with the question ("…기준"이란 1,135밀리미터를 말한다).
        if not any(u.has_value for u in keep):
            stated = [u for u in a.units if u.has_value]
            if stated:
                keep.append(max(stated, key=lambda u: u.score))
        plans.append((a, keep))
    # An article whose quote states the asked value answers the question: it goes first.
    plans.sort(key=lambda p: (not any(u.has_value for u in p[1]), p[0].rank))
    lines: list[str] = []
    cites: list[CitedSource] = []
    for _, keep in plans:
        keep.sort(key=lambda u: u.pos)
        # One citation per chunk quoted, in article order (a split article may give two).
        by_chunk: dict[str, list[Unit]] = {}
        for u in keep:
            by_chunk.setdefault(u.chunk.id, []).append(u)
        for group in by_chunk.values():
            marker = len(cites) + 1
            chunk = group[0].chunk
            lines.append(f"{chunk.citation.label}: {' '.join(u.text for u in group)} [{marker}]")
            cites.append(CitedSource(marker=marker, chunk=chunk, quote="\n".join(u.text for u in group),
                                     score=max(u.score for u in group)))
    return lines, cites
