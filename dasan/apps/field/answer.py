"""One field answer from three kinds of source, in labelled parts:

- 지금 할 일 — the numbered steps of the operator's manual, then the 국민행동요령 (procedures.py);
- 법적 의무 — the statute articles the situation touches and the reporting duties it may
  trigger (duties.py), each quoted from the ingested statute with 시행일자 and whether in force;
- 과거 사례 — the most similar past records with what was done, and counts (records.py); a
  counting question ("작년 2호선 끼임 몇 건?") gets its structured query and exact count first.

Every part says when it has no source, and a question no part can support is refused: a field
worker never gets safety advice that no document backs. A source counts only when it shares a
specific word with the question (not railway words every document has: 열차, 역, 사고 …), so a
question outside the corpus is not answered with the nearest unrelated procedure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dasan.apps.field import duties as dt
from dasan.apps.field import records as rec
from dasan.apps.field.procedures import MANUAL, Checklist, checklists
from dasan.apps.field.relevance import key_words, shares
from dasan.rag.retrieve import reads_one_snapshot

NOW, LAW, PAST = "지금 할 일", "법적 의무", "과거 사례"
# An incident described in the question; "불" and "멈" only as the words (불이 났어요, 불길, 멈췄어요),
# not inside 불편·불만·불안 or the like.
_INCIDENT = re.compile(r"화재|(?<![가-힣])불(?:이|길|꽃|나|났|붙|타|(?![가-힣]))|연기|끼|넘어|추락|떨어|감전|다쳤|다친|부상|사망"
                       r"|정전|멈추|멈췄|멈춰|멈춤|충돌|탈선|고장|장애|침수|지진|폭염|쓰러|밀집|혼잡")


@dataclass
class LawItem:
    citation: str
    document_id: str
    chunk_id: str
    text: str
    시행일자: str | None
    in_force: bool | None
    why: str = ""
    words: frozenset[str] = frozenset()  # the question's words, to pick the lines to quote

    def as_dict(self) -> dict[str, Any]:
        """What the API and the report draft show of one article."""
        return {"citation": self.citation, "document_id": self.document_id, "chunk_id": self.chunk_id,
                "text": self.text, "시행일자": self.시행일자, "in_force": self.in_force, "why": self.why}

    def quote(self, limit: int = 2, width: int = 200) -> str:
        """The article's heading and the 항·호 that share most of the question's words (in the
        article's order), each clipped to ``width`` characters."""
        lines = [x.strip() for x in self.text.splitlines() if x.strip()]
        if not lines:
            return ""
        head = lines[0]
        body = [x for x in lines[1:] if not re.fullmatch(r"제\s?\d+\s?조(?:의\s?\d+)?\s?\([^)]*\)", x)]
        if not body:
            return _clip(head, width * limit)
        scored = sorted(range(len(body)), key=lambda i: (-len(shares(set(self.words), body[i])), i))[:limit]
        picked = [body[i] for i in sorted(scored)]
        return " ".join([_clip(head, 80), *(_clip(x, width) for x in picked)])


@dataclass
class DutyItem:
    name: str
    applies: str
    why: str
    to: str
    deadline: str
    items: list[str]
    sources: list[LawItem]
    note: str = ""


@dataclass
class FieldAnswer:
    question: str
    steps: list[Checklist] = field(default_factory=list)
    laws: list[LawItem] = field(default_factory=list)
    duties: list[DutyItem] = field(default_factory=list)
    count: rec.Answer | None = None  # a counting question's structured answer
    similar: list[tuple[rec.Table, list[rec.Similar]]] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return not (self.steps or self.laws or self.duties or self.count or self.similar)

    def parts(self) -> dict[str, bool]:
        return {NOW: bool(self.steps), LAW: bool(self.laws or self.duties),
                PAST: bool(self.count or self.similar)}

    def text(self) -> str:
        if self.refused:
            return ("이 질문을 뒷받침하는 매뉴얼·법령·사고 기록을 찾지 못했습니다. 근거 없이 안전 조치를 안내하지 않습니다. "
                    "종합상황실이나 안전 담당 부서에 문의하세요.")
        out: list[str] = []
        lead = self._lead()
        if lead:
            out.append(lead)
        out.append(f"■ {NOW}")
        if self.steps:
            if not any(c.source == MANUAL for c in self.steps):
                out.append(f"  [{MANUAL}] 이 상황의 절차를 찾지 못했습니다.")
            for c in self.steps:
                out.append(f"  [{c.source}] {c.section}")
                out.extend(f"  {s.n}. {s.text}" for s in c.steps)
        else:
            out.append("  이 상황에 맞는 절차를 매뉴얼·국민행동요령에서 찾지 못했습니다.")
        out.append(f"■ {LAW}")
        if not (self.laws or self.duties):
            out.append("  관련 법령 조문을 찾지 못했습니다.")
        for d in self.duties:
            out.append(f"  - {d.name} [{d.applies}] → {d.to}, 기한: {d.deadline}")
            out.append(f"    근거: {', '.join(s.citation for s in d.sources)} ({d.why})")
            if d.note:
                out.append(f"    ※ {d.note}")
        for law in self.laws:
            state = "" if law.in_force is None else (" 현행" if law.in_force else " 시행 전/폐지")
            out.append(f"  - {law.citation} (시행 {law.시행일자 or '미상'}{state}): {law.quote()}")
        out.append(f"■ {PAST}")
        if self.count is not None:
            out.append("  " + self.count.text().replace("\n", "\n  "))
        for table, items in self.similar:
            out.append(f"  [{table.title}] 비슷한 기록 {len(items)}건")
            for it in items:
                f = it.record.fields
                head = " · ".join(v for c in table.columns[1:6] if (v := f.get(c)))
                out.append(f"  - {it.record.record_id}: {head}")
                for c in table.columns:
                    if any(w in c for w in ("조치", "대책")) and f.get(c):
                        out.append(f"      {c}: {f[c]}")
        if self.count is None and not self.similar:
            out.append("  비슷한 과거 기록을 찾지 못했습니다.")
        return "\n".join(out)

    def _lead(self) -> str:
        """The one line a reader needs first: the count asked for, or the first step."""
        if self.count is not None:
            q = self.count.query
            if q.aggregate == "group" and self.count.groups:
                v, n, _ = self.count.groups[0]
                return f"가장 많은 {q.group_by}: {v} ({n}건)"
            if q.aggregate == "count":
                return f"해당 기록은 {len(self.count.matched)}건입니다."
        if self.steps:
            c = self.steps[0]
            return f"먼저: {c.steps[0].text} [{c.citation(c.steps[0])}]"
        return ""

    def citations(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for c in self.steps:
            out += [{"part": NOW, "citation": c.citation(s), "document_id": c.document_id} for s in c.steps]
        for d in self.duties:
            out += [{"part": LAW, "citation": s.citation, "document_id": s.document_id, "chunk_id": s.chunk_id}
                    for s in d.sources]
        out += [{"part": LAW, "citation": x.citation, "document_id": x.document_id, "chunk_id": x.chunk_id}
                for x in self.laws]
        if self.count is not None:
            out += [{"part": PAST, "citation": r.label, "document_id": self.count.table.document_id,
                     "chunk_id": r.chunk_id} for r in self.count.matched[:20]]
        for table, items in self.similar:
            out += [{"part": PAST, "citation": it.record.label, "document_id": table.document_id,
                     "chunk_id": it.record.chunk_id} for it in items]
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question, "refused": self.refused, "answer": self.text(), "parts": self.parts(),
            "now": [{"source": c.source, "document_id": c.document_id, "section": c.section,
                     "steps": [{"n": s.n, "text": s.text, "citation": c.citation(s)} for s in c.steps]}
                    for c in self.steps],
            "law": {"duties": [_duty_json(d) for d in self.duties], "articles": [x.as_dict() for x in self.laws]},
            "past": {"count": self.count.as_dict() if self.count is not None else None,
                     "similar": [{"table": t.title, "document_id": t.document_id, "records": [
                         {"record_id": it.record.record_id, "citation": it.record.label, "score": round(it.score, 3),
                          "matched": it.reasons, "fields": it.record.fields} for it in items]}
                         for t, items in self.similar]},
            "citations": self.citations(),
        }


def _clip(text: str, n: int) -> str:
    t = " ".join(text.split())
    return t if len(t) <= n else t[: n - 1] + "…"


def _duty_json(d: DutyItem) -> dict[str, Any]:
    return {"name": d.name, "applies": d.applies, "why": d.why, "to": d.to, "deadline": d.deadline,
            "items": d.items, "note": d.note, "sources": [s.as_dict() for s in d.sources]}


def _law_item(chunks: list[Any], why: str = "") -> LawItem:
    from dasan.rag.sources import source_facts

    c = chunks[0]
    facts = source_facts(c)
    label = c.citation.label.split(" 제")[0] + " " + (c.citation.article or "") if c.citation.article else c.citation.label
    return LawItem(label.strip(), c.document_id, c.id, "\n".join(x.text for x in chunks),
                   facts.get("시행일자"), facts.get("in_force"), why)


def article_source(retriever: Any, citation: str, flt: Any) -> LawItem | None:
    """The article ``citation`` ("철도안전법 시행령 제57조") as the caller may read it, or None."""
    from dasan.rag.retrieve import SearchFilter

    law_flt = _law_filter(flt or SearchFilter())
    hits = retriever.search(citation, k=5, flt=law_flt, mode="lexical")
    want = " ".join(citation.split())
    for h in hits:
        c = h.chunk
        label = " ".join(c.citation.label.split())
        if label == want or label.startswith(want + " "):
            whole = retriever.article_chunks([c.id], law_flt).get(c.id, [c])
            return _law_item(whole)
    return None


def _law_filter(flt: Any) -> Any:
    from dataclasses import replace

    return replace(flt, kinds=("law",))


def relevant_laws(question: str, retriever: Any, flt: Any, words: set[str], k: int = 2) -> list[LawItem]:
    """Statute articles the question touches: the best law hits that share a specific word of the
    question in their title, or three in their text, within 60 % of the best hit's score."""
    from dasan.rag.retrieve import SearchFilter

    law_flt = _law_filter(flt or SearchFilter())
    hits = retriever.search(question, k=10, flt=law_flt)
    if not hits:
        return []
    floor = 0.6 * hits[0].score
    out: list[LawItem] = []
    seen: set[str] = set()
    for h in hits:
        if h.score < floor or len(out) >= k:
            break
        c = h.chunk
        head = f"{c.citation.label} {c.context or ''}"
        in_title, in_text = shares(words, head), shares(words, c.text)
        if not in_title and len(in_text) < 3:
            continue
        whole = retriever.article_chunks([c.id], law_flt).get(c.id, [c])
        item = _law_item(whole, "질문의 '" + "', '".join(sorted(in_title or in_text)) + "'")
        item.words = frozenset(words)
        if item.citation not in seen:
            seen.add(item.citation)
            out.append(item)
    return out


def duty_items(inc: dt.Incident, retriever: Any, flt: Any, when: Any = None) -> list[DutyItem]:
    out = []
    for duty, applies, why in dt.check(inc):
        sources = [s for cit in duty.articles if (s := article_source(retriever, cit, flt)) is not None]
        if not sources:
            continue  # a duty is never stated without its article
        out.append(DutyItem(duty.name, applies, why, duty.to, dt.due_of(duty, when) if when else duty.deadline,
                            list(duty.items), sources, duty.note))
    return out


@reads_one_snapshot
def field_answer(question: str, retriever: Any, store: Any, principal: Any = None, flt: Any = None,
                 collection: str | None = None, today: date | None = None, k_similar: int = 3) -> FieldAnswer:
    """The three-part answer over what ``principal`` may see (``flt``: its search filter)."""
    from dasan.apps.field.procedures import field_query

    words = key_words(field_query(question))
    ans = FieldAnswer(question)
    ans.steps = checklists(question, retriever, flt)
    ans.laws = relevant_laws(question, retriever, flt, words)
    tables = rec.load_tables(store, principal, collection)
    counted = rec.answer(question, tables, today) if tables else None
    if counted is not None and counted.query.aggregate in ("count", "group") and counted.query.filters + (
            [counted.query.group_by] if counted.query.group_by else []):
        ans.count = counted
    if ans.count is None:
        for t in tables:
            # a past record counts when the description names one of its fields (사고유형, 장소 …)
            # or shares two specific words with it; the season alone makes nothing similar
            items = [it for it in rec.similar(question, t, k_similar, today)
                     if any(r != "같은 계절" for r in it.reasons)
                     or len(shares(words, " ".join(it.record.fields.values()))) >= 2]
            if items:
                ans.similar.append((t, items))
    if _INCIDENT.search(question) and (ans.steps or ans.similar):
        ans.duties = duty_items(dt.Incident.of(question), retriever, flt)
    return ans


def masked(store: Any, obj: dict[str, Any]) -> dict[str, Any]:
    """A field answer's JSON (``FieldAnswer.as_dict``, or a report draft's) with every text masked
    per the strictest personal-data policy among the collections it cites (fail closed: a
    ``block`` policy that finds personal data refuses the whole answer)."""
    from dasan.errors import PiiBlockedError
    from dasan.security.pii_policy import apply_policy

    order = ["off", "mask_answer", "mask_ingest", "block"]
    doc_ids = {c.get("document_id") for c in obj.get("citations", [])} | set(_find(obj, "document_id"))
    policies = set()
    for d in filter(None, doc_ids):
        doc = store.get_document(d)
        if doc is not None:
            policies.add(store.collection_pii_policy(doc.collection))
    strictest = max(policies or {"off"}, key=lambda p: order.index(p) if p in order else len(order))
    if strictest == "off":
        return obj

    def walk(x: Any) -> Any:
        if isinstance(x, str):
            return apply_policy(x, strictest, "answer")
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, dict):
            return {k: (v if k in ("document_id", "chunk_id") else walk(v)) for k, v in x.items()}
        return x

    try:
        return walk(obj)
    except PiiBlockedError as e:
        return {"question": obj.get("question", ""), "refused": True, "parts": {NOW: False, LAW: False, PAST: False},
                "answer": f"개인정보 보호 정책에 따라 답변을 보여 드릴 수 없습니다. ({e.message})", "citations": []}


def _find(x: Any, key: str) -> list[Any]:
    if isinstance(x, dict):
        return [v for k, v in x.items() if k == key] + [y for v in x.values() for y in _find(v, key)]
    if isinstance(x, list):
        return [y for v in x for y in _find(v, key)]
    return []
