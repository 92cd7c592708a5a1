"""``dasan youth bench``: eligibility and ranking quality over JSONL cases.

Each case is answered from its profile and its question (the case's ``category`` and
``keywords`` when given, otherwise those read from the question). Metrics, as issue 17 defines them:
  * false_eligible = share of all ``gold_not_eligible_examples`` (pooled over cases) labelled 대상;
  * precision@5 = per case, share of the first min(5, |gold_eligible|) results that are in
    gold_eligible or gold_needs_check; mean over cases with a non-empty gold_eligible;
  * recall@20 = per case, share of gold_eligible among the first twenty results labelled 대상;
    mean over cases with a non-empty gold_eligible;
  * p95_ms = 95th percentile of the time to answer one case (screening every policy on the
    topic and ranking); ``screen_all_p95_ms``: screening the whole catalogue for one profile.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from dasan.apps.youth.catalogue import Policy
from dasan.apps.youth.rules import ELIGIBLE, Profile, screen, screen_all
from dasan.errors import DasanError, ReadError


class BenchCaseError(DasanError):
    code = "youth_bench_case"


@dataclass
class CaseOutcome:
    id: str
    precision5: float | None
    recall20: float | None
    false_eligible: list[str]
    not_eligible_n: int
    ms: float
    top: list[tuple[str, str]]


def read_cases(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ReadError(f"사례 파일을 읽을 수 없습니다 ({e.strerror}).", path=str(path)) from e
    out = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
        except json.JSONDecodeError as e:
            raise BenchCaseError(f"{i}행이 JSON이 아닙니다 ({e.msg}). 한 줄에 사례 하나씩 JSON으로 쓰세요.",
                                 path=str(path)) from e
        for key in ("profile", "reference_date"):
            if key not in case:
                raise BenchCaseError(f"{i}행에 '{key}'가 없습니다.", path=str(path))
        out.append(case)
    return out


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def run_case(policies: list[Policy], by_no: dict[str, Policy], case: dict[str, Any]) -> CaseOutcome:
    from dasan.apps.youth.profile_parse import parse_question
    from dasan.apps.youth.recommend import Query, recommend

    on = date.fromisoformat(case["reference_date"])
    t0 = time.perf_counter()
    profile = Profile.from_dict(case["profile"], lenient=True)
    if case.get("category") or case.get("keywords"):
        query = Query(case.get("category") or None, tuple(case.get("keywords") or ()), case.get("question", ""))
    else:
        query = parse_question(case.get("question", "")).query
    rec = recommend(policies, profile, query, on)
    ms = (time.perf_counter() - t0) * 1000
    ranked = [r.policy.plcy_no for r in rec.results]
    elig = set(case.get("gold_eligible") or ())
    ok = elig | set(case.get("gold_needs_check") or ())
    p5 = r20 = None
    if elig:
        k = min(5, len(elig))
        p5 = sum(1 for x in ranked[:k] if x in ok) / k
        labelled = [r.policy.plcy_no for r in rec.results[:20] if r.status == ELIGIBLE]
        r20 = len(elig & set(labelled)) / len(elig)
    wrong = []
    nots = [x for x in case.get("gold_not_eligible_examples") or () if x in by_no]
    for x in nots:  # the label of the policy itself, wherever it is ranked
        if screen(by_no[x], profile, on).status == ELIGIBLE:
            wrong.append(x)
    return CaseOutcome(str(case.get("id", "")), p5, r20, wrong, len(nots), ms,
                       [(r.policy.plcy_no, r.status) for r in rec.results[:5]])


def run_bench(policies: list[Policy], cases: list[dict[str, Any]]) -> dict[str, Any]:
    by_no = {p.plcy_no: p for p in policies}
    outs = [run_case(policies, by_no, c) for c in cases]
    p5 = [o.precision5 for o in outs if o.precision5 is not None]
    r20 = [o.recall20 for o in outs if o.recall20 is not None]
    n_not = sum(o.not_eligible_n for o in outs)
    full = []
    for c in cases[: min(len(cases), 30)]:
        prof = Profile.from_dict(c["profile"], lenient=True)
        on = date.fromisoformat(c["reference_date"])
        t0 = time.perf_counter()
        screen_all(policies, prof, on)
        full.append((time.perf_counter() - t0) * 1000)
    missing = sorted({x for c in cases for k in ("gold_eligible", "gold_needs_check", "gold_not_eligible_examples")
                      for x in c.get(k) or () if x not in by_no})
    return {
        "n": len(cases),
        "false_eligible": round(sum(len(o.false_eligible) for o in outs) / n_not, 4) if n_not else 0.0,
        "precision@5": round(sum(p5) / len(p5), 4) if p5 else None,
        "recall@20": round(sum(r20) / len(r20), 4) if r20 else None,
        "p95_ms": round(_pct([o.ms for o in outs], 0.95), 1),
        "screen_all_p95_ms": round(_pct(full, 0.95), 1),
        "policies": len(policies),
        "unknown_gold_ids": len(missing),
        "false_eligible_ids": [f"{o.id}:{x}" for o in outs for x in o.false_eligible],
        "per_case": [{"id": o.id, "precision@5": o.precision5, "recall@20": o.recall20, "ms": round(o.ms, 1)}
                     for o in outs],
    }
