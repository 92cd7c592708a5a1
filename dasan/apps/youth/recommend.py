"""Recommendation: the policies on the asked topic, 대상 first, ranked by fit, with what to
prepare, where to apply, and the one missing fact that would settle the most 확인 필요 results.

On the topic = the asked category (대분류, e.g. 주거) is one of the policy's categories AND one
of the asked keywords appears in its name, description, support text or keywords (either part
is skipped when not asked). 대상 come first; 확인 필요 follow, those closest to 대상 first
(:func:`_doubt`). Within that the order is: keyword in the name, in the keywords, in the text;
then an open application window closing soon; then the support amount.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dasan.apps.youth.catalogue import Policy
from dasan.apps.youth.rules import (
    CHECK,
    ELIGIBLE,
    FACT_QUESTIONS,
    NEEDS_CHECK,
    NOT_ELIGIBLE,
    Profile,
    Result,
    screen,
)

CATEGORIES = ("일자리", "주거", "교육", "복지문화", "참여권리")
_AMOUNT = re.compile(r"(?:월|연|최대|1인당|총)?\s*(\d{1,3}(?:,\d{3})*|\d+)\s*(억|천만|백만|만)\s*원")


@dataclass
class Query:
    category: str | None = None
    keywords: tuple[str, ...] = ()
    text: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category, "keywords": list(self.keywords), "text": self.text}


def on_topic(p: Policy, q: Query) -> bool:
    if q.category and q.category not in p.categories:
        return False
    if q.keywords:
        blob = p.topic_text()
        return any(k in blob for k in q.keywords)
    return True


def amount_manwon(p: Policy) -> int:
    """The largest 원 amount named in the support text, in 만원 (0 when none)."""
    best = 0
    for num, unit in _AMOUNT.findall(p.support):
        n = int(num.replace(",", ""))
        v = n * {"억": 10000, "천만": 1000, "백만": 100, "만": 1}[unit]
        best = max(best, v)
    return best


def _fit(r: Result, q: Query) -> tuple[float, ...]:
    p = r.policy
    name_hits = sum(k in p.name for k in q.keywords)
    kw_hits = sum(any(k in w for w in p.keywords) for k in q.keywords)
    text_hits = sum(k in p.description or k in p.support for k in q.keywords)
    w = r.window
    state = w.get("state")
    open_bonus = {"신청 중": 2.0, "상시": 1.0, "신청 예정": 1.0, "마감": 0.0}.get(state or "", 0.0)
    soon = 1.0 / (1 + w["days_left"]) if state == "신청 중" and w.get("days_left") is not None else 0.0
    return (3.0 * name_hits + 2.0 * kw_hits + 1.0 * text_hits, open_bonus + soon, float(min(amount_manwon(p), 100000)))


def _doubt(r: Result) -> int:
    """How far a 확인 필요 result is from 대상: a condition the profile does not state (특화분야,
    전공) or a free-text one weighs 1, a missing profile fact 2, a condition the record itself
    leaves empty or only says '기타' 3."""
    total = 0
    for c in r.checks:
        if c.outcome != CHECK:
            continue
        if c.quote.endswith("(정보 없음)") or "'기타'" in c.reason or "경계가 비어" in c.reason:
            total += 3
        elif c.fact in ("special", "major", "") or c.fact in ("residence_months", "median_income_pct", "homeless"):
            total += 1
        else:
            total += 2
    return total


@dataclass
class Recommendation:
    query: Query
    profile: Profile
    on: date
    results: list[Result]  # 대상 then 확인 필요, each by fit
    not_eligible: list[Result]
    question: dict[str, Any] | None
    considered: int
    notes: list[str] = field(default_factory=list)

    def as_dict(self, *, limit: int = 50, not_eligible_limit: int = 10) -> dict[str, Any]:
        counts = Counter(r.status for r in self.results + self.not_eligible)
        return {
            "reference_date": self.on.isoformat(), "query": self.query.as_dict(), "profile": self.profile.as_dict(),
            "counts": {ELIGIBLE: counts[ELIGIBLE], NEEDS_CHECK: counts[NEEDS_CHECK], NOT_ELIGIBLE: counts[NOT_ELIGIBLE]},
            "considered": self.considered,
            "results": [r.as_dict() for r in self.results[:limit]],
            "not_eligible": [r.as_dict(full=False) for r in self.not_eligible[:not_eligible_limit]],
            "ask": self.question, "notes": self.notes,
        }


def missing_fact(results: list[Result]) -> dict[str, Any] | None:
    """The profile fact that alone would settle the most 확인 필요 results (ties: the one that
    appears in the most of them)."""
    settles: Counter[str] = Counter()
    appears: Counter[str] = Counter()
    for r in results:
        if r.status != NEEDS_CHECK:
            continue
        open_checks = [c for c in r.checks if c.outcome == CHECK]
        facts = {c.fact for c in open_checks}
        for f in facts - {""}:
            appears[f] += 1
        if len(facts) == 1 and "" not in facts:
            settles[next(iter(facts))] += 1
    if not appears:
        return None
    fact = max(appears, key=lambda f: (settles[f], appears[f]))
    return {"fact": fact, "question": FACT_QUESTIONS.get(fact, fact), "settles": settles[fact],
            "affects": appears[fact]}


def recommend(policies: list[Policy], profile: Profile, query: Query, on: date) -> Recommendation:
    pool = [p for p in policies if on_topic(p, query)]
    screened = [screen(p, profile, on) for p in pool]
    good = [r for r in screened if r.status != NOT_ELIGIBLE]
    good.sort(key=lambda r: (r.status != ELIGIBLE, _doubt(r), *(-x for x in _fit(r, query)), r.policy.plcy_no))
    bad = [r for r in screened if r.status == NOT_ELIGIBLE]
    notes = []
    if not pool:
        notes.append("물어본 주제에 맞는 정책을 찾지 못했습니다. 분야나 낱말을 바꿔 보세요.")
    return Recommendation(query, profile, on, good, bad, missing_fact(good), len(pool), notes)
