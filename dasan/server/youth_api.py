"""Youth benefits (청년 혜택) for citizens: ``/youth`` (the page) and ``/v1/youth/*``.

These routes are anonymous on purpose and read only policies stored as 공개 (the 온통청년
catalogue is public-sector open data): no API key is asked, none is looked at, and nothing but
공개 rows is ever loaded for them — a policy stored at another level is answered 404 here, as
if it did not exist. The profile a citizen sends is used for the answer and not stored or
logged (it is personal data, and no account is behind it).
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from dasan.apps.youth.catalogue import Policy, catalogue_version, load_policies
from dasan.errors import NotFoundError
from dasan.server.api import ERRORS
from dasan.server.auth import State

router = APIRouter(tags=["청년 혜택"])

#: The routes that answer without an API key — these and no others; each reads only 공개 rows.
PUBLIC_PATHS = frozenset({"/youth", "/v1/youth/parse", "/v1/youth/screen", "/v1/youth/recommend",
                          "/v1/youth/policies/{plcy_no}", "/v1/youth/regions"})

_CACHE: dict[int, tuple[tuple[int, str, int], list[Policy]]] = {}
_LOCK = threading.Lock()


def public_policies(store: Any) -> list[Policy]:
    """The 공개 policies of ``store`` (read again only when the catalogue changed)."""
    version = catalogue_version(store)
    with _LOCK:
        hit = _CACHE.get(id(store))
        if hit and hit[0] == version:
            return hit[1]
    pols = load_policies(store, public_only=True)
    with _LOCK:
        _CACHE[id(store)] = (version, pols)
    return pols


class YouthProfile(BaseModel):
    birth_date: date | None = Field(None, description="생년월일 (만 나이 계산)")
    age: int | None = Field(None, ge=0, le=120, description="만 나이 (생년월일을 모를 때)")
    birth_year: int | None = Field(None, ge=1900, le=2100, description="출생 연도 (예: 98년생 → 1998)")
    sigungu_code: str | None = Field(None, max_length=10, description="시군구 코드 5자리 (예: 11620 관악구)")
    sigungu_name: str | None = Field(None, max_length=60)
    sido_code: str | None = Field(None, max_length=2)
    job: str | None = Field(None, max_length=20, description="재직자, 미취업자, 자영업자, 프리랜서, …")
    school: str | None = Field(None, max_length=20)
    marital: str | None = Field(None, max_length=10, description="미혼 / 기혼")
    income_manwon: int | None = Field(None, ge=0, le=1_000_000, description="연 소득 (만원)")
    special: list[str] | None = Field(None, max_length=10, description="특화 분야 ([] = 해당 없음)")
    major: str | None = Field(None, max_length=20)
    residence_months: int | None = Field(None, ge=0, le=1200)
    median_income_pct: int | None = Field(None, ge=0, le=1000)
    homeless: bool | None = None


class ScreenRequest(BaseModel):
    profile: YouthProfile
    reference_date: date | None = Field(None, description="기준일 (기본: 오늘)")
    status: Literal["대상", "확인 필요", "비대상"] | None = None
    limit: int = Field(200, ge=1, le=2000)


class RecommendRequest(BaseModel):
    text: str | None = Field(None, max_length=500, description="한국어 문장 (예: 관악구 사는 27살 취준생인데 월세 지원 있어요?)")
    profile: YouthProfile | None = Field(None, description="확인한 조건 (문장에서 읽은 값보다 우선)")
    category: Literal["일자리", "주거", "교육", "복지문화", "참여권리"] | None = None
    keywords: list[str] = Field(default_factory=list, max_length=5)
    reference_date: date | None = None
    limit: int = Field(30, ge=1, le=200)


class ParseRequest(BaseModel):
    text: str = Field(..., min_length=1, max_length=500)


def _fields(p: YouthProfile | None) -> dict[str, Any]:
    return p.model_dump(exclude_none=True) if p else {}


@router.get("/youth", include_in_schema=False)
def youth_page() -> Any:
    from dasan.server.app import STATIC_DIR

    return FileResponse(STATIC_DIR / "youth.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})


@router.post("/v1/youth/parse", summary="문장 → 조건 (확인용, 키 불필요)", responses=ERRORS)
def youth_parse(body: ParseRequest) -> dict[str, Any]:
    from dasan.apps.youth.profile_parse import parse_question

    return parse_question(body.text).as_dict()


@router.post("/v1/youth/screen", summary="공개 청년 정책 전체 판정: 대상 / 비대상 / 확인 필요 (키 불필요)",
             responses=ERRORS)
def youth_screen(body: ScreenRequest, state: State) -> dict[str, Any]:
    from dasan.apps.youth.rules import Profile, screen_all

    on = body.reference_date or date.today()
    results = screen_all(public_policies(state.store), Profile.from_dict(_fields(body.profile)), on)
    counts: dict[str, int] = {"대상": 0, "확인 필요": 0, "비대상": 0}
    for r in results:
        counts[r.status] += 1
    order = {"대상": 0, "확인 필요": 1, "비대상": 2}
    chosen = sorted((r for r in results if body.status is None or r.status == body.status),
                    key=lambda r: order[r.status])
    return {"reference_date": on.isoformat(), "counts": counts,
            "results": [r.as_dict(full=r.status != "비대상") for r in chosen[: body.limit]]}


@router.post("/v1/youth/recommend", summary="물어본 주제의 청년 정책 추천 (대상 먼저, 준비 서류·신청처, 다음 질문; 키 불필요)",
             responses=ERRORS)
def youth_recommend(body: RecommendRequest, state: State) -> dict[str, Any]:
    from dasan.apps.youth.profile_parse import parse_question
    from dasan.apps.youth.recommend import Query, recommend
    from dasan.apps.youth.rules import Profile

    parsed = parse_question(body.text) if body.text else None
    fields = {**(parsed.fields if parsed else {}), **_fields(body.profile)}
    query = parsed.query if parsed else Query()
    if body.category or body.keywords:
        query = Query(body.category or None, tuple(k.strip() for k in body.keywords if k.strip()), query.text)
    on = body.reference_date or date.today()
    rec = recommend(public_policies(state.store), Profile.from_dict(fields), query, on)
    out = rec.as_dict(limit=body.limit)
    if parsed:
        out["understood"] = parsed.as_dict()
    return out


@router.get("/v1/youth/policies/{plcy_no}", summary="공개 청년 정책 하나 (조건·원문·신청 방법; 키 불필요)",
            responses=ERRORS)
def youth_policy(plcy_no: str, state: State) -> dict[str, Any]:
    pol = next((p for p in public_policies(state.store) if p.plcy_no == plcy_no), None)
    if pol is None:
        raise NotFoundError(f"공개된 청년 정책 {plcy_no}을 찾지 못했습니다. 정책 번호(plcyNo)를 확인하세요.")
    today = date.today()
    return {"plcyNo": pol.plcy_no, "name": pol.name, "category": list(pol.categories),
            "subcategory": list(pol.subcategories), "keywords": list(pol.keywords),
            "description": pol.description, "support": pol.support, "conditions": pol.conditions(),
            "window": pol.window_state(today), "expired": pol.expired(today), "documents": pol.documents,
            "apply_method": pol.apply_method, "url": pol.url, "institution": pol.institution,
            "source": "온통청년 (국무조정실 청년정책조정실) 공공데이터"}


@router.get("/v1/youth/regions", summary="시군구 목록 (현재 코드; 키 불필요)", responses=ERRORS)
def youth_regions() -> dict[str, Any]:
    from dasan.apps.youth.codes import regions

    reg = regions()
    out = [{"code": c, "sido": a.sido, "name": a.name or a.sido} for c, a in sorted(reg.areas.items())
           if a.current and c not in reg.children]  # a 시 with 구: choose the 구
    return {"regions": out}
