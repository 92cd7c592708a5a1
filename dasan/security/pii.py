"""Detect and mask Korean personal data (개인정보) in text.

Decisions (documented here because they change what is masked):

- 주민등록번호/외국인등록번호 ``YYMMDD-GNNNNNN``: the birth date must exist. A passing check digit
  gives ``verified=True``. Numbers issued since October 2020 have random last digits, so a
  *hyphenated* number with a real birth date is still reported (``verified=False``); an
  unhyphenated 13-digit run is reported only when its check digit passes or a label such as
  ``주민등록번호`` precedes it. G 5-8 is a 외국인등록번호; G 9/0 (born in the 1800s) is never read
  as a person's number (it is how many 법인등록번호 serials begin).
- A 13-digit number labelled ``법인`` is a 법인등록번호; without a label, a hyphenated number whose
  only passing check digit is the 법인 one (and whose 등기소/법인 type digits are plausible) is read
  as a 법인등록번호. A code label right before a number (주문번호, 문서번호, 일련번호, 모델명, 바코드 …)
  makes it a non-finding, even with a passing check digit; Korean ``880…`` EAN-13 barcodes
  are not RRNs. A label belongs to the nearest number after it (no digit in between).
- 사업자등록번호 is reported when its check digit passes, or when it is labelled ``사업자`` (then
  ``verified=False`` if the digit fails). 10 bare digits need the label.
- 여권번호: the current ``M123A4567`` form anywhere except after product/model labels; the older
  ``M12345678`` form only after the word 여권. 운전면허번호 needs its hyphens. Neither has a public
  check digit (``verified=False``).
- Phones: mobile, area-code landlines and 070. ``15xx/16xx/18xx-xxxx`` call centres and 080
  toll-free numbers are business numbers, not personal data, and are never reported; 050x
  안심번호 (proxy numbers) are not reported either.
- Bank accounts (no public check digit): 10-16 digits near 계좌/예금주/은행/bank names.
- Addresses: a region (시도 or 시군구) followed by a road name and building number, or a
  동/리 with a lot number; detail (층, 동, 호, (법정동)) is included.
- ``press_release=True``: phones, e-mails and addresses on the contact lines of a 보도자료
  (담당 부서, 책임자, 담당자, 문의, lines naming 사무관/주무관/과장 …) are officials' public work
  contacts and are not findings.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from dasan.security import pii_rules as R
from dasan.security.pii_mask import mask_findings, mask_value

LABELS_KO: dict[str, str] = {
    "rrn": "주민등록번호",
    "foreigner_rn": "외국인등록번호",
    "passport": "여권번호",
    "driver_license": "운전면허번호",
    "business_no": "사업자등록번호",
    "corporate_no": "법인등록번호",
    "phone": "전화번호",
    "email": "전자우편",
    "bank_account": "계좌번호",
    "address": "주소",
}
KINDS: tuple[str, ...] = tuple(LABELS_KO)
#: Kinds with a check digit: recall on them is what the benchmark holds to 0.99.
CHECKSUMMED: tuple[str, ...] = ("rrn", "foreigner_rn", "business_no", "corporate_no")
# Lower wins when two candidates overlap.
_PRIORITY = {k: i for i, k in enumerate(
    ("rrn", "foreigner_rn", "corporate_no", "driver_license", "business_no", "passport", "email",
     "phone", "bank_account", "address"))}


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    text: str
    verified: bool  # a check digit was present and passed
    label_ko: str


def _finding(kind: str, text: str, start: int, end: int, verified: bool) -> Finding:
    return Finding(kind, start, end, text[start:end], verified, LABELS_KO[kind])


# --------------------------------------------------------------------------- context
_CONTEXT_ALL = re.compile("|".join(f"(?P<{k}>{rx.pattern})" for k, rx in (
    ("rrn", R.RRN_CONTEXT), ("foreigner_rn", R.FOREIGNER_CONTEXT), ("corporate_no", R.CORPORATE_CONTEXT),
    ("business_no", R.BUSINESS_CONTEXT), ("passport", R.PASSPORT_CONTEXT), ("code", R.CODE_CONTEXT),
    ("bank_account", R.ACCOUNT_CONTEXT),
)))
_LABEL_TAIL = re.compile(r"\s?(?:번호|명|No\.?|no\.?)?\s?[:：#]?\s?")
_BOUNDARY = re.compile(r".*[\n\t|)\]}.;。0-9]", re.S)


def _context(text: str, start: int, window: int = 24) -> str | None:
    """The label nearest before ``start`` (within ``window`` characters). A label belongs to the
    number after it: the search stops at a line, cell, sentence or bracket end and at any digit
    (another number sits between that label and this one)."""
    seg = text[max(0, start - window):start]
    b = _BOUNDARY.match(seg)
    if b:
        seg = seg[b.end():]
    last = None
    for last in _CONTEXT_ALL.finditer(seg):  # noqa: B007 - the last label is the nearest
        pass
    if last is None:
        return None
    if last.lastgroup == "code" and not _LABEL_TAIL.fullmatch(seg, last.end()):
        return None  # "모델명 … 규격품 체류자 …": a code word must label this very number
    return last.lastgroup


# --------------------------------------------------------------------------- detectors
def _thirteen(text: str, m: re.Match[str], today: dt.date) -> Finding | None:
    t = m[0]
    d = [ord(c) - 48 for c in t[:6] + t[-7:]]
    sep = m[1] or ""
    hyphen = bool(sep.strip())
    ctx = _context(text, m.start())
    if ctx in ("bank_account", "code"):
        return None  # an account (the account detector decides) or a labelled order/document number
    s, e = m.start(), m.end()
    if ctx == "corporate_no":
        return _finding("corporate_no", text, s, e, R.corporate_checksum_ok(d))
    born = R.rrn_birthdate(d, today)
    corp_ok = R.corporate_checksum_ok(d)
    if born is not None:
        if not sep and ctx is None and d[:3] == [8, 8, 0] and R.ean13_ok(d):
            return None  # a Korean EAN-13 product barcode
        foreign = d[6] >= 5
        w = R.rrn_weighted_sum(d)
        kind, ok = ("foreigner_rn", (13 - w % 11) % 10 == d[12]) if foreign else ("rrn", (11 - w % 11) % 10 == d[12])
        if ok:
            return _finding(kind, text, s, e, True)
        if ctx in ("rrn", "foreigner_rn"):
            return _finding(kind, text, s, e, False)
        # unverified: issued since 2020-10 with a random tail; only hyphenated numbers
        if hyphen and (not corp_ok or (d[6] in (3, 4) and born.year >= 2020)):
            return _finding(kind, text, s, e, False)
    elif ctx in ("rrn", "foreigner_rn"):
        return None  # labelled but impossible date: a typo or a fake, not an identifier
    if corp_ok and hyphen and R.plausible_corporate(d):
        return _finding("corporate_no", text, s, e, True)
    return None


def _business(text: str, m: re.Match[str]) -> Finding | None:
    ctx = _context(text, m.start())
    ok = R.business_checksum_ok(m[0])
    if ctx == "business_no":
        return _finding("business_no", text, m.start(), m.end(), ok)
    if ok and m[1] and ctx not in ("code", "bank_account", "corporate_no"):
        return _finding("business_no", text, m.start(), m.end(), True)
    return None


def _passport(text: str, m: re.Match[str]) -> Finding | None:
    ctx = _context(text, m.start(), window=30)
    if ctx == "passport" or (m[1] and ctx != "code"):
        return _finding("passport", text, m.start(), m.end(), False)
    return None


def _phone(text: str, m: re.Match[str]) -> Finding | None:
    if m["s1"] == "" and m["paren"] is None and m["intl"] is None:
        return None
    if m["s1"] == ")" and m["paren"] is not None:
        return None
    return _finding("phone", text, m.start(), m.end(), False)


def _account(text: str, m: re.Match[str]) -> Finding | None:
    n = sum(map(str.isdigit, m[0]))
    if not 10 <= n <= 16 or R.UNIT_AFTER.match(text, m.end()) or R.SERVICE_NUMBER.match(m[0]):
        return None
    ctx = _context(text, m.start(), window=30)
    after = R.ACCOUNT_AFTER.match(text, m.end())  # "123-456-789012 (농협)"
    if ctx == "bank_account" or (ctx is None and after):
        return _finding("bank_account", text, m.start(), m.end(), False)
    return None


def _address(text: str, m: re.Match[str]) -> Finding | None:
    tokens = m["region"].split()
    if any(t in R.NOT_SGG for t in tokens):
        return None
    return _finding("address", text, m.start(), m.end(), False)


def _windows(text: str, anchors: list[int], before: int, after: int) -> list[tuple[int, int]]:
    """Merged ``[pos - before, pos + after)`` ranges around anchor positions."""
    out: list[tuple[int, int]] = []
    cur_lo = cur_hi = -1
    for p in anchors:  # anchors are sorted
        lo = p - before
        if lo <= cur_hi:
            cur_hi = p + after
        else:
            if cur_hi >= 0:
                out.append((cur_lo, cur_hi))
            cur_lo, cur_hi = (lo if lo > 0 else 0), p + after
    if cur_hi >= 0:
        out.append((cur_lo, min(cur_hi, len(text))))
    return out


def _search_near(text: str, rx: re.Pattern[str], anchors: list[int], before: int, after: int) -> list[re.Match[str]]:
    """Matches of ``rx`` in windows around anchors (a window end never cuts a match short:
    it is widened to the end of the line)."""
    found: list[re.Match[str]] = []
    for lo, hi in _windows(text, anchors, before, after):
        nl = text.find("\n", hi)
        hi2 = len(text) if nl < 0 else nl
        for m in rx.finditer(text, lo, min(hi2, hi + 200)):
            if m.start() >= hi:
                break
            if not found or m.start() >= found[-1].end():
                found.append(m)
    return found


def _candidates(text: str) -> list[Finding]:
    out: list[Finding] = []
    today = dt.date.today()
    for m in R.RRN_LIKE.finditer(text):
        f = _thirteen(text, m, today)
        if f is not None:
            out.append(f)
    for rx, fn in (
        (R.BUSINESS_NO, _business), (R.PASSPORT, _passport), (R.PHONE, _phone),
    ):
        for m in rx.finditer(text):
            f = fn(text, m)
            if f is not None:
                out.append(f)
    for m in R.DRIVER_LICENSE_NAMED.finditer(text):
        if m.start() == 0 or not ("가" <= text[m.start() - 1] <= "힣"):
            out.append(_finding("driver_license", text, m.start(), m.end(), False))
    out.extend(_finding("driver_license", text, m.start(), m.end(), False) for m in R.DRIVER_LICENSE.finditer(text))
    out.extend(_finding("phone", text, m.start(), m.end(), False) for m in R.MOBILE_BARE.finditer(text))
    if "@" in text:
        out.extend(_finding("email", text, m.start(), m.end(), False) for m in R.EMAIL.finditer(text))
    ctx = [m.start() for m in R.ACCOUNT_CONTEXT.finditer(text)]
    for m in _search_near(text, R.ACCOUNT_LIKE, ctx, 30, 45):
        f = _account(text, m)
        if f is not None:
            out.append(f)
    anchors = [m.start() for m in R.ADDRESS_ANCHOR.finditer(text)]
    for m in _search_near(text, R.ADDRESS, anchors, 70, 1):
        f = _address(text, m)
        if f is not None:
            out.append(f)
    return out


def _resolve(cands: list[Finding]) -> list[Finding]:
    """Non-overlapping findings: of two overlapping candidates the higher-priority kind wins."""
    cands.sort(key=lambda f: (f.start, _PRIORITY[f.kind], -(f.end - f.start)))
    out: list[Finding] = []
    for f in cands:
        while out and f.start < out[-1].end:
            last = out[-1]
            if (_PRIORITY[f.kind], -(f.end - f.start)) < (_PRIORITY[last.kind], -(last.end - last.start)):
                out.pop()  # f beats the finding it overlaps; it may also overlap the one before
            else:
                break
        else:
            out.append(f)
    return out


# --------------------------------------------------------------------------- press releases
_CONTACT_LINE = re.compile(
    r"담\s?당\s?(?:부\s?서|자|관)|책\s?임\s?자|실\s?무\s?자|문\s?의|주무관|사무관|서기관|연구관|연구사"
    r"|행정관|전문관|과\s?장|팀\s?장|국\s?장|센터장|대변인"
)
_CONTACT_KINDS = frozenset({"phone", "email", "address"})


def _line_at(text: str, pos: int) -> tuple[int, int]:
    s = text.rfind("\n", 0, pos) + 1
    e = text.find("\n", pos)
    return s, len(text) if e < 0 else e


_CONTACT_NOISE = re.compile(r"[\s()\[\]|:：,/·ㆍ☎📞☏\-]+")


def _is_bare_contact_row(line: str) -> bool:
    """A row holding little but a phone/e-mail (and maybe a name or title): a contact table
    whose cells the reader put on separate lines."""
    if not (R.PHONE.search(line) or "@" in line):
        return False
    rest = R.EMAIL.sub("", R.PHONE.sub("", line))
    rest = _CONTACT_NOISE.sub("", rest)
    return len(rest) <= 7 and not any(c.isdigit() for c in rest)


def _is_contact(text: str, pos: int, memo: dict[int, bool]) -> bool:
    """Is the line at ``pos`` a contact line, or a short phone-only row continuing one?"""
    s, e = _line_at(text, pos)
    for _ in range(4):
        if s in memo:
            return memo[s]
        line = text[s:e]
        if _CONTACT_LINE.search(line):
            memo[s] = True
            return True
        if s == 0 or not _is_bare_contact_row(line):
            memo[s] = False
            return False
        s, e = _line_at(text, s - 1)
    return False


def detect(text: str, *, press_release: bool = False) -> list[Finding]:
    """All personal-data findings in ``text``, non-overlapping, sorted by position."""
    if not text:
        return []
    found = _resolve(_candidates(text))
    if press_release:
        memo: dict[int, bool] = {}
        found = [f for f in found if f.kind not in _CONTACT_KINDS or not _is_contact(text, f.start, memo)]
    return found


# --------------------------------------------------------------------------- masking
def mask(text: str, findings: list[Finding] | None = None) -> str:
    """``text`` with every finding replaced by its masked form (``detect`` is run when not given)."""
    return mask_findings(text, detect(text) if findings is None else findings)


# policies live in pii_policy.py; re-exported here so callers import one module
from dasan.security.pii_policy import PiiBlockedError, PiiPolicy, apply_policy, summarize  # noqa: E402

__all__ = [
    "CHECKSUMMED", "KINDS", "LABELS_KO", "Finding", "PiiBlockedError", "PiiPolicy", "apply_policy", "detect",
    "mask", "mask_value", "summarize",
]
