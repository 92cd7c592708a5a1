"""Procedures as ordered checklists: "열차 안에서 연기가 나요, 뭐부터 해요?" answered with the
numbered steps of the best-matching section, from the operator's own manual first and the
행정안전부 국민행동요령 second, each step cited (document, section, step number).

A section is a procedure when its text has at least two numbered steps (``1.``, ``2)``, ``(3)``,
``①``, ``가.``);
its steps keep the manual's order. Sections come from search (access filters applied inside
it), and a section split across chunks is read whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dasan.rag.retrieve import reads_one_snapshot

_STEP = re.compile(r"^\s*(?:(\d{1,2})\s*[.)]|\((\d{1,2})\)|([①-⑳])|([가나다라마바사아자차카타파하])\s*[.)])\s*(.+)$")
_HANGUL_ORDER = "가나다라마바사아자차카타파하"
GUIDE = "국민행동요령(행정안전부)"
MANUAL = "운영기관 매뉴얼"


@dataclass
class Step:
    n: int
    text: str


@dataclass
class Checklist:
    source: str  # MANUAL or GUIDE
    document_id: str
    section: str  # heading path, e.g. "도시철도 현장작업 안전매뉴얼 > 제3장 감전 예방 > 3.3 감전 사고 발생 시"
    steps: list[Step] = field(default_factory=list)

    def citation(self, step: Step) -> str:
        return f"{self.section} {step.n}단계"


def steps_of(text: str) -> list[Step]:
    """The numbered steps of a section, in order (a numbering that restarts ends the list)."""
    out: list[Step] = []
    for line in text.splitlines():
        m = _STEP.match(line)
        if not m:
            continue
        if m.group(1) or m.group(2):
            n = int(m.group(1) or m.group(2))
        elif m.group(3):
            n = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳".index(m.group(3)) + 1
        else:
            n = _HANGUL_ORDER.index(m.group(4)) + 1
        if out and n <= out[-1].n:
            break
        out.append(Step(n, m.group(5).strip()))
    return out


RELATIVE_FLOOR = 0.6  # a section counts when its search score is at least this share of the best
# Words a field worker says for what the guides name otherwise: smoke means a fire, and in a
# 도시철도 operator's questions a train (열차, 전동차) is the 지하철 of the national guides.
FIELD_WORDS = {"연기": "화재", "불꽃": "화재", "열차": "지하철", "전동차": "지하철", "스크린도어": "승강장안전문",
               **dict.fromkeys(("몰려", "몰렸", "몰린", "붐비", "붐벼", "붐빈", "북적"), "인파 밀집")}


def field_query(question: str) -> str:
    extra = [w for k, w in FIELD_WORDS.items() if k in question and w not in question]
    return question + (" " + " ".join(dict.fromkeys(extra)) if extra else "")


@reads_one_snapshot
def checklists(question: str, retriever: Any, flt: Any = None, k: int = 30) -> list[Checklist]:
    """The best procedure from the operator's documents, then the best from the guides; within
    each source only sections scoring at least RELATIVE_FLOOR of that source's best hit (chosen on
    the example manual's questions: "1.2 적용 범위" must not answer a question about smoke in a
    train; the guides are judged against each other, not against the operator's own manual)."""
    from dasan.apps.field.relevance import key_words, shares

    query = field_query(question)
    words = key_words(query)
    hits = retriever.search(query, k=k, flt=flt)
    best: dict[str, Checklist] = {}
    top: dict[str, float] = {}
    seen: set[tuple[str, str]] = set()
    for h in hits:
        c = h.chunk
        if c.meta.get("kind") in ("law", "press", "records"):
            continue
        section = c.context or c.citation.label
        key = (c.document_id, section)
        if key in seen:
            continue
        seen.add(key)
        doc = retriever.store.get_document(c.document_id)
        if doc is not None and doc.kind in ("law", "press", "records"):
            continue
        source = GUIDE if doc is not None and doc.metadata.get("source_kind") == "action_guide" else MANUAL
        top.setdefault(source, h.score)
        if source in best or h.score < RELATIVE_FLOOR * top[source]:
            continue
        whole = retriever.document_chunks([c.id], flt).get(c.id, [c])
        text = "\n".join(x.text for x in whole if (x.context or x.citation.label) == section)
        steps = steps_of(text)
        # relevant: a specific word of the question in the heading, or two of them in one step
        if len(steps) >= 2 and (shares(words, section) or any(len(shares(words, s.text)) >= 2 for s in steps)):
            best[source] = Checklist(source, c.document_id, section, steps)
        if len(best) == 2:
            break
    return [best[s] for s in (MANUAL, GUIDE) if s in best]


def checklist_text(items: list[Checklist]) -> str:
    if not items:
        return "이 상황에 맞는 절차(번호가 매겨진 단계)를 문서에서 찾지 못했습니다. 근거 없이 안내하지 않습니다."
    lines = []
    if not any(c.source == MANUAL for c in items):
        lines.append(f"[{MANUAL}] 이 상황에 맞는 절차를 찾지 못했습니다.")
    for cl in items:
        lines.append(f"[{cl.source}] {cl.section}")
        lines.extend(f"  {s.n}. {s.text}" for s in cl.steps)
    return "\n".join(lines)
