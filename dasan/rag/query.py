"""Query understanding: what a question names explicitly.

- **Statute mentions**: a question that names a statute ("개인정보 보호법상 …") is about that
  statute family (법률 with its 시행령 and 시행규칙). Names are matched with spaces removed
  against the titles of the statutes actually in the store, longest first.
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
        return QueryInfo(text=query, families=self.mentions(query), phrases=quoted_phrases(query))
