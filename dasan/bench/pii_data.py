"""Value generators for the labelled PII benchmark (``dasan bench pii``).

Every generator takes a :class:`random.Random` and returns the written form; identifiers with
a check digit are computed to pass it unless asked otherwise.
"""

from __future__ import annotations

import datetime as dt
import random

from dasan.security import pii_rules as R


def _words(s: str) -> tuple[str, ...]:
    return tuple(s.split())


SURNAMES = _words("김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 홍")
GIVEN = _words("민준 서연 도윤 지우 하준 서윤 은우 지아 시우 하은 예준 수아 지호 민서 주원 지유 건우 채원 우진 다은")
ROMAN = _words("minjun seoyeon doyoon jiwoo hajun seoyun eunwoo jia siwoo haeun yejun sua jiho minseo")
DOMAINS = _words("naver.com gmail.com daum.net hanmail.net korea.kr example.go.kr dasan.or.kr company.co.kr")
BANKS = (  # name, account digit groups
    ("국민은행", (6, 2, 6)), ("신한은행", (3, 3, 6)), ("우리은행", (4, 3, 6)), ("농협", (3, 4, 4, 2)),
    ("하나은행", (3, 6, 5)), ("IBK기업은행", (3, 6, 2, 3)), ("카카오뱅크", (4, 2, 7)), ("우체국", (6, 2, 6)),
)
REGIONS = (  # 시도, 시군구 choices
    ("서울특별시", ("종로구", "강남구", "마포구", "송파구", "관악구", "노원구")),
    ("부산광역시", ("해운대구", "부산진구", "사하구")),
    ("경기도", ("수원시 팔달구", "성남시 분당구", "고양시 일산동구", "용인시 수지구", "화성시")),
    ("대전광역시", ("서구", "유성구")), ("세종특별자치시", ("",)), ("충청남도", ("천안시 동남구", "공주시")),
    ("전북특별자치도", ("전주시 완산구",)), ("제주특별자치도", ("제주시", "서귀포시")), ("강원특별자치도", ("춘천시",)),
    ("서울", ("서초구", "영등포구")), ("경기", ("의정부시", "남양주시")),
)
ROADS = ("세종대로", "테헤란로", "판교역로", "중앙로", "한누리대로", "도움6로", "월드컵북로", "올림픽로", "해운대로",
         "둔산로", "효원로", "대학로", "경수대로", "번영로", "시민로", "동문길", "새말길", "중앙로123번길", "세종대로23길")
DONGS = ("혜화동", "우동", "역삼동", "신림동", "둔산동", "연동", "봉명동")
DL_CODES = tuple(R.DL_REGIONS)


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


def _rrn_check(d12: str, foreign: bool) -> str:
    s = sum(int(a) * b for a, b in zip(d12, (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5), strict=True))
    return str(((13 if foreign else 11) - s % 11) % 10)


def rrn(rng: random.Random, *, foreign: bool = False, recent: bool = False, sep: str = "-",
        valid: bool = True) -> str:
    """A 주민등록번호 (or 외국인등록번호). ``recent``: issued after 2020-10 with a random tail."""
    if recent:
        born = dt.date(2020, 10, 1) + dt.timedelta(days=rng.randrange(365 * 4))
    else:
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 80))
    g = (1 if born.year < 2000 else 3) + rng.randrange(2) + (4 if foreign else 0)
    head = born.strftime("%y%m%d") + str(g) + _digits(rng, 5)
    if recent:
        tail = _digits(rng, 1)
    else:
        tail = _rrn_check(head, foreign)
        if not valid:
            tail = str((int(tail) + 1 + rng.randrange(9)) % 10)
    return head[:6] + sep + head[6:] + tail


def rrn_bad_date(rng: random.Random) -> str:
    """13 digits shaped like an RRN whose birth date cannot exist (month 13-19 or day 32-39)."""
    yy = f"{rng.randrange(100):02d}"
    md = rng.choice([f"{rng.randrange(13, 20)}{rng.randrange(1, 29):02d}", f"{rng.randrange(1, 13):02d}3{rng.randrange(2, 10)}"])
    return f"{yy}{md}-{rng.choice('1234')}{_digits(rng, 6)}"


