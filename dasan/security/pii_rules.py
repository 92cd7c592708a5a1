"""Check digits, patterns and context words for Korean personal identifiers.

The facts come from DOMAIN.md section 5. Every pattern is linear: bounded quantifiers, anchored
by look-arounds on digit/letter boundaries, no nested unbounded repetition.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from operator import mul

# --------------------------------------------------------------------------- check digits
# Each check accepts the written number (separators ignored) or its digits as a list of ints.
_RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
_BIZ_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3)
_CORP_WEIGHTS = (1, 2) * 6
_EAN_WEIGHTS = (1, 3) * 6
Digits = str | Sequence[int]


def digits_of(number: Digits) -> Sequence[int]:
    if isinstance(number, str):
        return [ord(c) - 48 for c in number if "0" <= c <= "9"]
    return number


def rrn_weighted_sum(d: Sequence[int]) -> int:
    """Σ d_i·w_i over the first 12 digits (shared by 주민등록번호 and 외국인등록번호)."""
    return sum(map(mul, d, _RRN_WEIGHTS))


def rrn_checksum_ok(number: Digits) -> bool:
    """주민등록번호 check digit: ``(11 - Σ d_i·w_i mod 11) mod 10``."""
    d = digits_of(number)
    return len(d) == 13 and (11 - rrn_weighted_sum(d) % 11) % 10 == d[12]


def foreigner_checksum_ok(number: Digits) -> bool:
    """외국인등록번호 check digit: ``(13 - Σ d_i·w_i mod 11) mod 10``."""
    d = digits_of(number)
    return len(d) == 13 and (13 - rrn_weighted_sum(d) % 11) % 10 == d[12]


def business_checksum_ok(number: Digits) -> bool:
    """사업자등록번호 check digit (weights 1,3,7,1,3,7,1,3,5 with the carry of the 9th product)."""
    d = digits_of(number)
    if len(d) != 10:
        return False
    p = d[8] * 5
    s = sum(map(mul, d, _BIZ_WEIGHTS)) + p + p // 10
    return (10 - s % 10) % 10 == d[9]


def corporate_checksum_ok(number: Digits) -> bool:
    """법인등록번호 check digit: weights alternate 1,2 over the first 12 digits."""
    d = digits_of(number)
    return len(d) == 13 and (10 - sum(map(mul, d, _CORP_WEIGHTS)) % 10) % 10 == d[12]


def ean13_ok(number: Digits) -> bool:
    """EAN-13 barcode check digit (to tell Korean 880… product codes from RRNs)."""
    d = digits_of(number)
    return len(d) == 13 and (10 - sum(map(mul, d, _EAN_WEIGHTS)) % 10) % 10 == d[12]


def plausible_corporate(number: Digits) -> bool:
    """Structure of a 법인등록번호 (used when no label says so): a 등기관서 code starting 1 or 2,
    a 법인 type whose first digit is 1-4, 7 or 8 (회사, 민법/특수법인, 외국법인 …)."""
    d = digits_of(number)
    return len(d) == 13 and d[0] in (1, 2) and d[4] in (1, 2, 3, 4, 7, 8) and d[5] != 0


def rrn_century(g: int) -> int:
    """Century of birth from the 7th digit (gender/century digit)."""
    if g in (1, 2, 5, 6):
        return 1900
    if g in (3, 4, 7, 8):
        return 2000
    return 1800


def rrn_birthdate(number: Digits, today: dt.date | None = None) -> dt.date | None:
    """The birth date encoded in a 13-digit RRN/외국인등록번호, or None when impossible."""
    d = digits_of(number)
    if len(d) < 7:
        return None
    if d[6] in (9, 0):
        return None  # born in the 1800s: nobody alive; such numbers are 법인등록번호 serials
    year = rrn_century(d[6]) + d[0] * 10 + d[1]
    try:
        born = dt.date(year, d[2] * 10 + d[3], d[4] * 10 + d[5])
    except ValueError:
        return None
    if born > (today or dt.date.today()):
        return None
    return born


# --------------------------------------------------------------------------- patterns
# Speed: a pattern that begins with a character class lets ``re`` skip ahead to candidate
# characters, a leading look-behind does not. So the left boundary is checked *after* the
# first character: ``[0-9](?<![0-9\-][0-9])`` = a digit not preceded by a digit or hyphen.
_D0 = r"[0-9](?<![0-9\-][0-9])"
#: Hyphen-like separators seen in Korean documents (ASCII, en dash, hyphen, minus, full-width).
HYPHENS = "[-–‐−－]"

#: 13 digits written YYMMDD-GNNNNNN (hyphen, en dash, one space or nothing between the halves).
RRN_LIKE = re.compile(_D0 + r"[0-9]{5}(\s?" + HYPHENS + r"\s?|\s)?[0-9]{7}(?![0-9]|-[0-9])")

#: 운전면허번호 region codes (the first two digits) and the region names printed on newer cards.
DL_REGIONS = {
    "11": "서울", "12": "부산", "13": "경기", "14": "강원", "15": "충북", "16": "충남", "17": "전북",
    "18": "전남", "19": "경북", "20": "경남", "21": "제주", "22": "대구", "23": "인천", "24": "광주",
    "25": "대전", "26": "울산", "28": "경기북부",
}
#: 운전면허번호: ``11-12-345678-90`` or, on newer cards, ``서울 12-345678-90``.
DRIVER_LICENSE = re.compile(r"[12](?<![0-9\-][12])[0-9](?<=1[1-9]|2[0-6]|28)-[0-9]{2}-[0-9]{6}-[0-9]{2}(?![0-9]|-[0-9])")
DRIVER_LICENSE_NAMED = re.compile(
    r"(?:서울|부산|경기남부|경기북부|경기|강원|충북|충남|전북|전남|경북|경남|제주|대구|인천|광주|대전|울산|세종)"
    r"\s?[0-9]{2}-[0-9]{6}-[0-9]{2}(?![0-9]|-[0-9])"
)

#: 여권번호: current ``M123A4567``; older ``M12345678`` (the older form needs the word 여권 nearby).
PASSPORT = re.compile(r"[MSROD](?<![A-Za-z0-9][MSROD])(?:([0-9]{3}[A-Z][0-9]{4})|([0-9]{8}))(?![A-Za-z0-9])")

#: 사업자등록번호 ``NNN-NN-NNNNN`` (or 10 digits next to the word 사업자).
BUSINESS_NO = re.compile(_D0 + r"[0-9]{2}(" + HYPHENS + r"?)[0-9]{2}\1[0-9]{5}(?![0-9]|-[0-9])")

#: Phones. Mobile 010/011/016-019, landline area codes, 070 internet phones; +82 prefix allowed.
_AREA = r"0(?:1[016789]|2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70)"
_NB = r"(?<![0-9\-.+]{c})"
PHONE = re.compile(
    r"(?:\+" + _NB.format(c=r"\+") + r"82[\s\-]?(?P<intl>1[016789]|2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70)"
    r"|\(" + _NB.format(c=r"\(") + r"\s?(?P<paren>" + _AREA + r")\s?\)"
    r"|(?P<area>0(?<![0-9\-+]0)(?<![0-9]\.0)" + _AREA[1:] + r"))"
    r"(?P<s1>[\-.)–‐−－]|\s|-\s|\s-\s|)"
    r"(?P<mid>[0-9]{3,4})(?P<s2>[\-.–‐−－]|\s|\s-\s)(?P<last>[0-9]{4})(?![0-9]|[-.][0-9])"
)
#: Unseparated mobile numbers ``01012345678`` (11 digits; 10-digit 011/016… forms are too ambiguous).
MOBILE_BARE = re.compile(r"0(?<![0-9\-]0)(?<![0-9]\.0)1[016789][0-9]{8}(?![0-9])")

#: E-mail (searched only around each ``@``).
EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,6}[A-Za-z]{2,24}(?![A-Za-z0-9_\-]|\.[A-Za-z0-9])"
)

#: Candidate account numbers: 10-16 digits in 2-5 groups, or one run of 10-14 digits
#: (searched only near the context words below).
ACCOUNT_LIKE = re.compile(
    r"[0-9](?<![0-9\-.,][0-9])(?:[0-9]{1,5}(?:" + HYPHENS + r"[0-9]{1,8}){1,4}(?![\-.,]?[0-9])|[0-9]{9,13}(?![.,]?[0-9]))"
)
ACCOUNT_CONTEXT = re.compile(
    r"계\s?좌|예금주|입금|송금|이체|은행|뱅크|농협|우체국|새마을금고|신협|수협|IBK|NH|KB|SC제일|씨티"
)
#: A bank named right after the number: ``123-456-789012 (농협)``.
ACCOUNT_AFTER = re.compile(r" ?[(\[] ?(?:" + ACCOUNT_CONTEXT.pattern + ")")
#: Toll-free (080) and call-centre (15xx/16xx/18xx) numbers: business numbers, never accounts.
SERVICE_NUMBER = re.compile("080" + HYPHENS + "|1[568][0-9]{2}" + HYPHENS + "[0-9]{4}$")
#: Words after a number that make it an amount, a count or a date rather than an account.
UNIT_AFTER = re.compile(r"\s?(?:원|만|억|천|명|건|개|회|%|퍼센트|년|월|일|호|번지|km|m\b|kg|톤)")

# Addresses: road-name (도로명) and lot-number (지번) forms with a building/lot number.
_SIDO = (
    r"(?:서울특별시|서울시|서울|부산광역시|부산시|부산|대구광역시|대구시|대구|인천광역시|인천시|인천|광주광역시|광주시"
    r"|광주|대전광역시|대전시|대전|울산광역시|울산시|울산|세종특별자치시|세종시|세종|경기도|경기|강원특별자치도|강원도|강원"
    r"|충청북도|충북|충청남도|충남|전북특별자치도|전라북도|전북|전라남도|전남|경상북도|경북|경상남도|경남"
    r"|제주특별자치도|제주도|제주)"
)
_SGG = r"[가-힣]{1,5}(?:시|군|구)"
_EMD = r"[가-힣0-9]{1,6}(?:읍|면)"
_ROAD = r"[가-힣0-9·]{0,10}[가-힣0-9](?:대로|로|길)(?:\s?[0-9]{1,4}(?:번?길|가길))?"
_LOT = r"(?:[가-힣0-9]{0,5}[가-힣](?:동|리)[0-9]?|[가-힣]{1,5}[0-9]가)"
_NUM = r"[0-9]{1,5}(?:-[0-9]{1,4})?"
_DETAIL = (
    r"(?:,?\s?(?:지하\s?)?[0-9]{1,3}층)?(?:,?\s?[가-힣A-Za-z0-9]{0,12}\s?[0-9]{1,4}동)?(?:\s?[0-9]{1,5}호)?"
    r"(?:\s?\([가-힣0-9]{1,10}(?:,\s?[가-힣A-Za-z0-9]{1,15})?\))?"
)
_UNITS = r"(?:년|개월|월|일|회|명|원|시간|분|세|%|배|건|개|차|조|항)"
_REGION = rf"(?P<region>{_SIDO}\s(?:{_SGG}\s){{0,2}}|(?:{_SGG}\s){{1,2}})(?:{_EMD}\s)?"
ADDRESS = re.compile(
    rf"(?<![가-힣]){_REGION}(?:(?P<road>{_ROAD})\s?{_NUM}|(?P<lot>{_LOT})\s{_NUM}(?:번지)?|(?P<lot2>{_LOT})\s?{_NUM}번지)"
    # not a count or a duration: "방식으로 3년간", "로 1회", but "세종대로 209 일대" stays an address
    rf"(?![0-9\-]|,[0-9])(?!{_UNITS}|\s{_UNITS}(?![가-힣]))" + _DETAIL
)
#: A building or lot number after a road/동/리/가: where an address search is worth running.
ADDRESS_ANCHOR = re.compile(r"[로길동리가](?:\s?[0-9]{1,4}(?:번?길|가길))?\s?[0-9]")
#: Common words that end in 시/군/구 but are not 시군구 names.
_NOT_SGG_WORDS = """
상시 수시 즉시 동시 임시 게시 표시 제시 지시 실시 개시 명시 고시 감시 무시 중시 당시 역시 다시 일시 잠시 항시 평시 전시
유시 교시 공시 적시 정시 필시 도시 일반시 요구 연구 도구 출구 입구 가구 기구 인구 창구 청구 강구 추구 탐구 전구 영구 항구
비상구 국군 장군 아군 적군 대군 자치구 행정구 행정시 해당시 해당구 관할구 각구 각시
"""
NOT_SGG = frozenset(_NOT_SGG_WORDS.split())

# --------------------------------------------------------------------------- context words
#: Words that name the identifier just before it.
RRN_CONTEXT = re.compile(r"주민\s?(?:등록)?\s?번호|주민번호|생년월일|주민등록")
FOREIGNER_CONTEXT = re.compile(r"외국인\s?등록|외국인번호|거소신고")
CORPORATE_CONTEXT = re.compile(r"법인\s?(?:등록)?\s?번호|법인번호|법인")
BUSINESS_CONTEXT = re.compile(r"사업자\s?(?:등록)?\s?번호|사업자번호|사업자")
PASSPORT_CONTEXT = re.compile(r"여권|passport|Passport|PASSPORT")
#: Words before a number that make it a code of some other kind.
CODE_CONTEXT = re.compile(
    r"주문\s?번호|접수\s?번호|송장|운송장|문서\s?번호|관리\s?번호|고유\s?번호|사건\s?번호|일련\s?번호|품번|부품|모델"
    r"|제품|규격|바코드|상품\s?코드|코드|시리얼|S/N|ISBN|ISSN|고시|공고|차량|차대"
)
