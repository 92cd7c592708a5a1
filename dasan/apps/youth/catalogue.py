"""The youth-policy catalogue: 온통청년 ``getPlcy`` records read into typed policies and kept in
the Dasan store (:class:`dasan.store.base.PolicyCatalogue`: table ``youth_policies``, SQLite
migration 0007, PostgreSQL 0004).

Reading follows ``shared/data/youth-policy/SOURCE.md``: code fields with several values are
comma-separated; ``sprtTrgtAgeLmtYn = "Y"`` means no age limit (ages then 0); an age of 0 on one
side means no bound on that side; incomes are 만원 (a value above 1,000,000 can only be 원 and is
divided by 10,000); ``aplyYmd`` is ``YYYYMMDD ~ YYYYMMDD`` (several windows separated by ``\\N``),
empty = no fixed window (상시). Re-ingesting a record updates the row with the same ``plcyNo``;
nothing is deleted: a policy whose windows are all past is marked ``expired``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dasan.apps.youth import codes
from dasan.errors import DasanError, ReadError, StoreError
from dasan.store.base import StoredPolicy

REQUIRED_FIELDS = ("plcyNo", "plcyNm", "zipCd", "sprtTrgtAgeLmtYn", "jobCd", "schoolCd", "mrgSttsCd", "earnCndSeCd")
_WINDOW_RE = re.compile(r"(\d{8})\s*~\s*(\d{8})")
#: Largest plausible yearly income in 만원 (10억 원); above it the value was entered in 원.
_MAX_MANWON = 100_000


class CatalogueError(DasanError):
    code = "youth_catalogue"


@dataclass(frozen=True)
class Window:
    start: date
    end: date

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass
class Policy:
    """One policy with its typed conditions and the source text they came from."""

    plcy_no: str
    name: str
    categories: tuple[str, ...]
    subcategories: tuple[str, ...]
    keywords: tuple[str, ...]
    description: str
    support: str
    age_min: int | None  # None = no lower bound
    age_max: int | None  # None = no upper bound
    zips: frozenset[str]
    job: tuple[str, ...]
    school: tuple[str, ...]
    marital: tuple[str, ...]
    special: tuple[str, ...]
    major: tuple[str, ...]
    earn_code: str
    earn_min: int | None  # 만원
    earn_max: int | None  # 만원
    earn_text: str
    extra_text: str  # addAplyQlfcCndCn (추가신청자격)
    exclusion_text: str  # ptcpPrpTrgtCn (참여제외대상)
    windows: tuple[Window, ...]
    window_text: str
    apply_method: str
    apply_url: str
    ref_urls: tuple[str, ...]
    documents: str
    institution: str
    notes: list[str] = field(default_factory=list)  # how odd source values were read
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    classification: str = "공개"
    expired_marked: bool = False
    source: str = ""
    age_bound_missing: bool = False  # limited (N) but a bound left empty: unknown, not open
    modified: str = ""  # lastMdfcnDt
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # derived texts

    sido_wide: frozenset[str] = field(init=False, default=frozenset())  # 11000 = all of 서울특별시
    has_extra: bool = field(init=False, default=False)  # 추가신청자격 states a condition
    has_exclusion: bool = field(init=False, default=False)  # 참여제외대상 states a condition
    has_earn_text: bool = field(init=False, default=False)  # 소득 기타 states a condition

    def __post_init__(self) -> None:
        from dasan.apps.youth import freetext

        self.sido_wide = frozenset(z[:2] for z in self.zips if z.endswith("000"))
        self.has_extra = not freetext.is_blank(self.extra_text)
        self.has_exclusion = not freetext.is_blank(self.exclusion_text)
        self.has_earn_text = not freetext.is_blank(self.earn_text)

    # -- derived -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.apply_url or (self.ref_urls[0] if self.ref_urls else "")

    @property
    def page_url(self) -> str:
        return f"https://www.youthcenter.go.kr/youthPolicy/ythPlcyTotalSearch/ythPlcyDetail/{self.plcy_no}"

    def window_state(self, on: date) -> dict[str, Any]:
        """Whether applications are open on ``on``: 상시 / 신청 예정 / 신청 중 / 마감."""
        if not self.windows:
            return {"state": "상시", "text": "신청 기간이 정해져 있지 않습니다 (상시 또는 기관 공고 확인).",
                    "days_left": None}
        for w in self.windows:
            if w.start <= on <= w.end:
                left = (w.end - on).days
                last = " (오늘 마감)" if left == 0 else ""
                return {"state": "신청 중", "text": f"{w.start:%Y.%m.%d.} ~ {w.end:%Y.%m.%d.} 신청{last}",
                        "days_left": left, **w.as_dict()}
        upcoming = [w for w in self.windows if w.start > on]
        if upcoming:
            w = min(upcoming, key=lambda x: x.start)
            return {"state": "신청 예정", "text": f"{w.start:%Y.%m.%d.}부터 신청", "days_left": None, **w.as_dict()}
        w = max(self.windows, key=lambda x: x.end)
        return {"state": "마감", "text": f"{w.end:%Y.%m.%d.} 신청 마감", "days_left": None, **w.as_dict()}

    def expired(self, on: date) -> bool:
        return bool(self.windows) and all(w.end < on for w in self.windows)

    def topic_text(self) -> str:
        return " ".join((self.name, self.description, self.support, " ".join(self.keywords)))

    def conditions(self) -> dict[str, Any]:
        """The typed conditions (what the rules check), for storage and display."""
        return {
            "age": {"min": self.age_min, "max": self.age_max},
            "zips": sorted(self.zips), "job": list(self.job), "school": list(self.school),
            "marital": list(self.marital), "special": list(self.special), "major": list(self.major),
            "income": {"code": self.earn_code, "min_manwon": self.earn_min, "max_manwon": self.earn_max,
                       "text": self.earn_text},
            "extra": self.extra_text, "exclusion": self.exclusion_text,
            "windows": [w.as_dict() for w in self.windows], "notes": self.notes,
        }


def _int(value: Any) -> int:
    try:
        return int(str(value).strip() or 0)
    except ValueError:
        return 0


def _date(s: str) -> date | None:
    try:
        return datetime.strptime(s, "%Y%m%d").date()
    except ValueError:
        return None


def _clean(value: Any) -> str:
    return str(value or "").replace("\r\n", "\n").strip()


def policy_from_record(rec: dict[str, Any], *, source: str = "") -> Policy:
    """A typed policy from one raw 온통청년 record (CSV row or JSON object)."""
    rec = {k.lstrip("\ufeff"): v for k, v in rec.items()}
    missing = [f for f in REQUIRED_FIELDS if f not in rec]
    if missing:
        raise CatalogueError(f"온통청년 정책 레코드가 아닙니다 (없는 필드: {', '.join(missing)}). "
                             "온통청년 OpenAPI getPlcy 응답(CSV/JSON)을 넣으세요.", path=source or None)
    notes: list[str] = []
    age_min, age_max = _int(rec.get("sprtTrgtMinAge")), _int(rec.get("sprtTrgtMaxAge"))
    if rec.get("sprtTrgtAgeLmtYn") == "Y" and not (age_min or age_max):
        lo: int | None = None
        hi: int | None = None
    else:
        if rec.get("sprtTrgtAgeLmtYn") == "Y":
            notes.append("연령 제한 없음(Y)으로 표시되었지만 연령이 적혀 있어 적힌 연령을 적용합니다.")
        lo = age_min or None
        hi = age_max or None
        if rec.get("sprtTrgtAgeLmtYn") == "N" and "" in (str(rec.get("sprtTrgtMinAge", "")).strip(),
                                                           str(rec.get("sprtTrgtMaxAge", "")).strip()):
            notes.append("연령 제한이 있다고(N) 표시되었지만 연령 한쪽이 비어 있어 그쪽 경계는 확인이 필요합니다.")
    earn_code = _clean(rec.get("earnCndSeCd"))  # "" = not stated (older records): checked as unknown
    emin, emax = _int(rec.get("earnMinAmt")), _int(rec.get("earnMaxAmt"))
    for label, v in (("최소", emin), ("최대", emax)):
        if v > _MAX_MANWON:
            notes.append(f"소득 {label} {v:,}은 원 단위로 보여 만원 단위({v // 10000:,}만원)로 읽었습니다.")
    emin = emin // 10000 if emin > _MAX_MANWON else emin
    emax = emax // 10000 if emax > _MAX_MANWON else emax
    windows = []
    wtext = _clean(rec.get("aplyYmd"))
    for a, b in _WINDOW_RE.findall(wtext):
        start, end = _date(a), _date(b)
        if start and end and end >= start:
            windows.append(Window(start, end))
        else:
            notes.append(f"신청 기간 '{a} ~ {b}'을 날짜로 읽을 수 없어 기간 없음으로 둡니다.")
    cats = tuple(dict.fromkeys(c.strip() for c in _clean(rec.get("lclsfNm")).split(",") if c.strip()))
    subs = tuple(dict.fromkeys(c.strip() for c in _clean(rec.get("mclsfNm")).split(",") if c.strip()))
    return Policy(
        plcy_no=_clean(rec["plcyNo"]), name=_clean(rec["plcyNm"]), categories=cats, subcategories=subs,
        keywords=tuple(k.strip() for k in _clean(rec.get("plcyKywdNm")).split(",") if k.strip()),
        description=_clean(rec.get("plcyExplnCn")), support=_clean(rec.get("plcySprtCn")),
        age_min=lo, age_max=hi, zips=frozenset(codes.split_codes(rec.get("zipCd", ""))),
        job=codes.split_codes(rec.get("jobCd", "")), school=codes.split_codes(rec.get("schoolCd", "")),
        marital=codes.split_codes(rec.get("mrgSttsCd", "")), special=codes.split_codes(rec.get("sbizCd", "")),
        major=codes.split_codes(rec.get("plcyMajorCd", "")), earn_code=earn_code,
        earn_min=emin or None, earn_max=emax or None, earn_text=_clean(rec.get("earnEtcCn")),
        extra_text=_clean(rec.get("addAplyQlfcCndCn")), exclusion_text=_clean(rec.get("ptcpPrpTrgtCn")),
        windows=tuple(windows), window_text=wtext, apply_method=_clean(rec.get("plcyAplyMthdCn")),
        apply_url=_clean(rec.get("aplyUrlAddr")),
        ref_urls=tuple(u for u in (_clean(rec.get("refUrlAddr1")), _clean(rec.get("refUrlAddr2"))) if u),
        documents=_clean(rec.get("sbmsnDcmntCn")),
        institution=_clean(rec.get("sprvsnInstCdNm")) or _clean(rec.get("rgtrInstCdNm")),
        notes=notes, raw=rec, source=source, modified=_clean(rec.get("lastMdfcnDt")),
        age_bound_missing=any("경계는 확인" in n for n in notes),
    )


def read_records(path: Path) -> list[dict[str, Any]]:
    """Raw records from an 온통청년 CSV (multi-line quoted cells) or JSON file (a list, or the
    API envelope ``{"result": {"youthPolicyList": [...]}}``)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ReadError(f"파일을 읽을 수 없습니다 ({e.strerror}). 경로를 확인하세요.", path=str(path)) from e
    text = data.decode("utf-8-sig", errors="strict") if data else ""
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise ReadError(f"JSON을 읽을 수 없습니다 ({e.msg}, {e.lineno}행).", path=str(path)) from e
        if isinstance(obj, dict):
            obj = (obj.get("result") or {}).get("youthPolicyList", obj.get("youthPolicyList", obj.get("data")))
        if not isinstance(obj, list):
            raise ReadError("JSON에서 정책 목록을 찾지 못했습니다 (정책 객체의 배열이어야 합니다).", path=str(path))
        return [r for r in obj if isinstance(r, dict)]
    csv.field_size_limit(10**9)
    return list(csv.DictReader(io.StringIO(text)))


