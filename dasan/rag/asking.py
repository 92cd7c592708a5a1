"""The asking part of a long, situational question.

Questions sent to a ministry or a legal aid office describe a situation first and ask at the
end: "저는 … 퇴사하였습니다. 그런데 … 지급하지 않고 있습니다. 이 경우 퇴직금을 받을 수는 없는지요?",
"○ … 근무하고 있음. 질의1) … 해당되는지 여부 질의2) … 받아야 하는지 여부". The situation's words
(dates, company names, the story) outnumber the asking part's, and the statute that answers
is named by the latter. This module splits a question into segments and finds the asking
ones:

- segments: Kiwi's sentences (from the same pass that yields the search tokens), split again
  before bullets (○, -, ·), enumerators (가., 1., 1), ①) and 질의/질문 markers; an asking
  sentence longer than :data:`CLAUSE_CHARS` is split into clauses at connective endings
  (…는데, …으나, …지만, …한 바), its last clause asking;
- an asking segment ends like a question (?, …나요, …까요, …는지요, …인지 (여부), …궁금합니다,
  …바랍니다) or opens with a 질의/질문/문의 marker; when none does, the last segment asks.

:class:`Framing` gives the lexical leg the asking tokens (weighted above the situation's) and
the dense leg a bounded text: the asking part plus as much of the situation, nearest first, as
fits a character budget, so embedding time no longer grows with the story.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from dasan.korean.tokenize import QUESTION_FORMS, article_tokens, query_morphemes, tokenize_query

#: An asking sentence longer than this is split into clauses (its last clause asks).
CLAUSE_CHARS = 120

_TRAIL = " \t\r\n.。!！~…·\"'”’)]」』>"
_ASK_END = re.compile(
    r"(?:[?？]|나요|까요|니까|가요|죠|지요|는지|은지|인지|던지|한지|될지|할지|을지|일지|여부|궁금(?:합니다|해요|하다|함)?"
    r"|주시기\s*바랍니다|주시기\s*바람|바랍니다|바람|싶습니다|싶어요|문의(?:합니다|드립니다|함)?|질의(?:합니다|드립니다|함)?"
    r"|해석은|의견은|어떠한지|어떤지)$"
)
_ASK_MARK = re.compile(r"^[\s(\[【<〈《·•\-]*(?:질의|질문|문의|문\s*\))\s*\d*")
# Split points inside a sentence: bullets, enumerators and 질의/상황 markers (before them).
_MARKERS = re.compile(
    r"(?:(?<=\s)|^)(?=[○◆◇□■●▶▷◎※·•]\s?\S)"
    r"|(?<=\s)(?=-\s)"
    r"|(?:(?<=\s)|^)(?<!\d\.\s)(?=(?:[가-하]|\d{1,2})[.)]\s)"
    r"|(?=[①-⑳])"
    r"|(?=[(\[【<〈]\s*(?:질의|질문|문의|상황|사실관계|답변)\s*\d*\s*[)\]】>〉])"
    r"|(?:(?<=\s)|^)(?=질의\s*\d+\s*[).:])"
)
# Clause ends inside a long sentence: connective endings (…는데, …으나, …지만, …한 바, …하였고).
_CLAUSE = re.compile(r"(?:(?<=는데|은데|인데|으나|지만|는바|한바|인바|된바|었고|였고|으며|하며|이며)|(?<=[는한인된] 바))[,，]?\s+")


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    asking: bool


@dataclass(frozen=True)
class Framing:
    """A question as situation + asking part. ``text`` is the normalised question (the offsets'
    reference); ``tokens`` are those of :func:`~dasan.korean.tokenize.tokenize_query` of the
    question (up to rare differences where Kiwi's pieces were cut, see
    :func:`~dasan.korean.tokenize.query_morphemes`)."""

    text: str
    tokens: list[str]
    asking_tokens: list[str]
    segments: list[Segment]

    @property
    def asking(self) -> str:
        return " ".join(self.text[s.start:s.end] for s in self.segments if s.asking)

    @property
    def situational(self) -> bool:
        """Whether the question has a situation apart from its asking part."""
        return any(s.asking for s in self.segments) and any(not s.asking for s in self.segments)

    def dense_text(self, budget: int, extra: str = "") -> str:
        """The asking part plus the situation segments nearest before it (then after it) that
        fit in ``budget`` characters together with ``extra`` (appended, e.g. legal terms),
        in the question's order; the whole question when it fits."""
        tail = f" {extra}" if extra else ""
        if len(self.text) + len(tail) <= budget:
            return self.text + tail
        keep = [s for s in self.segments if s.asking]
        used = sum(s.end - s.start + 1 for s in keep) + len(tail)
        if used > budget:  # the asking part alone is too long: its end asks, keep that
            ask = self.asking
            room = max(budget - len(tail), 0)
            return (ask[len(ask) - room:].lstrip() if room else "") + tail
        first_ask = min(i for i, s in enumerate(self.segments) if s.asking)
        order = [i for i in range(first_ask - 1, -1, -1)] + [i for i in range(first_ask + 1, len(self.segments))]
        for i in order:
            s = self.segments[i]
            if s.asking:
                continue
            need = s.end - s.start + 1
            if used + need <= budget:
                keep.append(s)
                used += need
        keep.sort(key=lambda s: s.start)
        return " ".join(self.text[s.start:s.end] for s in keep) + tail


