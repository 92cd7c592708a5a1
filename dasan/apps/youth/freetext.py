"""Free-text conditions (추가신청자격, 소득 기타, 참여제외대상): what is not a condition at all,
and the checkable rules some of them state.

A text that is empty or says only "none" ("-", "없음", "제한없음", "해당없음") is no condition.
Any other text is a condition to check. Where a clause states a rule Dasan can check against a
profile fact — "관내 거주 1년 이상", "중위소득 150% 이하", "무주택" — the rule is read out with
the words it came from; a text counts as settled only when every part of it is such a rule and
the profile satisfies each one (otherwise it stays 확인 필요, or 비대상 when a stated rule fails).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BLANK = {"", "-", "--", ".", "x", "없음", "제한없음", "해당없음", "무관", "해당사항없음", "n/a", "na", "null"}


def is_blank(text: str | None) -> bool:
    """True when ``text`` states no condition ("", "-", "없음", "제한 없음", "해당 없음.")."""
    t = re.sub(r"[\s.·ㆍ\-_]+", "", (text or "").lower())
    return t in _BLANK or re.sub(r"[\s.]+", "", (text or "").lower()) in _BLANK


@dataclass(frozen=True)
class FreeRule:
    """A checkable rule read from free text: ``fact`` ≤/≥ ``value`` (or a yes/no fact)."""

    fact: str  # residence_months | median_income_pct | homeless | income_manwon
    op: str  # ">=", "<=", "is"
    value: int | bool
    quote: str  # the words of the policy it came from
    settles: bool = True  # False: meeting it proves nothing (a household bound checked with a personal income)

    def check(self, known: int | bool | None) -> bool | None:
        if known is None:
            return None
        if self.op == "is":
            return bool(known) is bool(self.value)
        if isinstance(known, bool) or isinstance(self.value, bool):
            return None
        return known >= self.value if self.op == ">=" else known <= self.value

    def describe(self) -> str:
        if self.fact == "residence_months":
            v = int(self.value)
            span = f"{v // 12}년" if v % 12 == 0 else f"{v}개월"
            return f"해당 지역 거주 {span} 이상"
        if self.fact == "median_income_pct":
            return f"기준 중위소득 {self.value}% 이하"
        if self.fact == "homeless":
            return "무주택"
        if self.fact == "income_manwon":
            return f"소득 {self.value:,}만원 이하"
        return self.quote


QUESTIONS = {
    "residence_months": "지금 사는 시·군·구에 주민등록을 두고 산 지 얼마나 되었나요? (개월)",
    "median_income_pct": "가구 소득이 기준 중위소득의 몇 % 정도인가요?",
    "homeless": "본인(또는 세대) 명의의 집이 없나요? (무주택 여부)",
}

_RESIDENCE = re.compile(
    r"(?:관내|시내|군내|구내|도내|해당\s*지역|[가-힣]{1,6}(?:시|군|구|도))?\s*(?:에\s*)?"
    r"(?:주민등록(?:을|이)?\s*(?:두고|되어\s*있는|된|등재된?)?\s*|거주(?:하고\s*있는|한|하는)?\s*|전입\s*)"
    r"(?:기간\s*)?(?:이\s*)?(?:계속\s*)?(\d{1,2})\s*(년|개월)\s*이상")
_RESIDENCE_AFTER = re.compile(
    r"(?:관내|시내|군내|구내|도내|주민등록상?|[가-힣]{1,6}(?:시|군|구|도)에?)\s*(?:계속\s*)?(\d{1,2})\s*(년|개월)\s*"
    r"이상\s*(?:계속\s*)?(?:거주|주민등록)")
_MEDIAN = re.compile(r"(?:기준\s*)?중위\s*소득\s*(?:의\s*)?(\d{2,3})\s*%\s*(?:이하|이내|미만)")
_INCOME_CAP = re.compile(r"(?:연\s*소득|연봉|소득\s*합계|소득)\s*(?:이\s*)?(\d{1,2},?\d{3}|\d{3,4})\s*만\s*원\s*(?:이하|미만)")
_HOMELESS = re.compile(r"무주택(?:자|세대|세대원|세대주|청년)?")

_FILLER = re.compile(
    r"[\s\d%.,·ㆍ:;()\[\]※*○●■□▶\-~/]+|이상|이하|이내|인|자|청년|대상|가구|세대주?|원|본인|및|또는|"
    r"이고|으로|로|의|에|만|해당|조건|요건|기준|신청일|공고일|현재|인\s*자")


def parse(text: str) -> list[FreeRule]:
    """The checkable rules stated in ``text`` (possibly none)."""
    rules: list[FreeRule] = []
    for m in _RESIDENCE.finditer(text):
        n, unit = int(m.group(1)), m.group(2)
        rules.append(FreeRule("residence_months", ">=", n * 12 if unit == "년" else n, m.group(0).strip()))
    if not rules:
        for m in _RESIDENCE_AFTER.finditer(text):
            n, unit = int(m.group(1)), m.group(2)
            rules.append(FreeRule("residence_months", ">=", n * 12 if unit == "년" else n, m.group(0).strip()))
    for m in _MEDIAN.finditer(text):
        pct = int(m.group(1))
        if 10 <= pct <= 300:
            rules.append(FreeRule("median_income_pct", "<=", pct, m.group(0).strip()))
    for m in _INCOME_CAP.finditer(text):
        # A yearly cap: a personal income above it is above any household cap too (so it can
        # fail a profile), but one below it does not prove a household income is.
        rules.append(FreeRule("income_manwon", "<=", int(m.group(1).replace(",", "")), m.group(0).strip(),
                              settles=False))
    if (m := _HOMELESS.search(text)) and "주택 소유" not in text:
        rules.append(FreeRule("homeless", "is", True, m.group(0)))
    return rules


def fully_covered(text: str, rules: list[FreeRule]) -> bool:
    """True when nothing but the parsed rules (and filler words) is in ``text``."""
    rest = text
    for r in rules:
        rest = rest.replace(r.quote, " ")
    rest = _FILLER.sub("", rest)
    return len(rest) <= 1
