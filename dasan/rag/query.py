"""Query understanding: what a question names explicitly.

- **Statute mentions**: a question that names a statute ("개인정보 보호법상 …") is about that
  statute family (법률 with its 시행령 and 시행규칙). Names are matched with spaces removed
  against the titles of the statutes actually in the store, longest first.
- **Penalty questions**: "과태료는 얼마", "어떤 벌을 받나요" are answered by a statute's penalty
  articles (벌칙, 과태료, 양벌규정), whatever the question's other words say.
- **Quoted phrases**: a term in quotes ("표본감시", 「…」) should occur literally in the answer;
  statutes define terms exactly that way (`"표본감시"란 …`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_QUOTE_RE = re.compile(r"[\"“'‘「『]([^\"”'’」』\n]{2,60})[\"”'’」』]")
_SUBORDINATE_RE = re.compile(r"\s*(시행령|시행규칙)$")
_SPACES = re.compile(r"\s+")
_PENALTY_RE = re.compile(r"과태료|벌금|벌칙|징역|처벌(?!법|\s*등에)|벌을|벌은|벌이|무슨\s*벌|형사\s*처벌")
_PENALTY_TITLE_RE = re.compile(r"벌칙|과태료|양벌|처벌$")


def is_penalty_title(article_title: str) -> bool:
    """``벌칙``, ``과태료``, ``양벌규정``, ``…경영책임자등의 처벌``."""
    return bool(_PENALTY_TITLE_RE.search(article_title))


def statute_family(title: str | None) -> str:
    """``철도안전법 시행령`` → ``철도안전법`` with spaces removed (the matching key)."""
    return _SPACES.sub("", _SUBORDINATE_RE.sub("", title or ""))


def quoted_phrases(query: str) -> list[str]:
    return [p.strip() for p in _QUOTE_RE.findall(query) if p.strip()]


@dataclass
class QueryInfo:
    text: str
    families: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    penalty: bool = False  # asks what sanction applies


class StatuteCatalog:
    """The statute families present in the store, for mention detection."""

    def __init__(self, families: Iterable[str]) -> None:
        # Very short names ("법") would match everywhere; require a real title.
        self.families = sorted({f for f in families if len(f) >= 3}, key=len, reverse=True)

    def mentions(self, query: str) -> list[str]:
        q = _SPACES.sub("", query)
        found: list[str] = []
        for fam in self.families:
            if fam in q and not any(fam in longer for longer in found):
                found.append(fam)
        return found

    def analyse(self, query: str) -> QueryInfo:
        return QueryInfo(text=query, families=self.mentions(query), phrases=quoted_phrases(query),
                         penalty=bool(_PENALTY_RE.search(query)))
