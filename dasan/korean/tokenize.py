"""Morpheme tokens for lexical search (BM25 over Kiwi content morphemes).

Korean attaches particles and endings to words, so splitting on spaces leaves "철도운영자등은"
as one token. Kiwi splits it into morphemes; we keep the content-bearing ones (nouns, verb and
adjective stems, roots, numbers, foreign words, 한자) and normalise:

- numbers: "0.02" stays "0.02"; digits written with commas lose them ("1,000" → "1000");
- 한자 in parentheses after a Hangul word (과징금(課徵金)) is dropped — the Hangul carries it;
- article references: "제60조의6" becomes the single token "제60조의6" as well as its parts,
  so questions naming a branch article match it exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from dasan.errors import ConfigError
from dasan.korean.sentences import get_kiwi

CONTENT_TAGS = frozenset({"NNG", "NNP", "NNB", "NR", "NP", "VV", "VA", "XR", "SL", "SN", "SH", "MAG", "XSN"})
# Dependent nouns and suffixes that carry almost no meaning on their own.
STOP_FORMS = frozenset({"것", "수", "등", "때", "중", "바", "데", "자", "내", "외", "간", "그", "이", "하", "되", "있", "없", "같"})
# Question words say what is asked, not what the answer passage contains; drop them from queries.
QUESTION_FORMS = frozenset({
    "어디", "언제", "며칠", "얼마", "얼마나", "무엇", "뭐", "무슨", "누구", "어떻", "어떤", "어떠",
    "왜", "몇", "어느", "어찌", "가능", "경우", "혹시", "좀", "요",
})
_ARTICLE_RE = re.compile(r"제\s*(\d+)\s*조(?:\s*의\s*(\d+))?")
_HANJA_PAREN_RE = re.compile(r"\(([\u4e00-\u9fff\u3400-\u4dbf]+)\)")
_NUM_COMMA_RE = re.compile(r"(?<=\d),(?=\d{3})")



def kiwi() -> Any:
    """The process-wide Kiwi instance shared with sentence splitting (one model in memory)."""
    k = get_kiwi()
    if k is None:
        raise ConfigError("한국어 형태소 분석기(Kiwi)를 불러오지 못했습니다. `pip install kiwipiepy kiwipiepy-model`로 다시 설치하세요.")
    return k


def normalise(text: str) -> str:
    text = _HANJA_PAREN_RE.sub("", text)
    return _NUM_COMMA_RE.sub("", text)


def _article_tokens(text: str) -> list[str]:
    out = []
    for m in _ARTICLE_RE.finditer(text):
        out.append(f"제{m.group(1)}조" + (f"의{m.group(2)}" if m.group(2) else ""))
    return out


def _content(tokens: Iterable) -> list[str]:
    out = []
    for t in tokens:
        if t.tag in CONTENT_TAGS or t.tag.startswith("NN"):
            form = t.form.lower() if t.tag == "SL" else t.form
            if form in STOP_FORMS:
                continue
            out.append(form)
    return out


def tokenize(text: str) -> list[str]:
    """Content morphemes of one text, for queries and documents alike."""
    text = normalise(text)
    return _content(kiwi().tokenize(text)) + _article_tokens(text)


def tokenize_query(text: str) -> list[str]:
    """Tokens of a user question: like :func:`tokenize`, without question words."""
    toks = [t for t in tokenize(text) if t not in QUESTION_FORMS]
    return toks or tokenize(text)


# Sentence ends for cutting a long question into pieces that Kiwi analyses in parallel (not
# after a digit, "2005. 6. 30." being one date, nor after an enumerator such as "가.").
_PIECE_END = re.compile(r"(?<!\d)(?<!\s[가-하])(?<!^[가-하])[.?!。？！]+[\"'”’)\]」』]*\s+|\n+")
#: A piece longer than this is cut at a space as well (Kiwi slows down on long unpunctuated runs);
#: such a cut is not a sentence boundary.
QUERY_PIECE_CHARS = 200


def _query_pieces(text: str) -> list[tuple[int, int, bool]]:
    """``(start, end, continues)`` pieces of ``text``: cut at sentence ends, and pieces over
    :data:`QUERY_PIECE_CHARS` at the last space before it (``continues``: the cut fell inside
    a sentence)."""
    starts = [0] + [m.end() for m in _PIECE_END.finditer(text)]
    out = []
    for a, b in zip(starts, [*starts[1:], len(text)], strict=True):
        cont = False
        while b - a > QUERY_PIECE_CHARS:
            cut = text.rfind(" ", a + 1, a + QUERY_PIECE_CHARS)
            cut = cut if cut > a else a + QUERY_PIECE_CHARS
            out.append((a, cut, cont))
            a, cont = cut, True
        if text[a:b].strip():
            out.append((a, b, cont))
    return out


def query_morphemes(text: str) -> tuple[str, list[tuple[int, int]], list[tuple[str, int, int]]]:
    """Kiwi over a long question: its normalised text, its sentences as ``(start, end)``
    offsets into that text, and its content morphemes as ``(form, start, end)``, question
    words included. The text is cut into pieces at sentence ends (and inside sentences longer
    than :data:`QUERY_PIECE_CHARS`) that Kiwi analyses as one batch on its worker threads
    (about half the time of one call on two cores); the forms are those of
    :func:`tokenize_query` but for rare differences at the cuts (see :mod:`dasan.rag.asking`,
    which needs the sentences as well)."""
    norm = normalise(text)
    pieces = _query_pieces(norm)
    k = kiwi()
    analysed = k.tokenize([norm[a:b] for a, b, _ in pieces]) if len(pieces) > 1 else [k.tokenize(norm[a:b]) for a, b, _ in pieces]
    sentences: list[list[int]] = []
    out = []
    for (offset, _, continues), toks in zip(pieces, analysed, strict=True):
        current = None
        for t in toks:
            a, b = offset + int(t.start), offset + int(t.start + t.len)
            if t.sent_position != current:
                if not (current is None and continues and sentences):
                    sentences.append([a, b])
                current = t.sent_position
            sentences[-1][0], sentences[-1][1] = min(sentences[-1][0], a), max(sentences[-1][1], b)
            form = _content([t])
            if form:
                out.append((form[0], a, b))
    return norm, [(a, b) for a, b in sentences], out


def article_tokens(text: str) -> list[str]:
    """``제60조의6`` tokens of the article references in ``text`` (normalised)."""
    return _article_tokens(text)


def tokenize_many(texts: list[str]) -> list[list[str]]:
    """Batch version of :func:`tokenize` (faster for ingestion)."""
    norm = [normalise(t) for t in texts]
    results = kiwi().tokenize(norm)
    return [_content(toks) + _article_tokens(t) for toks, t in zip(results, norm, strict=True)]


def whitespace_tokenize(text: str) -> list[str]:
    """The naive baseline: split on whitespace and punctuation edges only."""
    return [w for w in re.split(r"\s+", text.lower()) if w]
