"""OpenFisca-style YAML cases for the youth rules: ``dasan youth test DIR`` and the test suite.

One YAML file holds a list of cases (or ``{reference_date, policies, cases}``)::

    reference_date: 2025-09-01          # default for the file's cases
    policies: [ {plcyNo: T1, ...} ]     # optional inline 온통청년 records (missing code fields = 제한없음)
    cases:
      - name: 만 34세 생일 전날
        profile: {birth_date: 1990-09-02, sigungu_code: "11620", job: 미취업자}
        reference_date: 2025-09-01      # optional
        expected:
          "20250703005400111146":
            status: 대상                  # 대상 / 비대상 / 확인 필요
            because: 연령                 # a condition among those that decided it (or a list)
            quote: "만 34세"              # optional: in that condition's quoted policy text
            law: 청년기본법 제3조제1호       # optional: in that condition's citation
            window: 신청 중               # optional: 신청 중 / 신청 예정 / 마감 / 상시
            fact: income                 # optional: the missing fact named by that condition

A ``plcyNo`` is looked up among the inline policies first, then in the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from dasan.apps.youth.catalogue import Policy, policy_from_record
from dasan.apps.youth.rules import Profile, screen
from dasan.errors import DasanError

_DEFAULTS = {"sprtTrgtAgeLmtYn": "Y", "sprtTrgtMinAge": "0", "sprtTrgtMaxAge": "0", "jobCd": "0013010",
             "schoolCd": "0049010", "mrgSttsCd": "0055003", "sbizCd": "0014010", "plcyMajorCd": "0011009",
             "earnCndSeCd": "0043001", "earnMinAmt": "0", "earnMaxAmt": "0", "earnEtcCn": "", "zipCd": "",
             "addAplyQlfcCndCn": "", "ptcpPrpTrgtCn": "", "aplyYmd": "", "lclsfNm": "", "plcyNm": ""}


class CaseFileError(DasanError):
    code = "youth_case_file"


@dataclass
class CaseResult:
    file: str
    name: str
    plcy_no: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    got: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _as_date(v: Any, where: str) -> date:
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v))
    except ValueError as e:
        raise CaseFileError(f"{where}: 기준일 '{v}'을 읽을 수 없습니다. YYYY-MM-DD로 쓰세요.") from e


def load_file(path: Path) -> tuple[dict[str, Policy], list[dict[str, Any]], date | None]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise CaseFileError(f"YAML 사례 파일을 읽을 수 없습니다: {e}", path=str(path)) from e
    if isinstance(doc, list):
        doc = {"cases": doc}
    if not isinstance(doc, dict) or not isinstance(doc.get("cases"), list):
        raise CaseFileError("'cases:' 목록이 없습니다. 파일 형식은 dasan/apps/youth/cases.py를 보세요.", path=str(path))
    inline = {}
    for rec in doc.get("policies") or []:
        full = {**_DEFAULTS, **{k: str(v) for k, v in rec.items()}}
        p = policy_from_record(full, source=str(path))
        inline[p.plcy_no] = p
    ref = _as_date(doc["reference_date"], str(path)) if doc.get("reference_date") else None
    return inline, doc["cases"], ref


def run_file(path: Path, catalogue: dict[str, Policy]) -> list[CaseResult]:
    inline, cases, default_ref = load_file(path)
    out = []
    for i, case in enumerate(cases, 1):
        name = str(case.get("name") or f"case {i}")
        ref = case.get("reference_date") or default_ref
        if ref is None:
            raise CaseFileError(f"'{name}'에 reference_date가 없습니다.", path=str(path))
        on = _as_date(ref, name)
        profile = Profile.from_dict(case.get("profile") or {})
        for plcy_no, exp in (case.get("expected") or {}).items():
            plcy_no = str(plcy_no)
            pol = inline.get(plcy_no) or catalogue.get(plcy_no)
            if pol is None:
                out.append(CaseResult(path.name, name, plcy_no, False,
                                      [f"정책 {plcy_no}이 카탈로그에 없습니다 (--catalogue로 파일을 주세요)."]))
                continue
            if isinstance(exp, str):
                exp = {"status": exp}
            res = screen(pol, profile, on)
            problems = []
            if exp.get("status") and res.status != exp["status"]:
                problems.append(f"결과 {res.status} (기대 {exp['status']})")
            because = exp.get("because")
            wanted = [because] if isinstance(because, str) else list(because or [])
            deciding = {c.condition: c for c in res.deciding}
            for cond in wanted:
                if cond not in deciding:
                    problems.append(f"결정 조건 '{cond}' 없음 (실제: {', '.join(deciding) or '-'})")
            target = deciding.get(wanted[0]) if wanted else None
            for key in ("quote", "law", "fact"):
                if exp.get(key):
                    have = getattr(target, key, "") if target else ""
                    if str(exp[key]) not in have:
                        problems.append(f"{key} '{exp[key]}' 없음 (실제: '{have}')")
            if exp.get("window") and res.window.get("state") != exp["window"]:
                problems.append(f"신청 기간 {res.window.get('state')} (기대 {exp['window']})")
            got = {"status": res.status, "deciding": [c.as_dict() for c in res.deciding], "window": res.window}
            out.append(CaseResult(path.name, name, plcy_no, not problems, problems, got))
    return out


def run_dir(directory: Path, catalogue: dict[str, Policy]) -> list[CaseResult]:
    files = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
    if not files:
        raise CaseFileError("YAML 사례 파일(*.yaml)이 없습니다.", path=str(directory))
    out: list[CaseResult] = []
    for f in files:
        out.extend(run_file(f, catalogue))
    return out
