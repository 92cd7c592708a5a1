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
