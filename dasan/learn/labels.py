"""Article labels from an answered-question archive: which statute articles an official answer
cites, kept only where they can be trusted as labels for the question.

Answers cite articles as ``「근로기준법」 제60조``, ``근로기준법 제60조제2항``, ``같은 법 시행령 제3조``,
``동법 제5조`` or, after ``「근로기준법」(이하 "법")``, ``법 제2조`` / ``영 제3조``. Old answers use
the article numbers of their time, so (as ../shared/data/legal-qa/SOURCE.md describes) a cited
article becomes a label only when it exists in the indexed statutes today **and** the words of
its current title occur in the answer — a renumbered article's new title rarely does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_SP = re.compile(r"\s+")
_SUB = re.compile(r"^(시행령|시행규칙)")
# A statute reference followed by an article: 「title」, 같은 법/동법/법/영/규칙, or a plain title.
_CITE = re.compile(
    r"(?:「(?P<br>[^」]{2,60})」|(?P<same>같은\s?법|동법|同法|이\s?법)|(?P<plain>[가-힣·ㆍ]{2,40}(?:법|법률)))"
    r"\s*(?:\([^)]{0,40}\)\s*)?(?P<sub>시행령|시행규칙)?\s*(?:\([^)]{0,40}\)\s*)?"
    r"제\s?(?P<art>\d+)\s?조(?:\s?의\s?(?P<br2>\d+))?"
)
_SHORT = re.compile(r"(?<![가-힣])(?P<kind>법|영|시행령|규칙|시행규칙)\s*제\s?(?P<art>\d+)\s?조(?:\s?의\s?(?P<br2>\d+))?")
# Everyday abbreviations of statutes (as ministries write them); keys without spaces.
ABBREVIATIONS = {
    "근기법": "근로기준법",
    "산안법": "산업안전보건법",
    "중처법": "중대재해처벌등에관한법률",
    "중대재해처벌법": "중대재해처벌등에관한법률",
    "재난안전법": "재난및안전관리기본법",
    "정보공개법": "공공기관의정보공개에관한법률",
    "감염병예방법": "감염병의예방및관리에관한법률",
    "기초생활보장법": "국민기초생활보장법",
    "민원처리법": "민원처리에관한법률",
}
_TITLE_WORD = re.compile(r"[가-힣A-Za-z0-9]{2,}")
_STOP_TITLE_WORDS = frozenset({"등", "및", "관한", "대한", "따른", "위한"})


def squash(text: str) -> str:
    return _SP.sub("", text or "")


@dataclass(frozen=True)
class ArticleInfo:
    key: str  # "근로기준법 시행령 제3조의2"
    title: str  # article title, e.g. "연차 유급휴가"


class ArticleCatalog:
    """The statute articles of the index: ``(squashed statute title, 조, 의) → ArticleInfo``."""

    def __init__(self, articles: Iterable[tuple[str, str, str]]) -> None:
        """``articles``: (statute title, article key such as ``근로기준법 제60조의2``, article title)."""
        self.by_ref: dict[tuple[str, str], ArticleInfo] = {}
        self.statutes: dict[str, str] = {}  # squashed title → title
        for statute, key, title in articles:
            m = re.search(r"제(\d+조(?:의\d+)?)$", key)
            if not m:
                continue
            self.statutes[squash(statute)] = statute
            self.by_ref.setdefault((squash(statute), m.group(1)), ArticleInfo(key, title))

    def __len__(self) -> int:
        return len(self.by_ref)

    def resolve_statute(self, name: str) -> str | None:
        s = squash(name)
        s = ABBREVIATIONS.get(s, s)
        return s if s in self.statutes else None

    def lookup(self, statute_sq: str, article: str) -> ArticleInfo | None:
        return self.by_ref.get((statute_sq, article))


def _article(m: re.Match) -> str:
    return f"{m.group('art')}조" + (f"의{m.group('br2')}" if m.group("br2") else "")


def cited_articles(answer: str, catalog: ArticleCatalog) -> list[ArticleInfo]:
    """Every article the answer cites that exists in the catalogue (in order, no repeats)."""
    found: list[ArticleInfo] = []
    last: str | None = None  # the base statute (법률) of the latest named reference, squashed
    base_named: str | None = None  # the statute a later "법 제N조" means
    spans: list[tuple[int, int]] = []

    def add(statute_sq: str | None, art: str) -> None:
        if statute_sq is None:
            return
        info = catalog.lookup(statute_sq, art)
        if info is not None and info not in found:
            found.append(info)

    for m in _CITE.finditer(answer):
        spans.append(m.span())
        sub = m.group("sub")
        if m.group("same"):
            base = last
        else:
            raw = m.group("br") or m.group("plain") or ""
            raw_sq = _SUB.sub("", squash(raw))
            trailing = re.search(r"(시행령|시행규칙)$", raw_sq)
            if trailing:
                sub = sub or trailing.group(1)
                raw_sq = raw_sq[: trailing.start()]
            base = catalog.resolve_statute(raw_sq)
            if base is None and m.group("plain"):
                # "…에 따라 근로기준법 제60조": the plain match may have swallowed leading words
                for cut in range(1, len(raw_sq) - 1):
                    base = catalog.resolve_statute(raw_sq[cut:])
                    if base:
                        break
            last = base if base is not None else None
            base_named = last
        if base is None:
            continue
        add(base + sub if sub else base, _article(m))
    # "법 제N조" / "영 제N조" / "규칙 제N조" after a named statute ("(이하 '법'이라 한다)")
    if base_named is not None or last is not None:
        base = base_named or last
        for m in _SHORT.finditer(answer):
            if any(a <= m.start() < b for a, b in spans):
                continue
            kind = m.group("kind")
            target = base if kind == "법" else base + ("시행령" if kind in ("영", "시행령") else "시행규칙")
            add(target, _article(m))
    return found


def title_words(title: str) -> list[str]:
    return [w for w in _TITLE_WORD.findall(title) if w not in _STOP_TITLE_WORDS]


def title_supported(info: ArticleInfo, answer: str) -> bool:
    """A word of the article's current title occurs in the answer (spaces ignored): the check that
    a cited number still means the same article today. On realqa_dev's records this reproduces
    the published gold labels (177 of 179 gold articles kept); requiring every title word kept
    only 61."""
    words = title_words(info.title)
    if not words:
        return False
    text = squash(answer)
    return any(w in text for w in words)


def labels_for(answer: str, catalog: ArticleCatalog) -> tuple[list[str], list[str]]:
    """(kept article keys, rejected article keys) for one answer."""
    kept, rejected = [], []
    for info in cited_articles(answer, catalog):
        (kept if title_supported(info, answer) else rejected).append(info.key)
    return kept, rejected


_NAMED = re.compile(r"(?:「(?P<br>[^」]{2,60})」|(?P<plain>[가-힣·ㆍ]{2,40}(?:법|법률)))\s*(?:시행령|시행규칙)?\s*제\s?\d+\s?조")


def cites_only_elsewhere(answer: str, catalog: ArticleCatalog) -> bool:
    """The answer cites articles of named statutes, none of which is indexed (``민법 제750조``
    only, say): the question is answered by law outside the corpus."""
    named = False
    for m in _NAMED.finditer(answer):
        raw = _SUB.sub("", squash(m.group("br") or m.group("plain") or ""))
        raw = re.sub(r"(시행령|시행규칙)$", "", raw)
        if m.group("plain") and not m.group("br"):
            # a plain match may carry leading words ("…에따라민법"): try its suffixes
            if any(catalog.resolve_statute(raw[i:]) for i in range(len(raw) - 1)):
                return False
        elif catalog.resolve_statute(raw):
            return False
        named = True
    return named and not cited_articles(answer, catalog)
