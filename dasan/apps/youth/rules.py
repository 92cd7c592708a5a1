"""Rules as code: each policy's conditions checked against a profile on a reference date.

Every check gives 충족 / 불충족 / 확인 필요 with the words of the policy it applies and, for the
age, the 청년기본법 provision it rests on. A policy is
  * 비대상 when any check fails (the failing checks are the reasons),
  * 확인 필요 when none fails but one cannot be settled — a profile fact is missing, a
    structured condition the profile does not state (특화분야, 전공), or a free-text condition
    (추가신청자격, 소득 기타, 참여제외대상) that is not just "없음",
  * 대상 only when every check is met.
A wrong 대상 is worse than a 확인 필요: whatever cannot be shown to be met stays 확인 필요.
The application window is reported beside the result; it is not part of eligibility.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dasan.apps.youth import codes, freetext
from dasan.apps.youth.catalogue import Policy
from dasan.apps.youth.codes import ProfileError

MET, FAILED, CHECK = "충족", "불충족", "확인 필요"
ELIGIBLE, NOT_ELIGIBLE, NEEDS_CHECK = "대상", "비대상", "확인 필요"

LAW_AGE = ("청년기본법 제3조제1호", "\"청년\"이란 19세 이상 34세 이하인 사람을 말한다. 다만, 다른 법령과 "
           "조례에서 청년에 대한 연령을 다르게 적용하는 경우에는 그에 따를 수 있다.")

#: Questions for a missing profile fact (the one asked is the one settling the most results).
FACT_QUESTIONS = {
    "birth_date": "생년월일이 언제인가요?",
    "region": "어느 시·군·구에 살고 있나요? (주민등록 기준)",
    "job": "지금 일하고 있나요? (재직자, 미취업자, 자영업자, 프리랜서, 창업 준비 등)",
    "school": "최종 학력(또는 재학 상태)은 무엇인가요?",
    "marital": "결혼하셨나요? (미혼/기혼)",
    "income": "연 소득이 얼마인가요? (만원, 세전)",
    "special": "다음 중 해당하는 것이 있나요? (중소기업 재직, 기초생활수급자, 한부모가정, 장애인, 농업인, 군인 등)",
    "major": "전공 계열은 무엇인가요? (인문, 사회, 상경, 이학, 공학, 예체능, 농산업)",
    **freetext.QUESTIONS,
}


@dataclass
class Profile:
    """What a young person tells about themself (every field optional: partial screening)."""

    birth_date: date | None = None
    age: int | None = None  # 만 나이, when only the age is known
    birth_year: int | None = None  # "98년생": the age is one of two values until the birthday is known
    sigungu_code: str | None = None
    sido_code: str | None = None
    job: str | None = None  # code 0013xxx
    school: str | None = None  # code 0049xxx
    marital: str | None = None  # code 0055xxx
    income_manwon: int | None = None  # yearly, 만원
    special: tuple[str, ...] | None = None  # codes 0014xxx; () = none of them
    major: str | None = None  # code 0011xxx
    residence_months: int | None = None
    median_income_pct: int | None = None
    homeless: bool | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, lenient: bool = False,
                  dropped: list[str] | None = None) -> Profile:
        """From form/JSON fields; labels ("미취업자") or codes ("0013003") both accepted.

        An unknown value raises :class:`ProfileError`, or with ``lenient`` is left out (the
        fact then counts as unknown: 확인 필요, never 대상) and its name added to ``dropped``."""
        if lenient:
            d = dict(d)
            for key in list(d):
                try:
                    cls.from_dict({key: d[key]})
                except (ProfileError, ValueError, TypeError):
                    d.pop(key)
                    if dropped is not None:
                        dropped.append(key)

        def opt(name: str) -> Any:
            v = d.get(name)
            return None if v in (None, "", []) else v

        bd = opt("birth_date")
        if bd is not None and not isinstance(bd, date):
            try:
                bd = date.fromisoformat(str(bd))
            except ValueError as e:
                raise ProfileError(f"생년월일 '{bd}'을 읽을 수 없습니다. YYYY-MM-DD 형식으로 입력하세요.") from e
        code = opt("sigungu_code")
        if code is not None:
            code = str(code).strip()
            if len(code) == 10 and code.isdigit():
                code = code[:5]
            if not (len(code) == 5 and code.isdigit()):
                raise ProfileError(f"시군구 코드 '{code}'는 5자리 숫자여야 합니다 (예: 11620 서울특별시 관악구).")
        elif opt("sigungu_name"):
            found = codes.regions().find_by_name(str(d["sigungu_name"]).split(" ")[-1])
            full = [c for c in found if codes.regions().label(c) == str(d["sigungu_name"]).strip()]
            code = (full or found)[0] if len(full or found) == 1 else None
        special = d.get("special")
        if isinstance(special, str):
            special = [s for s in special.split(",") if s.strip()]
        return cls(
            birth_date=bd, age=int(d["age"]) if opt("age") is not None else None,
            birth_year=int(d["birth_year"]) if opt("birth_year") is not None else None,
            sigungu_code=code, sido_code=str(opt("sido_code")) if opt("sido_code") else None,
            job=codes.code_for("job", str(d["job"])) if opt("job") else None,
            school=codes.code_for("school", str(d["school"])) if opt("school") else None,
            marital=codes.code_for("marital", str(d["marital"])) if opt("marital") else None,
            income_manwon=int(float(d["income_manwon"])) if opt("income_manwon") is not None else None,
            special=None if special is None else tuple(codes.code_for("special", s) for s in special),
            major=codes.code_for("major", str(d["major"])) if opt("major") else None,
            residence_months=int(d["residence_months"]) if opt("residence_months") is not None else None,
            median_income_pct=int(d["median_income_pct"]) if opt("median_income_pct") is not None else None,
            homeless=bool(d["homeless"]) if d.get("homeless") is not None else None,
        )

    def as_dict(self) -> dict[str, Any]:
        reg = codes.regions()
        return {
            "birth_date": self.birth_date.isoformat() if self.birth_date else None, "age": self.age,
            "birth_year": self.birth_year,
            "sigungu_code": self.sigungu_code,
            "sigungu_name": reg.label(self.sigungu_code) if self.sigungu_code else None,
            "sido_code": self.sido_code,
            "job": codes.JOB.get(self.job or ""), "school": codes.SCHOOL.get(self.school or ""),
            "marital": codes.MARITAL.get(self.marital or ""), "income_manwon": self.income_manwon,
            "special": [codes.SPECIAL[s] for s in self.special] if self.special is not None else None,
            "major": codes.MAJOR.get(self.major or ""), "residence_months": self.residence_months,
            "median_income_pct": self.median_income_pct, "homeless": self.homeless,
        }

    def age_on(self, on: date) -> int | None:
        """만 나이 on ``on`` (the birthday itself counts: 생일 당일부터 한 살 더)."""
        if self.birth_date is None:
            return self.age
        b = self.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))

    def age_range(self, on: date) -> tuple[int, int] | None:
        """The possible 만 나이 on ``on``: one value, or two when only the birth year is known."""
        age = self.age_on(on)
        if age is not None:
            return age, age
        if self.birth_year is not None:
            return on.year - self.birth_year - 1, on.year - self.birth_year
        return None


@dataclass
class Check:
    condition: str  # 연령, 지역, 취업상태, ...
    outcome: str  # 충족 / 불충족 / 확인 필요
    reason: str  # plain Korean
    quote: str = ""  # the policy's words (field value as published)
    law: str = ""  # provision cited
    fact: str = ""  # the missing profile fact that would settle it

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v != ""}


@dataclass
class Result:
    policy: Policy
    status: str
    checks: list[Check]
    on: date
    _window: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def window(self) -> dict[str, Any]:
        """The application window on the reference date (reported beside the result)."""
        if self._window is None:
            self._window = self.policy.window_state(self.on)
        return self._window

    @property
    def deciding(self) -> list[Check]:
        want = {NOT_ELIGIBLE: FAILED, NEEDS_CHECK: CHECK, ELIGIBLE: MET}[self.status]
        return [c for c in self.checks if c.outcome == want]

    def as_dict(self, *, full: bool = True) -> dict[str, Any]:
        p = self.policy
        out: dict[str, Any] = {
            "plcyNo": p.plcy_no, "name": p.name, "status": self.status,
            "category": list(p.categories), "reasons": [c.as_dict() for c in self.deciding],
            "window": self.window, "url": p.url, "institution": p.institution,
        }
        if full:
            out["checks"] = [c.as_dict() for c in self.checks]
            out["documents"] = p.documents
            out["apply_method"] = p.apply_method
        return out


def _names(table: dict[str, str], values: tuple[str, ...]) -> str:
    return ", ".join(table.get(v, v) for v in values)


def _age(p: Policy, prof: Profile, on: date) -> Check:
    if p.age_min is None and p.age_max is None:
        return Check("연령", MET, "연령 제한이 없습니다.", quote="지원 연령: 제한 없음")
    lo = f"만 {p.age_min}세" if p.age_min is not None else ""
    hi = f"만 {p.age_max}세" if p.age_max is not None else ""
    quote = f"지원 연령: {lo} ~ {hi}".replace(":  ~", ": ~ ").strip()
    law = LAW_AGE[0] if (p.age_min, p.age_max) == (19, 34) else f"{LAW_AGE[0]} 단서 (조례 등에서 정한 연령)"
    span = prof.age_range(on)
    if span is None:
        return Check("연령", CHECK, "생년월일(나이)을 알려 주세요.", quote=quote, law=law, fact="birth_date")

    def fits(a: int) -> bool:
        return (p.age_min is None or a >= p.age_min) and (p.age_max is None or a <= p.age_max)

    when = on.isoformat()
    verdicts = {fits(a) for a in span}
    if len(verdicts) == 2:
        return Check("연령", CHECK, f"{prof.birth_year}년생은 {when} 기준 만 {span[0]}세 또는 {span[1]}세라 "
                     "생일이 지났는지에 따라 다릅니다. 생년월일을 알려 주세요.", quote=quote, law=law, fact="birth_date")
    age = f"{span[0]}" if span[0] == span[1] else f"{span[0]}~{span[1]}"
    ok = verdicts.pop()
    if ok and p.age_bound_missing:
        return Check("연령", CHECK, f"{when} 기준 만 {age}세입니다. 정책의 연령 한쪽 경계가 비어 있어 공고문으로 "
                     "확인해야 합니다.", quote=quote, law=law)
    if ok:
        return Check("연령", MET, f"{when} 기준 만 {age}세로 지원 연령에 해당합니다.", quote=quote, law=law)
    return Check("연령", FAILED, f"{when} 기준 만 {age}세로 지원 연령({lo}~{hi})이 아닙니다.", quote=quote, law=law)


def _region(p: Policy, prof: Profile) -> Check:
    reg = codes.regions()
    zips = p.zips
    quote = p.cache.get("region_quote")
    if quote is None:
        n = len(zips)
        quote = f"지역: {'전국' if n >= 240 else ', '.join(reg.label(z) for z in sorted(zips)[:6])}" + (
            f" 외 {n - 6}곳" if 6 < n < 240 else "")
        p.cache["region_quote"] = quote
    if not zips:
        return Check("지역", CHECK, "정책에 지역 정보가 없어 기관에 확인해야 합니다.", quote="지역: (정보 없음)")
    if prof.sigungu_code:
        raw = prof.sigungu_code
        cur = reg.current(raw)
        if cur is None:
            return Check("지역", CHECK, f"시군구 코드 {raw}를 현재 행정구역표에서 찾지 못했습니다.", quote=quote,
                         fact="region")
        note = f" (옛 코드 {raw} {reg.label(raw)} → {cur} {reg.label(cur)})" if cur != raw else ""
        where = reg.label(cur)
        if cur[:2] in p.sido_wide:
            return Check("지역", MET, f"{where}{note}: 시·도 전체가 지원 지역입니다.", quote=quote)
        if cur in zips or reg.parent.get(cur) in zips:
            return Check("지역", MET, f"{where}{note}는 지원 지역입니다.", quote=quote)
        kids = reg.children.get(cur, ())
        if kids:
            inside = [k for k in kids if k in zips]
            if len(inside) == len(kids):
                return Check("지역", MET, f"{where}{note}의 모든 구가 지원 지역입니다.", quote=quote)
            if inside:
                return Check("지역", CHECK, f"{where}의 일부 구만 지원 지역입니다. 사는 구를 알려 주세요.",
                             quote=quote, fact="region")
        return Check("지역", FAILED, f"{where}{note}는 지원 지역이 아닙니다.", quote=quote)
    if prof.sido_code:
        if prof.sido_code[:2] in p.sido_wide:
            return Check("지역", MET, "시·도 전체가 지원 지역입니다.", quote=quote)
        inside = [c for c in reg.by_sido.get(prof.sido_code[:2], ()) if c in zips]
        all_codes = reg.by_sido.get(prof.sido_code[:2], ())
        if all_codes and len(inside) == len(all_codes):
            return Check("지역", MET, "시·도 전체가 지원 지역입니다.", quote=quote)
        if not inside:
            return Check("지역", FAILED, "사는 시·도가 지원 지역이 아닙니다.", quote=quote)
        return Check("지역", CHECK, "시·도의 일부 시·군·구만 지원 지역입니다. 사는 시·군·구를 알려 주세요.",
                     quote=quote, fact="region")
    return Check("지역", CHECK, "사는 시·군·구를 알려 주세요.", quote=quote, fact="region")


def _coded(name: str, kind: str, allowed: tuple[str, ...], have: str | None, label: str) -> Check:
    table, none_code = codes.TABLES[kind]
    if not allowed:
        return Check(name, CHECK, f"정책에 {name} 조건 정보가 없어 공고문으로 확인해야 합니다.",
                     quote=f"{label}: (정보 없음)")
    if none_code in allowed or set(table) - {none_code} <= set(allowed):
        return Check(name, MET, f"{name} 제한이 없습니다.", quote=f"{label}: 제한없음" if none_code in allowed
                     else f"{label}: {_names(table, allowed)} (모두 해당)")
    quote = f"{label}: {_names(table, allowed)}"
    if have is None:
        return Check(name, CHECK, f"{name}을(를) 알려 주세요.", quote=quote, fact=kind)
    if have in allowed:
        return Check(name, MET, f"{table.get(have, have)}: 지원 대상에 포함됩니다.", quote=quote)
    other = next((c for c, v in table.items() if v == "기타"), "")
    if other in allowed:
        return Check(name, CHECK, f"{table.get(have, have)}은(는) 목록에 없지만 '기타'가 포함되어 있어 "
                     "공고문에서 확인해야 합니다.", quote=quote)
    return Check(name, FAILED, f"{table.get(have, have)}은(는) 지원 대상({_names(table, allowed)})이 아닙니다.",
                 quote=quote)


def _special(p: Policy, prof: Profile) -> Check:
    table, none_code = codes.TABLES["special"]
    allowed = p.special
    if not allowed:
        return Check("특화분야", CHECK, "정책에 특화 분야 정보가 없어 공고문으로 확인해야 합니다.",
                     quote="특화분야: (정보 없음)")
    if none_code in allowed or set(table) - {none_code} <= set(allowed):
        return Check("특화분야", MET, "특화 분야 제한이 없습니다.", quote="특화분야: 제한없음")
    quote = f"특화분야: {_names(table, allowed)}"
    if prof.special is None:
        return Check("특화분야", CHECK, f"{_names(table, allowed)}에 해당하는지 확인해야 합니다.", quote=quote,
                     fact="special")
    if set(prof.special) & set(allowed):
        return Check("특화분야", MET, "해당 특화 분야에 속합니다.", quote=quote)
    if "0014009" in allowed:
        return Check("특화분야", CHECK, "'기타' 특화 분야는 공고문에서 확인해야 합니다.", quote=quote)
    return Check("특화분야", FAILED, f"{_names(table, allowed)}에 해당하지 않습니다.", quote=quote)


def _income(p: Policy, prof: Profile) -> Check:
    if p.earn_code == codes.EARN_RANGE and (p.earn_min or p.earn_max):
        lo = f"{p.earn_min:,}만원 이상" if p.earn_min else ""
        hi = f"{p.earn_max:,}만원 이하" if p.earn_max else ""
        quote = f"소득: 연 {' '.join(x for x in (lo, hi) if x)}"
        if prof.income_manwon is None:
            return Check("소득", CHECK, "연 소득을 알려 주세요.", quote=quote, fact="income")
        inc = prof.income_manwon
        ok = (p.earn_min is None or inc >= p.earn_min) and (p.earn_max is None or inc <= p.earn_max)
        if ok:
            return Check("소득", MET, f"연 소득 {inc:,}만원은 기준 안입니다.", quote=quote)
        return Check("소득", FAILED, f"연 소득 {inc:,}만원은 기준({' '.join(x for x in (lo, hi) if x)}) 밖입니다.",
                     quote=quote)
    if p.earn_code == codes.EARN_TEXT and p.has_earn_text:
        return _free("소득 기타", p.earn_text, prof, parse=True)
    if p.earn_code in (codes.EARN_NONE, codes.EARN_TEXT):
        return Check("소득", MET, "소득 조건이 없습니다.", quote="소득: 무관")
    return Check("소득", CHECK, "정책에 소득 조건 정보가 없어 공고문으로 확인해야 합니다.", quote="소득: (정보 없음)")


_PARSED: dict[str, list[freetext.FreeRule]] = {}


def _parsed(text: str) -> list[freetext.FreeRule]:
    rules = _PARSED.get(text)
    if rules is None:
        if len(_PARSED) > 20000:
            _PARSED.clear()
        rules = _PARSED[text] = freetext.parse(text)
    return rules


def _free(name: str, text: str, prof: Profile, *, parse: bool) -> Check:
    quote = text if len(text) <= 300 else text[:300] + "…"
    rules = _parsed(text) if parse else []
    verdicts = [(r, r.check(getattr(prof, r.fact))) for r in rules]
    failed = [r for r, v in verdicts if v is False]
    if failed:
        r = failed[0]
        return Check(name, FAILED, f"'{r.quote}' 조건({r.describe()})에 맞지 않습니다.", quote=quote)
    unknown = [r for r, v in verdicts if v is None]
    if rules and not unknown and all(r.settles for r in rules) and freetext.fully_covered(text, rules):
        return Check(name, MET, "글로 적힌 조건(" + ", ".join(r.describe() for r in rules) + ")을 충족합니다.",
                     quote=quote)
    if unknown:
        return Check(name, CHECK, "다음 조건을 확인해야 합니다: " + ", ".join(r.describe() for r in unknown),
                     quote=quote, fact=unknown[0].fact)
    what = "참여 제외 대상에 해당하지 않는지" if name == "참여 제외" else "글로 적힌 조건을 충족하는지"
    return Check(name, CHECK, f"{what} 공고문으로 확인해야 합니다.", quote=quote)


def screen(p: Policy, prof: Profile, on: date, *, full: bool = True) -> Result:
    """The result of one policy for one profile on ``on``.

    ``full=False`` says "not eligible" early: it stops at the first failing condition (the
    reason given), which is what screening a whole catalogue needs; ``full=True`` checks every
    condition (the complete trace)."""
    steps = (
        lambda: _region(p, prof),
        lambda: _age(p, prof, on),
        lambda: _coded("취업상태", "job", p.job, prof.job, "취업 상태"),
        lambda: _coded("학력", "school", p.school, prof.school, "학력"),
        lambda: _coded("혼인", "marital", p.marital, prof.marital, "혼인 상태"),
        lambda: _income(p, prof),
        lambda: _special(p, prof),
        lambda: _coded("전공", "major", p.major, prof.major, "전공"),
        lambda: _free("추가 자격", p.extra_text, prof, parse=True) if p.has_extra else None,
        lambda: _free("참여 제외", p.exclusion_text, prof, parse=False) if p.has_exclusion else None,
    )
    checks: list[Check] = []
    failed = unsure = False
    for step in steps:
        c = step()
        if c is None:
            continue
        checks.append(c)
        if c.outcome == FAILED:
            failed = True
            if not full:
                break
        elif c.outcome == CHECK:
            unsure = True
    status = NOT_ELIGIBLE if failed else NEEDS_CHECK if unsure else ELIGIBLE
    return Result(p, status, checks, on)


def screen_all(policies: list[Policy], prof: Profile, on: date, *, full: bool = False) -> list[Result]:
    return [screen(p, prof, on, full=full) for p in policies]
