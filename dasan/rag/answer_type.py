"""What kind of value a question asks for, and whether a passage states one.

A question like "며칠 안에 알려 줘야 하나요?" is answered by a passage that states a period
("10일 이내"); "과태료는 얼마인가요?" by an amount of money; "몇 살부터" by an age. This is the
classic *expected answer type* of question answering, written here as Korean interrogative
patterns and the value shapes statutes use (아라비아 숫자 + 단위, "100분의 20", "매월 4일",
"분기마다", "지체 없이").

The answer composer uses it twice:

- to prefer, among passages that cover the question equally, the units that actually state
  a value of the asked type (the article that says "10일 이내" over its neighbour that only
  names the procedure);
- to refuse when a question asks for a *measured* quantity (a time of day, a speed, a
  temperature, a sound level, an amount of money …) and none of the retrieved articles states
  any value of that kind: the sources are then about the topic but do not answer it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUM = r"\d[\d,]*(?:\.\d+)?"  # statutes write quantities in Arabic digits ("30일", "100분의 20")


@dataclass(frozen=True)
class AnswerType:
    name: str
    value: re.Pattern[str]  # a passage unit that matches states a value of this type
    measured: bool = False  # a number the sources must state; without one they do not answer


def _t(name: str, value: str, measured: bool = False) -> AnswerType:
    return AnswerType(name, re.compile(value), measured)


_LIMIT = r"\s*(?:이내|이상|이하|미만|초과|전|이전|이후|후|까지|간|동안|내|마다|부터|범위|(?:이|가)\s*(?:지난|경과|되는)|(?:으로|로)\s*한다)"
PERIOD = _t("period", rf"{_NUM}\s*(?:년|개월|달|주일?|일|시간|근무시간|분(?!의)){_LIMIT}|(?:한|두|세)\s*달|열흘|보름|"
                      rf"지체\s*없이|즉시|말일|매(?:월|년|주)\s*{_NUM}\s*일|{_NUM}\s*월\s*{_NUM}\s*일|{_NUM}\s*월\s*말|"
                      r"(?:첫|두|둘|세|네|다섯|마지막)\s*(?:번)?\s*째\s*[월화수목금토일]요일")
MONEY = _t("money", r"\d[\d,]*(?:\.\d+)?\s*(?:조|억|천|백|만)?\s*(?:천|백|만)?\s*원(?![가-힣])|\d+\s*배", True)
RATIO = _t("ratio", rf"\d+(?:\.\d+)?\s*(?:퍼센트|%|％|프로)|{_NUM}\s*분의\s*{_NUM}|\d+\s*배|과반수|절반")
PEOPLE = _t("people", rf"\d[\d,]*\s*(?:천|만)?\s*(?:명|인|세대|가구)|같은\s*수|과반수|{_NUM}\s*분의\s*{_NUM}")
AGE = _t("age", r"(?:만\s*)?\d+\s*세|\d+\s*살")
FREQUENCY = _t("frequency", rf"{_NUM}\s*(?:회|번)|매(?:일|주|월|년|분기|반기)|(?:분기|반기)(?:마다|별)|"
                            rf"{_NUM}\s*(?:년|개월|주|일)\s*마다|연\s*{_NUM}\s*회")
CLOCK = _t("clock", r"(?:오전|오후|새벽|밤)\s*\d+\s*시|\d+\s*시\s*(?:부터|까지|이후|이전|\d+\s*분)|\d{1,2}:\d{2}", True)
MEASURE = _t("measure", r"\d[\d,]*(?:\.\d+)?\s*(?:밀리미터|센티미터|미터|킬로미터|제곱미터|세제곱미터|킬로그램|그램|톤|"
                        r"데시벨|도(?![가-힣])|℃|㎡|㎥|㎜|㎝|㎞|㎏|mm|cm|km|kg|m(?![a-z])|dB|룩스|lx|와트|볼트)|시속\s*\d+", True)
# A question naming its unit ("몇 데시벨", "시속 몇 km") is answered only by a value in that unit.
_UNIT_FAMILIES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"데시벨|dB", re.I), "sound", r"데시벨|dB"),
    (re.compile(r"시속|km|킬로(?!그램)"), "speed", r"킬로미터|km|㎞"),
    (re.compile(r"몇\s*도(?![가-힣])|온도|체감"), "temperature", r"도(?![가-힣])|℃"),
    (re.compile(r"미터|센티|밀리|높이|길이|거리|폭"), "length", r"밀리미터|센티미터|미터|㎜|㎝|mm|cm|m(?![a-z])"),
    (re.compile(r"평|제곱미터|넓이|면적|크기"), "area", r"제곱미터|㎡|평(?![가-힣])"),
    (re.compile(r"톤|킬로그램|kg|무게"), "weight", r"톤|킬로그램|그램|kg|㎏"),
]
KIND_KO = {"money": "금액", "clock": "시각", "sound": "소음 기준(데시벨)", "speed": "속도",
           "temperature": "온도", "length": "길이·높이", "area": "면적", "weight": "무게", "measure": "수치"}


def _measure_for(question: str) -> AnswerType:
    for pat, name, unit in _UNIT_FAMILIES:
        if pat.search(question):
            return _t(name, rf"\d[\d,]*(?:\.\d+)?\s*(?:{unit})|시속\s*\d+" if name == "speed"
                      else rf"\d[\d,]*(?:\.\d+)?\s*(?:{unit})", True)
    return MEASURE


PENALTY = _t("penalty", r"\d[\d,]*\s*(?:천|백|만|억)*\s*원\s*이하|징역|금고|과태료|벌금|\d+\s*배")

# (question pattern, answer types it asks for); every matching rule contributes its types.
_RULES: list[tuple[re.Pattern[str], tuple[AnswerType, ...]]] = [
    (re.compile(r"며칠|몇\s*(?:일|날|달|개월|주|년|시간|분(?!의))(?!\s*(?:에\s*(?:한|1)\s*(?:번|회)))|"
                r"얼마\s*(?:안|이내|동안|만에|전|나\s*(?:미리|오래|걸|기다|지나))|언제|기한|기간|얼마\s*만"), (PERIOD,)),
    (re.compile(r"몇\s*(?:번|회)|(?:한|1)\s*번씩|얼마(?:나)?\s*자주|얼마\s*마다|주기|몇\s*(?:년|달|개월|주)\s*마다"),
     (FREQUENCY, PERIOD)),
    (re.compile(r"몇\s*(?:%|퍼센트|프로)|비율|몇\s*분의"), (RATIO,)),
    (re.compile(r"몇\s*(?:명|사람|세대|가구)|사람\s*수|인원"), (PEOPLE,)),
    (re.compile(r"몇\s*(?:살|세(?!대))|나이|연령"), (AGE,)),
    (re.compile(r"몇\s*시(?!간)|시각"), (CLOCK,)),
    (re.compile(r"몇\s*(?:km|킬로|미터|m\b|센티|cm|밀리|mm|도(?![가-힣])|데시벨|dB|평|제곱미터|톤|kg)|"
                r"높이|길이|거리|속도|시속|온도|넓이|면적|무게|소음|크기"), (MEASURE,)),
    (re.compile(r"(?:과태료|벌금|수수료|요금|금액|비용|보상금|지원금|급여|수당|최저\s*시급|시급|월급|연봉|세금|"
                r"부담금|과징금|이행강제금|기금|예산).{0,12}얼마|얼마.{0,6}(?:원|물|내야|받)"), (MONEY, RATIO)),
    (re.compile(r"처벌(?!법|\s*등에)|벌을|벌은|과태료|벌금"), (PENALTY,)),
]


def expected_types(question: str) -> tuple[AnswerType, ...]:
    """The answer types a question asks for, most specific rule first (may be empty)."""
    out: list[AnswerType] = []
    for pat, types in _RULES:
        if pat.search(question):
            out.extend(t for t in types if t not in out)
    return tuple(_measure_for(question) if t is MEASURE else t for t in out)


def states_value(text: str, types: tuple[AnswerType, ...]) -> bool:
    """Whether ``text`` states a value of any of ``types``."""
    return any(t.value.search(text) for t in types)


def measured(types: tuple[AnswerType, ...]) -> tuple[AnswerType, ...]:
    """The types whose absence from every source means the sources do not answer."""
    return tuple(t for t in types if t.measured)


def with_object_particle(noun: str) -> str:
    """``금액`` → ``금액을``, ``속도`` → ``속도를``: the particle follows the last Hangul syllable
    (text in parentheses is skipped: ``소음 기준(데시벨)`` → ``소음 기준(데시벨)을``)."""
    bare = re.sub(r"\([^)]*\)\s*$", "", noun).rstrip()
    last = next((ch for ch in reversed(bare) if "가" <= ch <= "힣"), None)
    if last is None:
        return f"{noun}을(를)"
    has_final = (ord(last) - 0xAC00) % 28 != 0
    return f"{noun}{'을' if has_final else '를'}"


def unanswered_kind(types: tuple[AnswerType, ...], texts: list[str]) -> str | None:
    """When the question asks for a measured value (an amount, a time of day, a quantity in a
    named unit) and none of ``texts`` states a value of *any* kind the question asks for,
    the Korean name of what is missing; else None."""
    asked = measured(types)
    if not asked or any(states_value(t, types) for t in texts):
        return None
    return KIND_KO.get(asked[0].name, "수치")
