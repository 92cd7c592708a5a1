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
