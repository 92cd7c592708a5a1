"""정보공개법 status of a document: 공개, 부분공개 or 비공개 with the 제9조 reason number.

N2SF grades data by the same reasons (DOMAIN.md §6): 비공개 사유 1–4 (secrecy by law, national
security, life and safety, trials and investigations) are 기밀 (C); 5–8 (internal deliberation,
personal information, business secrets, speculation risk) are 민감 (S). A document filed with a
disclosure status is therefore never graded below the level its reason implies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dasan.errors import ConfigError
from dasan.types import LEVELS

STATUSES = ("공개", "부분공개", "비공개")
_RE = re.compile(r"^\s*(공개|부분공개|비공개)\s*(?:[:：]\s*(\d))?\s*$")


@dataclass(frozen=True)
class Disclosure:
    status: str
    reason: int | None = None  # 정보공개법 제9조제1항 제N호

    def implied_level(self) -> str:
        if self.status == "공개" or self.reason is None:
            return LEVELS[0]
        return "기밀" if self.reason <= 4 else "민감"

    def as_meta(self) -> dict[str, object]:
        out: dict[str, object] = {"status": self.status}
        if self.reason is not None:
            out["reason"] = self.reason
            out["basis"] = f"공공기관의 정보공개에 관한 법률 제9조제1항제{self.reason}호"
        return out


def parse_disclosure(value: str) -> Disclosure:
    """``공개`` · ``부분공개:6`` · ``비공개:5`` (reason 1–8 required unless 공개)."""
    m = _RE.match(value or "")
    if not m:
        raise ConfigError(f"정보공개 구분 형식이 잘못되었습니다: {value!r} (예: 공개, 부분공개:6, 비공개:5)")
    status, reason = m.group(1), int(m.group(2)) if m.group(2) else None
    if status == "공개" and reason is not None:
        raise ConfigError("공개 문서에는 비공개 사유 번호를 붙이지 않습니다 (예: 공개).")
    if status != "공개" and not (reason and 1 <= reason <= 8):
        raise ConfigError(f"{status}에는 정보공개법 제9조제1항의 사유 번호(1~8)가 필요합니다 (예: {status}:5).")
    return Disclosure(status, reason)


def level_for(level: str, disclosure: Disclosure | None) -> str:
    """The higher of the requested level and the one the disclosure reason implies."""
    if disclosure is None:
        return level
    implied = disclosure.implied_level()
    return implied if LEVELS.index(implied) > LEVELS.index(level) else level
