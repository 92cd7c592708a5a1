"""``POST /v1/records/query``: questions over accident registers answered by a structured query
(filters, counts, group-bys) over the rows the caller may see — never counted by a model."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from dasan.security.access import require
from dasan.server import schemas as s
from dasan.server.api import ERRORS
from dasan.server.auth import CurrentPrincipal, ReadyState, audit_scope

router = APIRouter(tags=["기록"])


@router.post("/v1/records/query", summary="사고 기록 질의 (조건·건수·묶음, 근거 기록 번호)", responses=ERRORS)
def records_query(body: s.RecordsQueryRequest, request: Request, state: ReadyState,
                  principal: CurrentPrincipal) -> dict[str, Any]:
    from dasan.apps.field.records import answer, load_tables

    with audit_scope(state, principal, request, "records.query", body.collection or "",
                     question=body.question[:200]) as rec:
        require(principal, "search")
        tables = load_tables(state.store, principal, body.collection)
        ans = answer(body.question, tables)
        out: dict[str, Any] = {"answer": ans.text() if ans else "볼 수 있는 기록(표)이 없습니다.",
                               "result": ans.as_dict() if ans else None}
        rec.update(count=len(ans.matched) if ans else 0, table=ans.table.document_id if ans else None)
    return out


@router.post("/v1/records/similar", summary="지금 상황과 비슷한 과거 사고 기록 (원인·조치·재발방지대책)",
             responses=ERRORS)
def records_similar(body: s.RecordsSimilarRequest, request: Request, state: ReadyState,
                    principal: CurrentPrincipal) -> dict[str, Any]:
    from dasan.apps.field.records import load_tables, similar

    with audit_scope(state, principal, request, "records.similar", body.collection or "",
                     description=body.description[:200]) as rec:
        require(principal, "search")
        out = []
        for t in load_tables(state.store, principal, body.collection):
            items = similar(body.description, t, body.k)
            if items:
                out.append({"table": t.title, "document_id": t.document_id, "records": [
                    {"record_id": it.record.record_id, "citation": it.record.label, "score": round(it.score, 3),
                     "matched": it.reasons, "fields": it.record.fields} for it in items]})
        rec.update(records=sum(len(x["records"]) for x in out))
    return {"results": out}


def field_json(state: Any, principal: Any, question: str, collection: str | None = None) -> dict[str, Any]:
    """The three-part field answer over what ``principal`` may see, PII policy applied."""
    from dasan.apps.field.answer import field_answer, masked
    from dasan.rag.retrieve import SearchFilter
    from dasan.security.guard import search_filter

    flt = search_filter(state.store, principal, SearchFilter())
    ans = field_answer(question, state.retriever, state.store, principal, flt, collection)
    return masked(state.store, ans.as_dict())


@router.post("/v1/field/answer", summary="현장 답변: 지금 할 일 · 법적 의무 · 과거 사례 (근거 없으면 답하지 않음)",
             responses=ERRORS)
def field_answer_route(body: s.FieldRequest, request: Request, state: ReadyState,
                       principal: CurrentPrincipal) -> dict[str, Any]:
    with audit_scope(state, principal, request, "answer", body.question[:500], profile="field",
                     collection=body.collection) as rec:
        require(principal, "ask")
        out = field_json(state, principal, body.question, body.collection)
        rec.update(refused=out["refused"], chunk_ids=[c.get("chunk_id") for c in out.get("citations", [])
                                                      if c.get("chunk_id")])
    return out


@router.post("/v1/field/report", summary="사고 보고 초안 (사고대장 항목, 법령상 보고와 기한; 자동 제출 없음)",
             responses=ERRORS)
def field_report_route(body: s.FieldReportRequest, request: Request, state: ReadyState,
                       principal: CurrentPrincipal) -> dict[str, Any]:
    from dasan.apps.field.answer import masked
    from dasan.apps.field.records import load_tables
    from dasan.apps.field.report import draft_report
    from dasan.rag.retrieve import SearchFilter
    from dasan.security.guard import search_filter

    with audit_scope(state, principal, request, "field.report", body.description[:500]) as rec:
        require(principal, "ask")
        flt = search_filter(state.store, principal, SearchFilter())
        draft = draft_report(body.description, load_tables(state.store, principal, body.collection),
                             state.retriever, flt)
        out = draft.as_dict()
        out["text"] = draft.text()
        out = masked(state.store, out)
        rec.update(reports=len(out.get("reports", [])))
    return out


@router.get("/field", include_in_schema=False)
def field_page() -> Any:
    """The field workers' phone page (static/field.html; the API key is asked on the page)."""
    from pathlib import Path

    from fastapi.responses import FileResponse

    page = Path(__file__).resolve().parent / "static" / "field.html"
    return FileResponse(page, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})
