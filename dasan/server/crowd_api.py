"""``/v1/crowd/*``: crowd-risk forecasts, alerts and the dashboard data (issue 16).

Reading needs the ``search`` permission, like the other read routes; every call is audited
with the caller's key and address."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from dasan.security.access import require
from dasan.server.api import ERRORS
from dasan.server.auth import CurrentPrincipal, ReadyState, audit_scope

router = APIRouter(tags=["밀집위험"])


@router.get("/v1/crowd/alerts", summary="밀집위험 경보 (예측 상한의 단계 초과, 예측구간 이탈) 과 설명", responses=ERRORS)
def crowd_alerts(request: Request, state: ReadyState, principal: CurrentPrincipal,
                 place: str | None = Query(None, max_length=200, description="이 장소의 경보만"),
                 include_inactive: bool = Query(False, alias="all", description="해제된 경보도")) -> dict[str, Any]:
    from dasan.apps.crowd.service import alerts

    with audit_scope(state, principal, request, "crowd.alerts", place or "") as rec:
        require(principal, "search")
        rows = alerts(state.store, place, include_inactive=include_inactive)
        rec.update(count=len(rows))
    return {"alerts": rows}


@router.get("/v1/crowd/places", summary="저장된 장소별 혼잡 계열 (단위, 기간)", responses=ERRORS)
def crowd_places(request: Request, state: ReadyState, principal: CurrentPrincipal) -> dict[str, Any]:
    from dasan.apps.crowd.series_store import CrowdStore

    with audit_scope(state, principal, request, "crowd.places") as rec:
        require(principal, "search")
        rows = CrowdStore.from_store(state.store).series()
        rec.update(count=len(rows))
    return {"series": rows}


@router.get("/v1/crowd/dashboard", summary="장소별 이력·예측 구간·30분 혼잡도·기준·경보·백테스트", responses=ERRORS)
def crowd_dashboard(request: Request, state: ReadyState, principal: CurrentPrincipal,
                    place: str | None = Query(None, max_length=200)) -> dict[str, Any]:
    from dasan.apps.crowd.service import dashboard

    with audit_scope(state, principal, request, "crowd.dashboard", place or "") as rec:
        require(principal, "search")
        out = dashboard(state.store, place)
        rec.update(places=len(out["place"]))
    return out
