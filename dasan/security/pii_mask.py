"""Masked forms of findings: structure, separators and length are kept; what identifies a
person is replaced by ``*``.

=================  =======================  ==========================================
kind               example                  kept
=================  =======================  ==========================================
rrn/foreigner_rn   ``900101-1******``       birth date and gender digit
corporate_no       ``110111-*******``       registry office and 법인 type
business_no        ``116-82-*****``         tax office and business type
driver_license     ``11-12-******-**``      region and year of issue
passport           ``M123*****``            first four characters
phone              ``010-****-5678``        prefix/area code and last four digits
email              ``h***@example.go.kr``   first character and domain (local length hidden)
bank_account       ``******-**-**4567``     last four digits
address            ``서울특별시 종로구 세종대로 ***, *층``  region and road; every later digit masked
=================  =======================  ==========================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dasan.security import pii_rules as R

if TYPE_CHECKING:
    from dasan.security.pii import Finding


def _mask_digits(s: str, keep: int, keep_last: int = 0) -> str:
    """Replace digits after the first ``keep`` (and before the last ``keep_last``) with ``*``."""
    total = sum(c.isdigit() for c in s)
    out, seen = [], 0
    for c in s:
        if c.isdigit():
            seen += 1
            out.append(c if seen <= keep or seen > total - keep_last else "*")
        else:
            out.append(c)
    return "".join(out)


def mask_value(f: Finding) -> str:
    """The masked form of one finding (structure, separators and length kept)."""
    t = f.text
    if f.kind in ("rrn", "foreigner_rn"):
        return _mask_digits(t, 7)  # 900101-1******: birth date and gender digit stay
    if f.kind == "corporate_no":
        return _mask_digits(t, 6)  # 110111-*******
    if f.kind == "business_no":
        return _mask_digits(t, 5)  # 116-82-*****
    if f.kind == "driver_license":
        # 11-12-******-** / 서울 12-******-**: region and year of issue stay
        return _mask_digits(t, 4 if t[:2].isdigit() else 2)
    if f.kind == "passport":
        return t[:4] + "*" * (len(t) - 4)  # M123*****
    if f.kind == "phone":
        m = R.PHONE.fullmatch(t)
        if m:
            return t[:m.start("mid")] + "*" * len(m["mid"]) + t[m.end("mid"):]  # 010-****-5678
        return t[:3] + "*" * (len(t) - 7) + t[-4:]  # 010****5678
    if f.kind == "email":
        local, _, domain = t.partition("@")
        return f"{local[0]}***@{domain}"  # h***@example.go.kr: local length not revealed
    if f.kind == "bank_account":
        return _mask_digits(t, 0, keep_last=4)  # ***-****-**-1234
    if f.kind == "address":
        m = R.ADDRESS.fullmatch(t)
        cut = (m.end("road") if m["road"] else m.end("lot") if m["lot"] else 0) if m else 0
        return t[:cut] + _mask_digits(t[cut:], 0)  # 서울특별시 종로구 세종대로 ***
    return "*" * len(t)


def mask_findings(text: str, findings: list[Finding]) -> str:
    """``text`` with each (non-overlapping) finding replaced by its masked form."""
    parts, pos = [], 0
    for f in sorted(findings, key=lambda f: f.start):
        if f.start < pos:
            continue
        parts.append(text[pos:f.start])
        parts.append(mask_value(f))
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts)
