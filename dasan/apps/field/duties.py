"""Reporting duties after an incident, as rules with the articles they come from.

Each :class:`Duty` names the statute articles that impose it (quoted from the ingested statute
at answer time, with 시행일자 and whether in force), the facts that trigger it, to whom, and the
deadline as the article words it ("즉시", "지체 없이", "1개월 이내"). A duty whose articles are not
in the caller's permitted statutes is not shown: Dasan never states a legal duty without its
source. Triggers read an :class:`Incident` (what a short description says); where a trigger needs
a fact the description does not give (e.g. 재산피해액), the duty is listed as "확인 필요".

The table covers the reporting articles of 철도안전법 (제61조, 시행령 제57조, 시행규칙 제86조) and
산업안전보건법 (제54조·제57조, 시행규칙 제67조·제73조) in ../shared/data/laws; other agencies add
theirs in the same shape.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# Words of a description, and what they say about the incident.
_FIRE = re.compile(r"화재|불이|불꽃|연기|발화|타는\s*냄새")
_STOPPED = re.compile(r"운행\s*(?:을\s*)?(?:중지|중단|정지)|운행\s*못|멈춰|멈췄|정차|무정차")
_COLLISION = re.compile(r"충돌|탈선")
_WORKER = re.compile(r"작업자|근로자|직원|역무원|기관사|승무원|정비원|협력업체|노동자|인부")
_PEOPLE = r"(\d{1,3}|한|두|세|네|다섯|여섯|일곱|여덟|아홉|열)\s*(?:명|분)"
_NUM = {"한": 1, "두": 2, "세": 3, "네": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9, "열": 10}


def _count(text: str, words: str) -> int:
    n = 0
    for m in re.finditer(rf"(?:{words})\w{{0,3}}\s*{_PEOPLE}|{_PEOPLE}\s*(?:이|가|의)?\s*(?:{words})", text):
        raw = m.group(1) or m.group(2)
        n += int(raw) if raw.isdigit() else _NUM[raw]
    if n == 0 and re.search(words, text):
        n = 1  # "승객이 다쳤다": at least one
    return n


@dataclass
class Incident:
    """What a short description says (None: not said)."""

    text: str
    fire: bool = False
    stopped: bool = False
    collision: bool = False
    worker: bool = False
    deaths: int = 0
    serious: int = 0  # 중상
    injured: int = 0  # all injured, 중상 included
    damage_won: int | None = None

    @classmethod
    def of(cls, text: str) -> Incident:
        inc = cls(text=text, fire=bool(_FIRE.search(text)), stopped=bool(_STOPPED.search(text)),
                  collision=bool(_COLLISION.search(text)), worker=bool(_WORKER.search(text)))
        inc.deaths = _count(text, "사망|숨[졌지]")
        inc.serious = _count(text, "중상|골절|의식\\s*(?:없|잃)")
        inc.injured = max(inc.serious, _count(text, "부상|다쳤|다친|경상|중상|골절|찰과상|타박상|화상|베였|끼었"))
        if not inc.injured and not inc.deaths and re.search("감전", text):
            inc.injured = 1  # a person who got an electric shock is hurt until a doctor says otherwise
        if m := re.search(r"(\d[\d,]*)\s*(억|천만|백만|만)?\s*원", text):
            unit = {"억": 100_000_000, "천만": 10_000_000, "백만": 1_000_000, "만": 10_000}.get(m.group(2) or "", 1)
            inc.damage_won = int(m.group(1).replace(",", "")) * unit
        return inc

    @property
    def casualties(self) -> int:
        return self.deaths + self.injured


@dataclass(frozen=True)
class Duty:
    key: str
    name: str
    articles: tuple[str, ...]  # citations, most specific last
    to: str
    deadline: str  # the article's words
    items: tuple[str, ...] = ()  # what the report must contain
    note: str = ""


@dataclass
class DutyCheck:
    duty: Duty
    applies: str  # "해당" | "확인 필요"
    why: str
    due: str  # computed from 발생일시
    sources: list[dict[str, Any]] = field(default_factory=list)  # quoted articles with 시행일자


RAIL_IMMEDIATE = Duty(
    "rail-immediate", "철도사고등 즉시 보고",
    ("철도안전법 제61조", "철도안전법 시행령 제57조", "철도안전법 시행규칙 제86조"),
    "국토교통부장관", "즉시",
    ("사고 발생 일시 및 장소", "사상자 등 피해사항", "사고 발생 경위", "사고 수습 및 복구 계획 등"))
RAIL_REPORT = Duty(
    "rail-report", "철도사고등 조사 결과 보고 (초기·중간·종결)",
    ("철도안전법 제61조", "철도안전법 시행규칙 제86조"), "국토교통부장관",
    "초기보고·중간보고·종결보고 (세부 절차와 기한은 국토교통부 고시)",
    ("초기보고: 사고발생현황 등", "중간보고: 사고수습ㆍ복구상황 등", "종결보고: 사고수습ㆍ복구결과 등"),
    note="고시의 기한은 이 법령 모음에 없으므로 확인이 필요합니다.")
SERIOUS_ACCIDENT = Duty(
    "osh-serious", "중대재해 발생 보고",
    ("산업안전보건법 제54조", "산업안전보건법 시행규칙 제67조"), "관할 지방고용노동관서의 장", "지체 없이",
    ("발생 개요 및 피해 상황", "조치 및 전망", "그 밖의 중요한 사항"))
OSH_REPORT = Duty(
    "osh-report", "산업재해조사표 제출",
    ("산업안전보건법 제57조", "산업안전보건법 시행규칙 제73조"), "관할 지방고용노동관서의 장",
    "산업재해가 발생한 날부터 1개월 이내", ("산업재해조사표(별지 제30호서식)",))

DUTIES = (RAIL_IMMEDIATE, RAIL_REPORT, SERIOUS_ACCIDENT, OSH_REPORT)


def add_months(d: datetime, n: int) -> datetime:
    y, m = divmod(d.month - 1 + n, 12)
    y, m = d.year + y, m + 1
    return d.replace(year=y, month=m, day=min(d.day, calendar.monthrange(y, m)[1]))


def due_of(duty: Duty, when: datetime | None) -> str:
    if when is None:
        return "발생일시를 알 수 없어 기한을 계산하지 못했습니다 (발생일시를 입력하세요)."
    stamp = when.strftime("%Y-%m-%d %H:%M")
    if duty.deadline in ("즉시", "지체 없이"):
        return f"{duty.deadline} — 발생({stamp}) 직후, 늦어도 현장 조치와 함께"
    if m := re.search(r"(\d+)\s*개월\s*이내", duty.deadline):
        # 초일 불산입(민법 제157조): the period starts the next day and ends on the same day
        # number n months later.
        end = add_months(when, int(m.group(1)))
        return f"{end:%Y-%m-%d}까지 ({duty.deadline}, 발생일 {when:%Y-%m-%d} 기준)"
    if m := re.search(r"(\d+)\s*일\s*이내", duty.deadline):
        return f"{(when + timedelta(days=int(m.group(1)))):%Y-%m-%d}까지 ({duty.deadline})"
    return duty.deadline


def check(inc: Incident, rail: bool = True) -> list[tuple[Duty, str, str]]:
    """(duty, "해당"/"확인 필요", why) for the duties the incident may trigger."""
    out: list[tuple[Duty, str, str]] = []
    if rail:
        reasons = []
        if inc.collision:
            reasons.append("열차의 충돌이나 탈선사고 (시행령 제57조 제1호)")
        if inc.fire and inc.stopped:
            reasons.append("열차 화재로 운행을 중지시킨 사고 (시행령 제57조 제2호)")
        if inc.casualties >= 3:
            reasons.append(f"사상자 {inc.casualties}명 — 3명 이상 (시행령 제57조 제3호)")
        if inc.damage_won is not None and inc.damage_won >= 50_000_000:
            reasons.append("재산피해 5천만원 이상 (시행령 제57조 제4호)")
        if reasons:
            out.append((RAIL_IMMEDIATE, "해당", "; ".join(reasons)))
        elif inc.fire:
            out.append((RAIL_IMMEDIATE, "확인 필요", "화재로 열차 운행을 중지시켰다면 즉시 보고 대상 (시행령 제57조 제2호)"))
        else:
            out.append((RAIL_REPORT, "해당" if inc.casualties else "확인 필요",
                        "즉시 보고 대상이 아닌 철도사고등은 조사 결과를 보고 (법 제61조 제2항)"
                        + ("" if inc.casualties else " — 철도사고등에 해당하는지 확인")))
    if inc.worker:
        if inc.deaths >= 1:
            out.append((SERIOUS_ACCIDENT, "해당", f"근로자 사망 {inc.deaths}명 — 중대재해"))
        elif inc.serious >= 2 or inc.injured >= 10:
            out.append((SERIOUS_ACCIDENT, "확인 필요", "부상자 수·요양 기간에 따라 중대재해 (3개월 이상 요양 2명 이상 등)"))
        if inc.deaths or inc.injured:
            out.append((OSH_REPORT, "해당" if inc.deaths else "확인 필요",
                        "근로자 사망 또는 3일 이상 휴업이 필요한 부상이면 제출 (시행규칙 제73조)"))
    return out
