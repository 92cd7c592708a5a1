"""A Korean sentence -> a profile and a topic, by rules (Kiwi nouns + patterns), for the person
to confirm before screening: "관악구 사는 27살 취준생인데 월세 지원 있어요?" ->
{시군구: 서울특별시 관악구 (11620), 나이: 만 27세, 취업 상태: 미취업자}, 주제: 주거 / 월세.

Nothing is guessed that the sentence does not say: an ambiguous place ("중구") is listed with its
candidates and left for the person to choose; "27살" is read as 만 나이 and said so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dasan.apps.youth import codes
from dasan.apps.youth.recommend import Query

SIDO_SHORT = {
    "서울": "11", "부산": "26", "대구": "27", "인천": "28", "광주": "29", "대전": "30", "울산": "31",
    "세종": "36", "경기": "41", "충북": "43", "충청북도": "43", "충남": "44", "충청남도": "44", "전남": "46",
    "전라남도": "46", "경북": "47", "경상북도": "47", "경남": "48", "경상남도": "48", "제주": "50", "강원": "51",
    "전북": "52", "전라북도": "52",
}
_JOB = [(r"취준|취업\s*준비|구직\s*중|백수|무직|미취업|실직|실업|퇴사", "미취업자"),
        (r"예비\s*창업|창업\s*(?:준비|예정|했|한\s*지|\d+년)", "(예비)창업자"),
        (r"프리랜서", "프리랜서"), (r"자영업|가게를?\s*(?:운영|하고)|사장", "자영업자"),
        (r"일용직|일용\s*근로", "일용근로자"), (r"알바|아르바이트|단기\s*근로|계약직", "단기근로자"),
        (r"농사|농업인|귀농|영농", "영농종사자"),
        (r"직장인|회사원|재직|회사\s*다니|근무\s*중|중소기업\s*다니|다니는\s*회사|직장\s*다니", "재직자")]
_SCHOOL = [(r"졸업\s*예정", "대졸 예정"), (r"대학원|석사|박사", "석·박사"),
           (r"대학생|대학\s*다니|대학\s*재학|휴학", "대학 재학"),
           (r"대졸|대학\s*졸업|대학교\s*졸업|졸업생|졸업했", "대학 졸업"),
           (r"고등학생|고등학교\s*다니|고교생", "고교 재학"), (r"고졸|고등학교\s*졸업", "고교 졸업")]
_MARITAL = [(r"미혼|싱글|결혼\s*안\s*했|독신", "미혼"), (r"기혼|결혼했|결혼\s*한|신혼부부|유부|배우자|남편|아내", "기혼")]
#: topic words -> category (the words themselves become the keywords)
TOPIC_WORDS = {
    "주거": ["월세", "전세", "보증금", "이사", "주거", "임대", "주택", "기숙사", "집", "방", "원룸", "청약"],
    "일자리": ["취업", "일자리", "면접", "구직", "인턴", "채용", "창업", "장려금", "근로", "직무", "정장"],
    "교육": ["교육", "학자금", "자격증", "어학", "강의", "학원", "교육비", "장학금", "토익", "훈련"],
    "복지문화": ["문화", "건강", "상담", "여행", "공연", "운동", "심리", "대출", "적금", "자산", "통장", "금융",
                "의료", "검진"],
    "참여권리": ["참여", "정책제안", "위원", "서포터즈", "봉사"],
}
_STOP = {"지원", "청년", "정책", "혜택", "사람", "거", "것", "뭐", "뭔가", "어디", "살", "세", "나이", "요즘", "저",
         "제", "수", "게", "지", "때", "중", "인데", "도움", "있", "받", "곳", "혹시", "좀"}
_BORN = re.compile(r"(?<!\d)((?:19|20)\d{2}|\d{2})\s*년생")
_AGE = re.compile(r"만\s*(\d{1,2})\s*(?:세|살)|(\d{1,2})\s*(?:살|세)")
_INCOME = re.compile(r"(연봉|연\s*소득|연소득|소득|월급|월\s*소득|월수입|월)\s*(?:은|이|은\s*약|약)?\s*(\d[\d,]*)\s*만\s*원?")
_NO_INCOME = re.compile(r"소득\s*(?:이|은)?\s*없|무소득|수입\s*(?:이|은)?\s*없")


@dataclass
class ParsedQuestion:
    fields: dict[str, Any]  # profile fields as a form would send them
    query: Query
    read: list[str] = field(default_factory=list)  # what was read, in words, for the person to confirm
    unclear: list[str] = field(default_factory=list)
    candidates: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.fields, "query": self.query.as_dict(), "read": self.read, "unclear": self.unclear,
                "candidates": self.candidates,
                "confirm": "이렇게 이해했습니다. 맞으면 확인을 누르고, 다르면 고쳐 주세요."}


def _nouns(text: str) -> list[str]:
    try:
        from dasan.korean.tokenize import kiwi

        return [t.form for t in kiwi().tokenize(text) if t.tag in ("NNG", "NNP")]
    except Exception:  # Kiwi missing: fall back to the topic-word table alone
        return []


def _region(text: str, out: ParsedQuestion) -> None:
    reg = codes.regions()
    sido = None
    first = len(text) + 1
    for short, code2 in SIDO_SHORT.items():  # the 시도 named first ("경기 광주": 경기, not 광주광역시)
        pos = text.find(short)
        if 0 <= pos < first:
            sido, first = code2, pos
    found: list[str] = []
    for c, a in reg.areas.items():
        if not a.current or not a.name:
            continue
        last = a.name.split(" ")[-1]
        stem = last[:-1]
        bare_ok = len(stem) >= 2 and " " not in a.name
        # "관악구"; or the bare stem ("원주") after its 시도 ("강원도 원주") or before a particle / "사는"
        if re.search(rf"(?<![가-힣]){re.escape(last)}", text) or (bare_ok and (
                (stem not in SIDO_SHORT
                 and re.search(rf"(?<![가-힣]){re.escape(stem)}(?:에서|에|\s*(?:사는|살고|살아|거주|쪽))", text))
                or (sido == c[:2] and any(m.start() != first for m in
                                          re.finditer(rf"(?<![가-힣]){re.escape(stem)}(?![가-힣])", text))))):
            found.append(c)
    # a 구 written with its 시 ("수원시 장안구") beats the bare 시
    found = [c for c in found if not any(reg.parent.get(o) == c for o in found)]
    if sido:
        found = [c for c in found if c.startswith(sido)] or found
        if sido == "36":
            found = ["36110"]
    if len(found) == 1:
        out.fields["sigungu_code"] = found[0]
        out.fields["sigungu_name"] = reg.label(found[0])
        out.read.append(f"사는 곳: {reg.label(found[0])} ({found[0]})")
    elif len(found) > 1:
        out.unclear.append("region")
        out.candidates["region"] = [{"code": c, "name": reg.label(c)} for c in sorted(found)[:20]]
        out.read.append("사는 곳: 여러 곳이 가능합니다 (" + ", ".join(reg.label(c) for c in sorted(found)[:5]) + ")")
    elif sido:
        out.fields["sido_code"] = sido
        out.read.append(f"사는 곳: {reg.areas[reg.by_sido[sido][0]].sido} (시·군·구는 모름)")


def parse_question(text: str, *, on: date | None = None) -> ParsedQuestion:
    """Profile fields and topic from one Korean sentence (rules only; nothing sent anywhere)."""
    out = ParsedQuestion({}, Query(text=text))
    t = text.strip()
    _region(t, out)
    if m := _BORN.search(t):
        yy = int(m.group(1))
        year = yy if yy > 1900 else (2000 + yy if yy <= (on or date.today()).year % 100 else 1900 + yy)
        out.fields["birth_year"] = year
        out.read.append(f"출생 연도: {year}년 (생일이 지났는지 모르면 나이가 한 살 차이 날 수 있어 생년월일을 넣으면 정확합니다)")
    elif m := _AGE.search(t):
        age = int(m.group(1) or m.group(2))
        if 10 <= age <= 80:
            out.fields["age"] = age
            out.read.append(f"나이: 만 {age}세 (만 나이로 읽었습니다. 생년월일을 넣으면 더 정확합니다)")
    for key, table in (("job", _JOB), ("school", _SCHOOL), ("marital", _MARITAL)):
        for pat, label in table:
            if re.search(pat, t):
                out.fields[key] = label
                name = {"job": "취업 상태", "school": "학력", "marital": "혼인"}[key]
                out.read.append(f"{name}: {label}")
                break
    if _NO_INCOME.search(t):
        out.fields["income_manwon"] = 0
        out.read.append("연 소득: 0원")
    elif m := _INCOME.search(t):
        n = int(m.group(2).replace(",", ""))
        yearly = n * 12 if m.group(1).startswith("월") else n
        out.fields["income_manwon"] = yearly
        out.read.append(f"연 소득: {yearly:,}만원" + (" (월 소득 × 12)" if m.group(1).startswith("월") else ""))
    if re.search(r"무주택|집\s*(?:이|은)?\s*없", t):
        out.fields["homeless"] = True
        out.read.append("무주택")
    # topic
    hits: list[tuple[str, str]] = []
    for cat, words in TOPIC_WORDS.items():
        for w in words:
            if len(w) == 1:
                if re.search(rf"(?<![가-힣]){w}(?:을|를|이|가|도|\s|$)", t):
                    hits.append((cat, w))
            elif w in t:
                hits.append((cat, w))
    if hits:
        cats = [c for c, _ in hits]
        category = max(set(cats), key=cats.count)
        kws = tuple(dict.fromkeys(w for c, w in hits if c == category and len(w) > 1))
        if not kws:  # "집", "방": the category alone
            kws = ()
        out.query = Query(category, kws, text)
        out.read.append(f"궁금한 분야: {category}" + (f" ({', '.join(kws)})" if kws else ""))
    else:
        taken = {v for v in out.fields.values() if isinstance(v, str)}
        areas = codes.regions().areas.values()
        places = ({a.name.split(" ")[-1] for a in areas} | {a.name.split(" ")[-1][:-1] for a in areas}
                  | {a.sido for a in areas} | set(SIDO_SHORT) | {k + "도" for k in SIDO_SHORT})
        nouns = [n for n in _nouns(t) if n not in _STOP and len(n) > 1 and n not in places
                 and not any(n in x for x in taken)]
        if nouns:
            out.query = Query(None, tuple(dict.fromkeys(nouns))[:3], text)
            out.read.append(f"찾는 낱말: {', '.join(out.query.keywords)}")
    for key in ("age", "region", "job"):
        have = key in out.fields or (key == "age" and "birth_year" in out.fields) or (key == "region" and ("sigungu_code" in out.fields or "sido_code" in out.fields))
        if not have and key not in out.unclear:
            out.unclear.append(key)
    return out
