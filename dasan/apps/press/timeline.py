"""Releases on a topic in date order: "언제 처음 발표했나", ``dasan press timeline "주제"``.

The topic is searched like any question, through :class:`~dasan.rag.retrieve.Retriever` with
the asker's access filter (levels, collections, embargo: applied inside the search before the
top-k cut) narrowed to press releases and to the 보도일 bounds given. Of the releases found, a
release is *on the topic* when its headline, subtitles and lede (first chunk) hold most of the
topic's content nouns (IDF-weighted share ≥ ``min_coverage``): a release that mentions the
topic in passing, deep in an attachment, is not listed. The list is ordered by 보도일, oldest
first (ties by headline).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from dasan.apps.press.qa import NO_RELEASE, content_nouns, ko_date, question_core
from dasan.rag.extract import unit_tokens
from dasan.rag.retrieve import reads_one_snapshot
from dasan.types import Answer, Chunk, CitedSource

if TYPE_CHECKING:
    from dasan.rag.retrieve import Retriever, SearchFilter
    from dasan.rag.timewords import TimeWindow

#: Words that ask for the list itself, not the topic ("언제 처음 발표했나요", "보도자료 목록").
_ASKING = re.compile(
    r"(?:언제|어디서|누가)?\s*(?:맨\s*)?(?:처음|최초|첫\s*번째로|첫)\s*(?:으로)?\s*"
    r"(?:발표|보도|공고|나왔|나온|알렸|공개|냈)[가-힣]*|"
    r"(?:몇\s*번|몇\s*차례)(?:이나)?\s*(?:발표|보도|냈|나왔)[가-힣]*|"
    r"(?:그동안|지금까지)\s*(?:나온|발표된|낸)|보도\s*자료[가-힣]*|목록|타임라인|경과|교육부(?:가|는|에서)?|"
    r"(?:알려|정리해)\s*(?:주세요|줘|줄래)?[.?!]*|(?:게|건|것은?)?\s*언제[가-힣]*"
)


@dataclass
class TimelineEntry:
    release_date: str | None
    title: str
    ministry: str
    departments: list[str]
    document_id: str
    chunk: Chunk  # the release's first permitted chunk (what a citation points to)
    coverage: float
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"release_date": self.release_date, "title": self.title, "ministry": self.ministry,
                "departments": self.departments, "document_id": self.document_id,
                "citation": self.chunk.citation.label, "coverage": round(self.coverage, 3),
                "score": round(self.score, 4)}


def topic_of(question: str, window: TimeWindow | None = None) -> str:
    """The topic of a "언제 처음 발표했나" question (what the releases are about)."""
    core = _ASKING.sub(" ", question_core(question, window))
    core = re.sub(r"\s+", " ", core).strip(" ,.?!")
    core = re.sub(r"\s*(?:관련|에\s*대한|에\s*관한|에\s*대해|에\s*관해)$", "", core)
    core = re.sub(r"(?<=[가-힣)])(?:은|는|을|를)$", "", core).strip()  # "…사업은" → "…사업"
    return core or question


@reads_one_snapshot
def timeline(retriever: Retriever, topic: str, flt: SearchFilter | None = None, *,
             date_from: str | None = None, date_to: str | None = None, depth: int = 80,
             min_coverage: float = 0.6, limit: int = 50) -> list[TimelineEntry]:
    """The releases on ``topic`` permitted by ``flt`` (and within the 보도일 bounds), oldest first."""
    from dasan.rag.retrieve import SearchFilter

    base = flt or SearchFilter()
    if base.kinds and "press" not in base.kinds:
        return []
    lo = max([d for d in (base.date_from, date_from) if d], default=None)
    hi = min([d for d in (base.date_to, date_to) if d], default=None)
    narrowed = replace(base, kinds=("press",), date_from=lo, date_to=hi)
    hits = retriever.search(topic, k=depth, flt=narrowed)
    best: dict[str, Any] = {}
    for h in hits:
        best.setdefault(h.chunk.document_id, h)
    if not best:
        return []
    whole = retriever.document_chunks([h.chunk.id for h in best.values()], narrowed)
    bm = retriever.lexical.bm25
    from dasan.rag.support import idf_from_bm25

    idf = idf_from_bm25(bm.vocab, bm.idf) if bm is not None else (lambda t: 1.0)
    nouns = content_nouns(topic)
    weights = {t: idf(t) for t in nouns}
    total = sum(weights.values()) or 1.0
    leads = []
    for h in best.values():
        chunks = whole.get(h.chunk.id) or [h.chunk]
        m = h.chunk.meta
        leads.append("\n".join([h.chunk.citation.title or "", *[str(s) for s in m.get("subtitles") or []],
                                chunks[0].text]))
    out: list[TimelineEntry] = []
    for h, toks in zip(best.values(), unit_tokens(leads), strict=True):
        cov = sum(w for t, w in weights.items() if t in toks) / total if weights else 1.0
        if cov < min_coverage:
            continue
        m = h.chunk.meta
        chunks = whole.get(h.chunk.id) or [h.chunk]
        out.append(TimelineEntry(
            release_date=m.get("release_date"), title=h.chunk.citation.title or "", ministry=m.get("ministry") or "",
            departments=[str(d) for d in m.get("departments") or []], document_id=h.chunk.document_id,
            chunk=chunks[0], coverage=cov, score=h.score))
    out.sort(key=lambda e: (e.release_date or "9999", e.title))
    return out[:limit]


def describe(e: TimelineEntry) -> str:
    who = ", ".join(e.departments) or e.ministry
    return f"{ko_date(e.release_date)} ‘{e.title}’ ({who})" if who else f"{ko_date(e.release_date)} ‘{e.title}’"


def timeline_answer(retriever: Retriever, question: str, flt: SearchFilter | None = None,
                    window: TimeWindow | None = None) -> Answer:
    """"언제 처음 발표했나": the first release on the topic, then the list in date order."""
    topic = topic_of(question, window)
    # ``flt`` already carries the question's 보도일 bounds when it named a time
    entries = timeline(retriever, topic, flt)
    if not entries:
        return Answer(text=NO_RELEASE, refused=True, notes=[f"timeline topic={topic!r}: no release"])
    first = entries[0]
    lines = [f"‘{topic}’ 관련 보도자료는 {len(entries)}건이며, 처음 나온 것은 {describe(first)}입니다. [1]"]
    cites = []
    for i, e in enumerate(entries, 1):
        cites.append(CitedSource(marker=i, chunk=e.chunk, quote=e.title if e.title in e.chunk.text else
                                 e.chunk.text.splitlines()[0], score=e.coverage))
        if len(entries) > 1:
            lines.append(f"- {describe(e)} [{i}]")
    lines.append("출처: " + " / ".join(f"[{c.marker}] {c.chunk.citation.label}" for c in cites))
    return Answer(text="\n".join(lines), refused=False, citations=cites, notes=[f"timeline topic={topic!r}"])