def is_asking(segment: str) -> bool:
    """Whether a sentence or clause asks: a question ending or a 질의/질문 marker up front."""
    s = segment.strip()
    return bool(_ASK_MARK.match(s) or _ASK_END.search(s.rstrip(_TRAIL)))


def _spans(text: str, sentences: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentence spans split again at markers, covering the whole text, whitespace trimmed."""
    cuts = sorted({0, *(a for a, _ in sentences[1:]), *(m.start() for m in _MARKERS.finditer(text))} - {len(text)})
    spans = []
    for a, b in zip(cuts, [*cuts[1:], len(text)], strict=True):
        piece = text[a:b]
        lead = len(piece) - len(piece.lstrip())
        piece = piece.strip()
        if piece:
            spans.append((a + lead, a + lead + len(piece)))
    return spans


def _clauses(text: str, a: int, b: int) -> list[tuple[int, int]]:
    cuts = [a] + [a + m.end() for m in _CLAUSE.finditer(text[a:b])]
    out = []
    for x, y in zip(cuts, [*cuts[1:], b], strict=True):
        piece = text[x:y].strip()
        if piece:
            lead = len(text[x:y]) - len(text[x:y].lstrip())
            out.append((x + lead, x + lead + len(piece)))
    return out


def frame(question: str) -> Framing:
    """Split ``question`` into situation and asking segments (one Kiwi pass)."""
    text, sentences, morphemes = query_morphemes(question)
    segments: list[Segment] = []
    for a, b in _spans(text, sentences):
        asking = is_asking(text[a:b])
        if asking and b - a > CLAUSE_CHARS:
            clauses = _clauses(text, a, b)
            if len(clauses) > 1:
                flags = [is_asking(text[x:y]) for x, y in clauses]
                flags[-1] = True
                segments.extend(Segment(x, y, f) for (x, y), f in zip(clauses, flags, strict=True))
                continue
        segments.append(Segment(a, b, asking))
    if segments and not any(s.asking for s in segments):
        last = segments[-1]
        segments[-1] = Segment(last.start, last.end, True)
    forms = [m[0] for m in morphemes]
    tokens = [t for t in forms + article_tokens(text) if t not in QUESTION_FORMS] or forms + article_tokens(text)
    asking_tokens: list[str] = []
    for s in segments:
        if s.asking:
            asking_tokens += [f for f, a, b in morphemes if s.start <= a and b <= s.end and f not in QUESTION_FORMS]
            asking_tokens += article_tokens(text[s.start:s.end])
    return Framing(text, tokens, asking_tokens, segments)


def frame_long(question: str, min_chars: int, tokenizer: Callable[[str], list[str]] = tokenize_query) -> Framing | None:
    """:func:`frame` for a question of at least ``min_chars`` characters (None for a shorter
    one, which is searched as it is). With a tokenizer other than the default the tokens come
    from it."""
    if min_chars <= 0 or len(question) < min_chars:
        return None
    f = frame(question)
    if tokenizer is not tokenize_query:
        f = replace(f, tokens=tokenizer(question), asking_tokens=tokenizer(f.asking))
    return f
