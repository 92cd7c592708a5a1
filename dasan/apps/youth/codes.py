"""Code tables of the 온통청년 records and the 시군구 table (행정안전부 법정동코드, 시군구 level).

The code meanings are those collected in ``shared/data/youth-policy/ontong_codes.json`` (checked
against the data); each field also has a "제한없음" code that admits everyone. The 시군구 table
(``data/sigungu.csv``, 477 rows with abolished codes marked) is what lets an old code given by a
person (강원도 42xxx, 전라북도 45xxx, 경상북도 군위군 47720) match a policy that lists the new
one (강원특별자치도 51xxx, 전북특별자치도 52xxx, 대구광역시 군위군 27720), and a 구 inside a
시 (수원시 장안구 41111) match a policy that lists the whole 시 (41110). ``data/sigungu.csv`` is
a copy of ``shared/data/youth-policy/sigungu.csv`` (행정안전부 행정표준코드, 법정동코드 전체자료
at 시군구 level; public-sector data).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field
from importlib import resources

from dasan.errors import DasanError

JOB = {"0013001": "재직자", "0013002": "자영업자", "0013003": "미취업자", "0013004": "프리랜서",
       "0013005": "일용근로자", "0013006": "(예비)창업자", "0013007": "단기근로자", "0013008": "영농종사자",
       "0013009": "기타", "0013010": "제한없음"}
SCHOOL = {"0049001": "고졸 미만", "0049002": "고교 재학", "0049003": "고졸 예정", "0049004": "고교 졸업",
          "0049005": "대학 재학", "0049006": "대졸 예정", "0049007": "대학 졸업", "0049008": "석·박사",
          "0049009": "기타", "0049010": "제한없음"}
MAJOR = {"0011001": "인문계열", "0011002": "사회계열", "0011003": "상경계열", "0011004": "이학계열",
         "0011005": "공학계열", "0011006": "예체능계열", "0011007": "농산업계열", "0011008": "기타",
         "0011009": "제한없음"}
SPECIAL = {"0014001": "중소기업", "0014002": "여성", "0014003": "기초생활수급자", "0014004": "한부모가정",
           "0014005": "장애인", "0014006": "농업인", "0014007": "군인", "0014008": "지역인재", "0014009": "기타",
           "0014010": "제한없음"}
MARITAL = {"0055001": "기혼", "0055002": "미혼", "0055003": "제한없음"}
EARN_NONE, EARN_RANGE, EARN_TEXT = "0043001", "0043002", "0043003"

#: field name -> (code table, its 제한없음 code)
TABLES: dict[str, tuple[dict[str, str], str]] = {
    "job": (JOB, "0013010"), "school": (SCHOOL, "0049010"), "major": (MAJOR, "0011009"),
    "special": (SPECIAL, "0014010"), "marital": (MARITAL, "0055003"),
}

#: Labels people use for the same value (the form offers the canonical ones).
_LABEL_ALIASES = {
    "job": {"예비창업자": "(예비)창업자", "창업자": "(예비)창업자", "구직자": "미취업자", "취업준비생": "미취업자",
            "직장인": "재직자", "근로자": "재직자"},
    "school": {"석박사": "석·박사", "대학원": "석·박사", "대학원생": "석·박사", "대학생": "대학 재학",
               "대졸": "대학 졸업", "고졸": "고교 졸업", "대학졸업": "대학 졸업", "대학재학": "대학 재학"},
    "marital": {},
    "major": {}, "special": {},
}


class ProfileError(DasanError):
    """A profile value that Dasan cannot read (unknown label or code)."""

    code = "youth_profile"


def code_for(kind: str, label: str) -> str:
    """The code of a label (``"미취업자"`` -> ``"0013003"``); a code is returned as is."""
    table, _ = TABLES[kind]
    label = label.strip()
    if label in table:
        return label
    label = _LABEL_ALIASES[kind].get(label.replace(" ", ""), _LABEL_ALIASES[kind].get(label, label))
    for code, name in table.items():
        if name == label or name.replace(" ", "") == label.replace(" ", ""):
            return code
    choices = ", ".join(v for v in table.values() if v != "제한없음")
    raise ProfileError(f"알 수 없는 값입니다: '{label}'. 다음 중 하나로 입력하세요: {choices}")


def split_codes(value: str) -> tuple[str, ...]:
    return tuple(sorted({c.strip() for c in (value or "").split(",") if c.strip()}))


# -- 시군구 -------------------------------------------------------------------------------------

#: 시도 renamed by law: the old 시도 name -> the new one (its 시군구 keep their names).
SIDO_SUCCESSOR = {"강원도": "강원특별자치도", "전라북도": "전북특별자치도", "제주도": "제주특별자치도"}
#: 시군구 moved to another 시도 (경상북도 군위군 -> 대구광역시 군위군, 2023-07-01).
MOVED = {"47720": "27720"}


@dataclass(frozen=True)
class Area:
    code: str
    sido: str
    name: str  # 시군구 name ("" for 세종)
    current: bool

    @property
    def full_name(self) -> str:
        return f"{self.sido} {self.name}".strip()


@dataclass
class Regions:
    areas: dict[str, Area]
    successor: dict[str, str] = field(default_factory=dict)  # abolished code -> current code
    parent: dict[str, str] = field(default_factory=dict)  # 구 code -> 시 code
    children: dict[str, tuple[str, ...]] = field(default_factory=dict)  # 시 code -> its current 구 codes
    by_sido: dict[str, tuple[str, ...]] = field(default_factory=dict)  # 2-digit prefix -> current codes

    def current(self, code: str) -> str | None:
        """The current code for ``code`` (itself when current, the successor when abolished and
        renamed), or None when unknown or abolished without successor."""
        a = self.areas.get(code)
        if a is None:
            return None
        if a.current:
            return code
        return self.successor.get(code)

    def label(self, code: str) -> str:
        a = self.areas.get(code)
        return a.full_name if a else code

    def find_by_name(self, name: str) -> list[str]:
        """Current codes whose 시군구 name (or its last word) equals ``name``."""
        name = name.strip()
        out = []
        for c, a in self.areas.items():
            if not a.current:
                continue
            if a.name == name or a.name.split(" ")[-1] == name or (not a.name and a.sido == name):
                out.append(c)
        return out


@functools.lru_cache(maxsize=1)
def regions() -> Regions:
    text = resources.files("dasan.apps.youth").joinpath("data/sigungu.csv").read_text(encoding="utf-8")
    areas: dict[str, Area] = {}
    for row in csv.DictReader(text.splitlines()):
        areas[row["code5"]] = Area(row["code5"], row["sido"], row["sigungu"], row["status"] == "현존")
    reg = Regions(areas)
    current_by_name = {(a.sido, a.name): c for c, a in areas.items() if a.current}
    for c, a in areas.items():
        if a.current:
            continue
        if c in MOVED:
            reg.successor[c] = MOVED[c]
            continue
        new_sido = SIDO_SUCCESSOR.get(a.sido)
        if new_sido and (new_sido, a.name) in current_by_name:
            reg.successor[c] = current_by_name[(new_sido, a.name)]
    kids: dict[str, list[str]] = {}
    for c, a in areas.items():
        if not a.current or " " not in a.name:
            continue
        city = a.name.split(" ")[0]
        p = current_by_name.get((a.sido, city))
        if p:
            reg.parent[c] = p
            kids.setdefault(p, []).append(c)
    reg.children = {p: tuple(sorted(v)) for p, v in kids.items()}
    sidos: dict[str, list[str]] = {}
    for c, a in areas.items():
        if a.current:
            sidos.setdefault(c[:2], []).append(c)
    reg.by_sido = {k: tuple(sorted(v)) for k, v in sidos.items()}
    return reg
