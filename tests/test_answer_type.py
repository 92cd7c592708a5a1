"""Expected answer types: what a Korean question asks for, and whether statute text states it."""

from __future__ import annotations

import pytest

from dasan.rag.answer_type import expected_types, states_value, unanswered_kind, with_object_particle


def names(question: str) -> list[str]:
    return [t.name for t in expected_types(question)]


@pytest.mark.parametrize(("question", "expected"), [
    ("공개 여부는 며칠 안에 알려 줘야 하나요?", ["period"]),
    ("서류는 언제까지 내야 하나요?", ["period"]),
    ("건강검진은 몇 년에 한 번씩 받아야 해요?", ["frequency", "period"]),
    ("과태료는 얼마인가요?", ["money", "ratio", "penalty"]),
    ("청년은 몇 살부터 몇 살까지예요?", ["age"]),
    ("몇 세대 이상이면 소독이 의무예요?", ["people"]),  # 세대 is households, not an age
    ("위원은 몇 퍼센트 이상 넣어야 하나요?", ["ratio"]),
    ("첫차는 몇 시에 출발하나요?", ["clock"]),
    ("몇 데시벨부터 소음인가요?", ["sound"]),
    ("열차는 시속 몇 km 이하로 달려야 하나요?", ["speed"]),
    ("난간 높이는 최소 얼마예요?", ["length"]),
    ("중대재해 처벌법에서 중대산업재해는 무엇인가요?", []),  # a statute's name is not a question about sanctions
    ("가방 검사를 거부하는 승객을 내리게 할 수 있나요?", []),
])
def test_expected_types(question: str, expected: list[str]) -> None:
    assert names(question) == expected


@pytest.mark.parametrize(("question", "text", "stated"), [
    ("며칠 안에 알려 줘야 하나요?", "청구를 받은 날부터 10일 이내에 공개 여부를 결정하여야 한다.", True),
    ("며칠 안에 알려 줘야 하나요?", "이직 전 1일 소정근로시간 등을 확인할 수 있는 자료", False),  # a count, not a limit
    ("며칠 안에 알려 줘야 하나요?", "사업주는 지체 없이 통지하여야 한다.", True),
    ("과태료는 얼마인가요?", "500만원 이하의 과태료를 부과한다.", True),
    ("얼마나 먼저 받을 수 있나요? 얼마나 받죠?", "지원액 합계의 100분의 20 이상을 미리 지급", True),
    ("몇 데시벨부터 소음인가요?", "높이 1.2미터 이상의 난간을 설치하여야 한다.", False),
    ("몇 데시벨부터 소음인가요?", "소음이 85데시벨(dB) 이상인 작업", True),
    ("청년은 몇 살부터예요?", "청년이란 19세 이상 34세 이하인 사람을 말한다.", True),
    ("청년의 날은 언제예요?", "청년의 날은 매년 9월 세 번째 토요일로 한다.", True),
    ("점검의 날은 며칠인가요?", "매월 4일을 안전점검의 날로 한다.", True),
    ("첫차는 몇 시에 출발하나요?", "도시철도운영자는 운행시간을 정하여 공고하여야 한다.", False),
])
def test_states_value(question: str, text: str, stated: bool) -> None:
    assert states_value(text, expected_types(question)) is stated


def test_unanswered_kind_only_for_measured_values_missing_everywhere() -> None:
    clock = expected_types("첫차는 몇 시에 출발하나요?")
    assert unanswered_kind(clock, ["운행시간은 도시철도운영자가 정한다."]) == "시각"
    assert unanswered_kind(clock, ["첫차는 오전 5시 30분에 출발한다."]) is None
    # a period question is never refused for want of a number: "지체 없이" or prose can answer it
    period = expected_types("며칠 안에 알려 줘야 하나요?")
    assert unanswered_kind(period, ["공개 여부를 결정하여 알려야 한다."]) is None
    # money asked, a ratio stated: the question's other asked kind answers it
    money = expected_types("복구비는 얼마나 받죠? 최대 얼마예요?")
    assert unanswered_kind(money, ["지원액의 100분의 20 이상"]) is None
    assert unanswered_kind(money, ["지원액은 대통령령으로 정한다."]) == "금액"


def test_object_particle_follows_the_last_syllable() -> None:
    assert with_object_particle("금액") == "금액을"
    assert with_object_particle("속도") == "속도를"
    assert with_object_particle("소음 기준(데시벨)") == "소음 기준(데시벨)을"
    assert with_object_particle("길이·높이") == "길이·높이를"
    assert with_object_particle("km") == "km을(를)"