def read_catalogue(paths: Iterable[Path]) -> list[Policy]:
    """Policies from files; of two records with the same ``plcyNo`` the one modified last
    (``lastMdfcnDt``) is kept, the later file winning a tie."""
    out: dict[str, Policy] = {}
    for p in paths:
        for rec in read_records(Path(p)):
            pol = policy_from_record(rec, source=str(p))
            old = out.get(pol.plcy_no)
            if old is None or pol.modified >= old.modified:
                out[pol.plcy_no] = pol
    return list(out.values())


# -- store ------------------------------------------------------------------------------------

@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0
    expired: int = 0
    total: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _catalogue(store: Any) -> Any:
    """The store's youth-policy catalogue (:class:`dasan.store.base.PolicyCatalogue`)."""
    get = getattr(store, "policy_catalogue", None)
    if get is None:
        raise StoreError("이 저장소는 청년 정책 카탈로그를 지원하지 않습니다. 최신 다산으로 저장소를 다시 여세요.")
    return get()


def _stored_modified(stored: StoredPolicy) -> str:
    value = json.loads(stored.record).get("lastMdfcnDt")
    return "" if value is None else str(value)


def ingest(store: Any, paths: Sequence[Path], *, today: date | None = None,
           classification: str = "공개") -> IngestReport:
    """Upsert the policies of ``paths`` by ``plcyNo``; mark every policy whose windows all ended
    before ``today`` as expired (none is deleted)."""
    today = today or date.today()
    rows: list[StoredPolicy] = []
    modified: dict[str, str] = {}
    for p in read_catalogue(paths):
        modified[p.plcy_no] = p.modified
        record = json.dumps(p.raw, ensure_ascii=False, sort_keys=True)
        end = max((w.end for w in p.windows), default=None)
        rows.append(StoredPolicy(
            plcy_no=p.plcy_no, name=p.name, categories=",".join(p.categories), classification=classification,
            record=record, conditions=json.dumps(p.conditions(), ensure_ascii=False),
            content_hash=hashlib.sha256(record.encode("utf-8")).hexdigest(), source=p.source,
            apply_end=end.isoformat() if end else None))

    def decide(new: StoredPolicy, old: StoredPolicy | None) -> str:
        if old is None:
            return "added"
        if old.content_hash != new.content_hash and _stored_modified(old) > modified[new.plcy_no]:
            return "older"  # the stored version was modified later: keep it
        if old.content_hash != new.content_hash or old.classification != new.classification:
            return "updated"
        return "unchanged"

    counts = _catalogue(store).upsert_policies(rows, decide, expire_before=today.isoformat())
    return IngestReport(added=counts.get("added", 0), updated=counts.get("updated", 0),
                        unchanged=counts.get("unchanged", 0), older=counts.get("older", 0),
                        expired=counts.get("expired", 0), total=counts.get("total", 0))


def catalogue_version(store: Any) -> tuple[int, str, int]:
    """Changes whenever a row is added, updated or (un)marked expired."""
    return _catalogue(store).catalogue_version()


def load_policies(store: Any, *, public_only: bool = False) -> list[Policy]:
    """The stored policies (``public_only``: only 공개 rows, for callers without an account)."""
    out = []
    for row in _catalogue(store).list_policies(public_only=public_only):
        p = policy_from_record(json.loads(row.record))
        p.classification, p.expired_marked = row.classification, row.expired
        out.append(p)
    return out