def business_no(rng: random.Random, *, valid: bool = True, sep: str = "-") -> str:
    while True:
        d9 = f"{rng.randrange(101, 999)}{rng.randrange(1, 100):02d}{_digits(rng, 4)}"
        for c in "0123456789":
            if R.business_checksum_ok(d9 + c) == valid:
                return f"{d9[:3]}{sep}{d9[3:5]}{sep}{d9[5:]}{c}"


def corporate_no(rng: random.Random, *, valid: bool = True) -> str:
    office = rng.choice(["1101", "1201", "1301", "1311", "1345", "1358", "1501", "1601", "1701", "1801", "2301"])
    kind = rng.choice(["11", "12", "14", "21", "22", "71"])
    d12 = office + kind + rng.choice("0001") + _digits(rng, 5)
    for c in "0123456789":
        if R.corporate_checksum_ok(d12 + c) == valid:
            return f"{d12[:6]}-{d12[6:]}{c}"
    raise AssertionError("unreachable")


def passport(rng: random.Random, *, old: bool = False) -> str:
    p = rng.choice("MMMMSROD")
    if old:
        return p + _digits(rng, 8)
    return p + _digits(rng, 3) + rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + _digits(rng, 4)


def driver_license(rng: random.Random, *, named: bool = False) -> str:
    code = rng.choice(DL_CODES)
    rest = f"{rng.randrange(0, 26):02d}-{_digits(rng, 6)}-{_digits(rng, 2)}"
    return f"{R.DL_REGIONS[code]} {rest}" if named else f"{code}-{rest}"


def phone(rng: random.Random) -> str:
    style = rng.randrange(10)
    mid4, last = _digits(rng, 4), _digits(rng, 4)
    if style <= 3:
        return f"010-{mid4}-{last}"
    if style == 4:
        return f"010.{mid4}.{last}"
    if style == 5:
        return f"010{mid4}{last}"
    if style == 6:
        return f"+82-10-{mid4}-{last}"
    if style == 7:
        return f"02-{rng.randrange(200, 999)}-{last}"
    if style == 8:
        area = rng.choice(["031", "032", "051", "042", "044", "062", "064", "070"])
        return f"{area}-{rng.randrange(200, 999)}{rng.choice(['', str(rng.randrange(10))])}-{last}"
    return f"({rng.choice(['02', '031', '053'])}) {rng.randrange(200, 999)}-{last}"


def email(rng: random.Random) -> str:
    local = rng.choice(ROMAN) + rng.choice(["", ".", "_"]) + rng.choice(["", str(rng.randrange(1, 9999))])
    return f"{local.rstrip('._')}@{rng.choice(DOMAINS)}"


def bank_account(rng: random.Random) -> tuple[str, str]:
    bank, groups = rng.choice(BANKS)
    return bank, "-".join(_digits(rng, n) for n in groups)


def address(rng: random.Random) -> str:
    sido, sggs = rng.choice(REGIONS)
    sgg = rng.choice(sggs)
    head = f"{sido} {sgg}".strip()
    r = rng.random()
    if r < 0.2:
        return f"{head} {rng.choice(DONGS)} {rng.randrange(1, 999)}-{rng.randrange(1, 30)}"
    if r < 0.3:
        return f"충청남도 공주시 {rng.choice(['우성면', '사곡면', '유구읍'])} {rng.choice(['동대리', '신영리', '석남리'])} {rng.randrange(1, 999)}번지"
    out = f"{head} {rng.choice(ROADS)} {rng.randrange(1, 300)}"
    r = rng.random()
    if r < 0.3:
        out += f", {rng.randrange(101, 120)}동 {rng.randrange(1, 25)}0{rng.randrange(1, 6)}호"
    elif r < 0.45:
        out += f", {rng.randrange(2, 15)}층"
    return out
