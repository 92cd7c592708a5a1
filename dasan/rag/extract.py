"""Extractive answer composition: the sentence that answers first, then its supporting quotes.

Search returns one passage per article (its best chunk); the answer may sit in another part
of the same article (a long 제21조 is split at 항), so each candidate article is read whole.
Every unit (a 항·호·목 line or a sentence) is scored by the IDF-weighted share of the question's
terms it contains plus, with a dense embedder, its semantic similarity to the question. When
the question asks for a value ("며칠", "얼마", "몇 살"), units that state a value of that kind
(see :mod:`dasan.rag.answer_type`) count double.

The answer opens with **one unit**: the one whose score, weighted by how strongly retrieval
supports its article (``(article score / best score) ** rank_power``), is highest. It is quoted
verbatim (its 항·호 number left off). The supporting quotes follow, with their citations:

- from the lead's article, the other units that score at least ``unit_ratio`` of the lead,
  densest first, within ``lead_chars``, and its best ``value_units`` value-stating units when
  the question asks for a value;
- from other articles, only units whose weighted score is at least ``other_ratio`` of the
  lead's, within ``budget_chars`` in all and at most ``max_articles`` articles: an article is
  cited only when it contributes a quoted unit on its own merit;
- a 호 or 목 is shown under the 항 (or 호) it belongs to, and a lead that introduces a list
  ("다음 각 호와 같다") brings its best items (``list_chars``), so no quote is cut from its
  context.

Thresholds were chosen on ../shared/bench/law_qa_dev.jsonl (see docs/benchmarks.md).
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
from dasan.types import Chunk, CitedSource, Hit, article_key

_HEADING_RE = re.compile(r"^제\d+조(?:의\d+)?\s*\(.*\)\s*$")
# Statute list items: 호 "1." "5의2.", 목 "가.", and "1)" under a 목 (levels 1, 2, 3).
_HO = r"\d{1,3}(?:의\d+)?\.(?!\d|\s*\d{1,2}\.)"  # "1." "5의2." but not "1.5" or a date "2026. 3. 31."
_ITEM_RES = (re.compile(rf"^{_HO}"), re.compile(r"^[가-하]\.(?!\d)"), re.compile(r"^\d+\)"))
_LIST_STEM_RE = re.compile(r"다음\s*각\s*(?:호|목)")  # "다음 각 호의 어느 하나에 해당하는 …": the items follow
# A list stem whose items are not shown ("이 법에서 사용하는 용어의 뜻은 다음과 같다.")
_BARE_STEM_RE = re.compile(r"(?:다음과\s*같다|다음\s*각\s*(?:호|목)[^.]*(?:말한다|같다))\.?\s*$")
_ENUMERATOR_RE = re.compile(rf"^(?:[①-⑳]|{_HO}|[가-하]\.(?!\d)|\d+\))\s*")
# Bullets of reports and press releases (□ ○ ◦ ㅇ - * ※ ◆ …, private-use glyphs of HWP fonts).
_BULLET_RE = re.compile(r"^(?:[\s□■○●◦ㅇ◆◇▶▷▣◧◈•·※*\-–\ue000-\uf8ff]|[\U000f0000-\U000fffff])+(?=\S)")
QUOTES_HEADING = "근거 원문:"
ELIDED = "(위 문장에 이어)"  # the lead sentence, where a quote continues it with its items


@dataclass
class ComposeConfig:
    candidates: int = 5  # retrieved articles read
    max_articles: int = 3  # articles quoted at most
    budget_chars: int = 550  # quoted units in all (the lead included; 항 lines shown above a 호 are not counted)
    lead_chars: int = 350  # of which from the lead's article
    unit_ratio: float = 0.3  # a unit of the lead's article is quoted when it scores this well relative to the lead
    other_ratio: float = 0.4  # a unit of another article is quoted when its weighted score is this close to the lead's
    rank_power: float = 2.0  # unit weight = score × (its article's retrieval score / the best one) ** rank_power
    density_power: float = 0.5  # the lead article's further units are taken by score / (chars / 100) ** this
    value_units: int = 2  # value-stating units the lead's article shows (beyond lead_chars) when a value is asked
    list_chars: int = 140  # items shown under a lead that introduces a list (beyond budget_chars)
    value_bonus: float = 1.0  # score multiplier 1 + bonus for a unit stating the asked kind of value
    # Semantic support of a unit: e5 cosine to the question above ``dense_floor`` (unrelated
    # text on the same topic sits near 0.8), rescaled to 0..1 and weighted, added to coverage.
    dense_weight: float = 0.6
    dense_floor: float = 0.8
    dense_units: int = 64  # at most this many units embedded per answer (the best by shared words)


def item_level(text: str) -> int:
    """0 for a 항 or a sentence, 1 for a 호 ("1."), 2 for a 목 ("가."), 3 for "1)"."""
    for level, pat in enumerate(_ITEM_RES, 1):
        if pat.match(text):
            return level
    return 0


def lead_text(unit: str) -> str:
    """A unit as the answer's first sentence: without its 항·호·목 number or bullet (the rest
    verbatim)."""
    text = unit.strip()
    return _ENUMERATOR_RE.sub("", _BULLET_RE.sub("", text, count=1), count=1) or text


@dataclass
class Unit:
    chunk: Chunk
    pos: int  # order within the article
    text: str
    score: float
    has_value: bool
    level: int = 0  # see :func:`item_level`


@dataclass
class Article:
    rank: int  # retrieval rank (0 = best)
    units: list[Unit]
    weight: float = 1.0  # (retrieval score / best retrieval score) ** rank_power

    @cached_property
    def best(self) -> Unit | None:
        return max(self.units, key=lambda u: u.score, default=None)

    def parent(self, unit: Unit) -> Unit | None:
        """The line a 호 (목, …) belongs to: the nearest earlier unit of a lower level."""
        if unit.level == 0:
            return None
        for u in reversed(self.units[: unit.pos]):
            if u.level < unit.level:
                return u
        return None

    def children(self, unit: Unit) -> list[Unit]:
        """The items directly under ``unit`` (its 호 for a 항, its 목 for a 호)."""
        out = []
        for u in self.units[unit.pos + 1:]:
            if u.level <= unit.level:
                break
            if u.level == unit.level + 1:
                out.append(u)
        return out


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
    top = hits[: cfg.candidates]
    best = max((h.score for h in top), default=0.0)
    out = []
    for rank, h in enumerate(top):
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
                us.append(Unit(c, len(us), u, s, value, item_level(u)))
        weight = (max(h.score, 0.0) / best) ** cfg.rank_power if best > 0 else 1.0
        out.append(Article(rank, us, weight))
    return out


@dataclass
class Composition:
    """What an extractive answer quotes: its lead unit and, per article, the units shown."""

    lead: Unit
    lead_article: Article
    quoted: list[tuple[Article, list[Unit]]]  # the lead's article first

    def _under_lead(self, unit: Unit) -> bool:
        p = self.lead_article.parent(unit) if unit.chunk.id == self.lead.chunk.id else None
        while p is not None:
            if p is self.lead:
                return True
            p = self.lead_article.parent(p)
        return False

    def render(self) -> tuple[list[str], list[CitedSource]]:
        """Answer lines — the lead sentence with its marker, then ``label: quote [n]`` lines
        (the lead unit is not repeated there) — and one citation per chunk quoted."""
        groups: list[list[Unit]] = []
        for _, keep in self.quoted:
            by_chunk: dict[str, list[Unit]] = {}
            for u in sorted(keep, key=lambda u: u.pos):
                by_chunk.setdefault(u.chunk.id, []).append(u)
            # the lead's chunk takes marker [1]
            groups.extend(sorted(by_chunk.values(), key=lambda g: not any(u is self.lead for u in g)))
        lines = [f"{lead_text(self.lead.text)} [1]"]
        quotes: list[str] = []
        cites: list[CitedSource] = []
        for group in groups:
            marker = len(cites) + 1
            chunk = group[0].chunk
            # the lead is not repeated: where its items follow it, "…" stands for it (the items
            # read as the continuation of the sentence just above, not as another line's)
            hide = not any(self._under_lead(u) for u in group)
            shown = [u.text if u is not self.lead else ELIDED for u in group if not (hide and u is self.lead)]
            if shown and not any(u is self.lead for u in group) and all(_BARE_STEM_RE.search(t) for t in shown):
                continue  # "…다음과 같다." with none of its items: says nothing, is not cited
            if shown:
                # the article names the quote; its 항·호 numbers are in the quoted text itself
                quotes.append(f"{article_key(chunk.citation.label)}: {' '.join(shown)} [{marker}]")
            cites.append(CitedSource(marker=marker, chunk=chunk, quote="\n".join(u.text for u in group),
                                     score=max(u.score for u in group)))
        if quotes:
            lines += ["", QUOTES_HEADING, *quotes]
        return lines, cites


def select(articles: list[Article], cfg: ComposeConfig) -> Composition | None:
    """The lead unit and the supporting units (see the module docstring); None when no unit
    shares anything with the question."""
    cands = [(u.score * a.weight, u.score, a, u) for a in articles for u in a.units if u.score > 0]
    if not cands:
        return None
    cands.sort(key=lambda c: (-c[0], c[2].rank, c[3].pos))
    lead_g, lead_s, lead_art, lead = cands[0]
    chosen: dict[int, list[Unit]] = {lead_art.rank: [lead]}
    size = len(lead.text)

    def take(a: Article, u: Unit, limit: int) -> None:
        nonlocal size
        if size + len(u.text) <= limit:
            chosen.setdefault(a.rank, []).append(u)
            size += len(u.text)

    # 1. the lead's article: its other well-scoring units, short and dense ones first
    def density(c: tuple[float, float, Article, Unit]) -> float:
        return c[1] / max(len(c[3].text) / 100, 0.3) ** cfg.density_power

    for _, s, a, u in sorted(cands[1:], key=lambda c: -density(c)):
        if a is lead_art and s >= cfg.unit_ratio * lead_s:
            take(a, u, cfg.lead_chars)
    keep = chosen[lead_art.rank]
    # The question asks for a value and this article states some: show its best value-stating
    # units (one may share few words with the question: "…기준"이란 1,135밀리미터를 말한다; a
    # second often holds the condition or the other half of the answer: 30일 이내 … 7일 이내).
    missing = cfg.value_units - sum(u.has_value for u in keep)
    for c in cands:
        if missing <= 0:
            break
        if c[2] is lead_art and c[3].has_value and not any(c[3] is k for k in keep):
            keep.append(c[3])
            size += len(c[3].text)
            missing -= 1
    # 2. other articles, each only through a unit that earns its place
    for g, _, a, u in cands[1:]:
        if a is lead_art:
            continue
        if g < cfg.other_ratio * lead_g:
            break
        if a.rank not in chosen and len(chosen) >= cfg.max_articles:
            continue
        take(a, u, cfg.budget_chars)
    by_rank = {a.rank: a for a in articles}
    quoted: list[tuple[Article, list[Unit]]] = []
    for rank in [lead_art.rank, *sorted(r for r in chosen if r != lead_art.rank)]:
        a, keep = by_rank[rank], chosen[rank]
        if a is not lead_art and not any(u.has_value for u in keep):
            stated = [u for u in a.units if u.has_value]
            if stated:
                keep.append(max(stated, key=lambda u: u.score))
        if a is lead_art and _LIST_STEM_RE.search(lead.text):
            # a lead that introduces a list ("다음 각 호와 같다") says it through its items
            extra = 0
            for ch in sorted(a.children(lead), key=lambda u: -u.score):
                if any(ch is k for k in keep) or extra + len(ch.text) > cfg.list_chars:
                    continue
                keep.append(ch)
                extra += len(ch.text)
        for u in list(keep):  # a 호 is shown under its 항, a 목 under its 호
            p = a.parent(u)
            while p is not None and not any(p is k for k in keep):
                keep.append(p)
                p = a.parent(p)
        quoted.append((a, keep))
    return Composition(lead, lead_art, quoted)


def compose(articles: list[Article], cfg: ComposeConfig) -> tuple[list[str], list[CitedSource]]:
    """Answer lines and their citations; empty when nothing covers the question."""
    comp = select(articles, cfg)
    return comp.render() if comp is not None else ([], [])
