"""Health, login, search and collections."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dasan.errors import AuthError
from dasan.rag.retrieve import SearchFilter
from dasan.security.access import authenticate_key, require
from dasan.security.guard import redact_hits, search_filter, visible_collections
from dasan.server import schemas as s
from dasan.server.auth import CurrentPrincipal, ReadyState, State, audit_scope, client_of
from dasan.server.errors import ApiError
from dasan.types import LEVELS

router = APIRouter()

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": s.ErrorResponse, "description": "요청 형식 오류"},
    401: {"model": s.ErrorResponse, "description": "API 키 없음·잘못됨·만료·폐기"},
    403: {"model": s.ErrorResponse, "description": "권한 없음"},
    503: {"model": s.ErrorResponse, "description": "준비 중이거나 감사 기록 실패"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": s.ErrorResponse, "description": "없거나 볼 수 없음"}}


def level_name(index: int) -> str:
    return LEVELS[min(max(index, 0), len(LEVELS) - 1)]


# -- health --------------------------------------------------------------------------------
@router.get("/healthz", tags=["상태"], summary="프로세스 동작 확인 (키 불필요)", response_model=s.Health)
def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@router.get("/readyz", tags=["상태"], summary="색인 준비 여부 (키 불필요)", response_model=s.Ready,
            response_model_exclude_none=True,
            responses={503: {"model": s.Ready, "description": "첫 색인을 만드는 중"}})
def readyz(state: State) -> Any:
    if not state.ready.is_set():
        body: dict[str, Any] = {"status": "failed" if state.startup_error else "starting"}
        if state.startup_error:
            body["error"] = state.startup_error
        return JSONResponse(body, status_code=503)
    try:
        database = state.database_status()
    except Exception as e:  # the database is gone: this replica must leave the load balancer
        return JSONResponse({"status": "database_unavailable", "error": f"{type(e).__name__}: {e}"[:300]},
                            status_code=503)
    docs = state.store.list_documents()
    body = {"status": "ready", "documents": len(docs), "chunks": sum(d.n_chunks for d in docs),
            "database": database}
    if state.retriever.last_refresh_error:
        # still serving the previous index; new documents are not searchable until this clears
        body["index_error"] = state.retriever.last_refresh_error
    return body


# -- login ---------------------------------------------------------------------------------
@router.post("/v1/login", tags=["인증"], summary="API 키 확인 (웹 화면 로그인)", response_model=s.LoginResponse,
             responses=ERRORS)
def login(body: s.LoginRequest, request: Request, state: State) -> dict[str, Any]:
    key = body.key.strip()
    try:
        p = authenticate_key(state.directory(), key)
    except AuthError as e:
        prefix = key[:12] if key.startswith("dsn_") and len(key) >= 12 else None
        state.audit.append("login", "anonymous", prefix or "", outcome="error", code=e.code,
                           client=client_of(request), via="api")
        raise
    state.audit.append("login", p.name, p.key_prefix or "", outcome="ok", client=client_of(request), via="api",
                       key=p.key_prefix)
    return {"user": p.name, "clearance": p.clearance, "roles": list(p.roles), "departments": list(p.departments),
            "scopes": None if p.scopes is None else list(p.scopes)}


# -- search --------------------------------------------------------------------------------
def hit_json(state: Any, h: Any, collections: dict[str, str]) -> dict[str, Any]:
    c = h.chunk
    if c.document_id not in collections:
        doc = state.store.get_document(c.document_id)
        collections[c.document_id] = doc.collection if doc else ""
    return {"rank": h.rank, "score": round(float(h.score), 4), "citation": c.citation.label,
            "document_id": c.document_id, "chunk_id": c.id, "page": c.citation.page, "text": c.text,
            "snippet": h.snippet, "collection": collections[c.document_id],
            "level": level_name(state.retriever.level_of(c.id))}


@router.post("/v1/search", tags=["검색"], summary="문서 검색 (볼 수 있는 문서만)", response_model=s.SearchResponse,
             responses=ERRORS)
def search(body: s.SearchRequest, request: Request, state: ReadyState, principal: CurrentPrincipal) -> dict[str, Any]:
    if not body.query.strip():
        raise ApiError(400, "invalid_request", "검색어가 비어 있습니다. 찾을 내용을 입력하세요.")
    require(principal, "search")
    flt = search_filter(state.store, principal, SearchFilter(
        collection=body.collection, kinds=tuple(body.kinds) if body.kinds else None, date_from=body.date_from,
        date_to=body.date_to, in_force=body.in_force))
    with audit_scope(state, principal, request, "search", body.query[:500], k=body.k,
                     collection=body.collection) as rec:
        hits = redact_hits(state.store, state.retriever.search(body.query, k=body.k, flt=flt))
        colls: dict[str, str] = {}
        results = [hit_json(state, h, colls) for h in hits]
        rec["chunk_ids"] = [h.chunk.id for h in hits]
        out: dict[str, Any] = {"results": results}
        if body.profile == "field":
            from dasan.server.field_api import field_json

            require(principal, "ask")
            out["field"] = field_json(state, principal, body.query, body.collection)
    return out


# -- collections ---------------------------------------------------------------------------
@router.get("/v1/collections", tags=["문서"], summary="컬렉션 목록 (볼 수 있는 문서만 셈)",
            response_model=s.CollectionsResponse, responses=ERRORS)
def collections(state: State, principal: CurrentPrincipal) -> dict[str, Any]:
    owners = state.directory().collection_owners()
    rows = visible_collections(state.store, principal)
    return {"collections": [
        {"name": r["name"], "level": r["level"], "pii_policy": r["pii_policy"], "documents": r["documents"],
         "chunks": r["chunks"], "departments": list(owners.get(r["name"], ()))} for r in rows]}
