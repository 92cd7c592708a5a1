"""Documents: upload (background ingestion), jobs, list, read, chunks, original, delete.

A document outside the caller's view is *not found* (404), never *forbidden*: a refusal would
tell the caller that it exists.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from dasan import config
from dasan.errors import NotFoundError, PermissionDeniedError
from dasan.security.access import can, require
from dasan.security.guard import check_ingest, document_level, get_document, redact_chunks, visible_documents
from dasan.security.principals import MAX_COLLECTION_CHARS, validate_name
from dasan.server import schemas as s
from dasan.server.api import ERRORS, NOT_FOUND, level_name
from dasan.server.auth import AuditTrail, CurrentPrincipal, ReadyState, State, audit_scope
from dasan.server.errors import ApiError
from dasan.server.jobs import FileJob, Job, safe_name
from dasan.store.base import DocumentRecord
from dasan.types import Principal

router = APIRouter(tags=["문서"])
MAX_FILES_PER_UPLOAD = 100
WITH_404 = {**ERRORS, **NOT_FOUND}


def _doc_json(state: Any, d: DocumentRecord, owners: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    return {"id": d.id, "collection": d.collection, "title": d.title, "format": d.format, "kind": d.kind,
            "level": level_name(document_level(state.store, d)), "pages": d.pages, "chunks": d.n_chunks,
            "ingested_at": d.ingested_at, "departments": list(owners.get(d.collection, ())),
            "original": state.jobs.originals.path(d.content_hash) is not None}


def _resolve(state: Any, principal: Principal, ident: str) -> DocumentRecord:
    """The document with this id (or unique id prefix of 8+ characters) that the caller may see."""
    from dasan.security.guard import can_see_document

    require(principal, "docs")
    ids = [ident] if state.store.get_document(ident) else (
        state.store.resolve_document_id(ident) if len(ident) >= 8 else [])  # type: ignore[attr-defined]
    docs = [d for i in ids if (d := state.store.get_document(i)) is not None
            and can_see_document(state.store, principal, d)]
    if len(docs) != 1:
        raise NotFoundError(f"문서를 찾을 수 없습니다: {ident[:32]} (문서 목록에서 식별자를 확인하세요)")
    return get_document(state.store, principal, docs[0].id)


def _masked(state: Any, chunks: list[Any]) -> list[Any]:
    """Chunks as the caller may see them (personal data masked per the collection's policy)."""
    return redact_chunks(state.store, chunks)


# -- upload, jobs --------------------------------------------------------------------------
@router.post("/v1/documents", summary="문서 올리기 (백그라운드 수집)", status_code=202, response_model=s.UploadResponse,
             responses={**ERRORS, 413: {"model": s.ErrorResponse, "description": "모든 파일이 크기 한도 초과"}})
def upload(request: Request, state: ReadyState, principal: CurrentPrincipal,
           files: Annotated[list[UploadFile], File(description="올릴 파일 (여러 개 가능)")],
           collection: Annotated[str, Form(max_length=MAX_COLLECTION_CHARS * 4)] = "default",
           level: Annotated[str, Form(max_length=20)] = "공개") -> Any:
    collection = validate_name(collection, "컬렉션 이름", MAX_COLLECTION_CHARS)
    level = check_ingest(state.store, principal, collection, level)
    if not files:
        raise ApiError(400, "invalid_request", "올릴 파일이 없습니다. files 항목에 파일을 하나 이상 넣으세요.")
    if len(files) > MAX_FILES_PER_UPLOAD:
        raise ApiError(400, "too_many_files", f"한 번에 올릴 수 있는 파일은 {MAX_FILES_PER_UPLOAD}개까지입니다. 나누어 올리세요.")
    saved: list[FileJob] = [state.jobs.originals.save(f.file, safe_name(f.filename)) for f in files]
    if all(f.code == "file_too_large" for f in saved):
        raise ApiError(413, "file_too_large", f"파일이 너무 큽니다 (파일당 {config.MAX_FILE_BYTES / 1048576:.0f} MB까지). "
                       "파일을 나누거나 관리자에게 한도 조정을 요청하세요.")
    job = Job(id=state.jobs.new_id(), owner=principal.name, collection=collection, level=level, files=saved)
    try:
        job.trail = AuditTrail.open(state, principal, request, "document.upload", collection, job=job.id, level=level,
                                    files=[{"name": f.name, "sha256": f.sha256, "size": f.size} for f in saved])
    except BaseException:
        state.jobs.abandon(saved)  # not logged, so not ingested: the saved originals go again
        raise
    state.jobs.submit(job)
    return JSONResponse({"job": job.id, "files": [f.as_dict() for f in job.files]}, status_code=202)


@router.get("/v1/jobs/{job_id}", summary="수집 작업 상태", response_model=s.JobResponse, responses=WITH_404)
def job_status(job_id: str, state: State, principal: CurrentPrincipal) -> dict[str, Any]:
    return state.jobs.get(job_id, principal).as_dict()


# -- reading -------------------------------------------------------------------------------
@router.get("/v1/documents", summary="문서 목록 (볼 수 있는 문서만)", response_model=s.DocumentsResponse,
            responses=ERRORS)
def list_documents(state: State, principal: CurrentPrincipal,
                   collection: Annotated[str | None, Query(max_length=512)] = None) -> dict[str, Any]:
    owners = state.directory().collection_owners()
    return {"documents": [_doc_json(state, d, owners) for d in visible_documents(state.store, principal, collection)]}


@router.get("/v1/documents/{doc_id}", summary="문서 정보와 청크", response_model=s.DocumentDetail, responses=WITH_404)
def read_document(doc_id: str, request: Request, state: State, principal: CurrentPrincipal) -> dict[str, Any]:
    with audit_scope(state, principal, request, "document.read", doc_id[:64]) as rec:
        doc = _resolve(state, principal, doc_id)
        chunks = _masked(state, state.store.chunks_of(doc.id))
        rec["document_id"] = doc.id
    out = _doc_json(state, doc, state.directory().collection_owners())
    if doc.kind == "press":
        out["press"] = press_info(doc.metadata)
    out["chunks"] = [{"id": c.id, "ordinal": c.ordinal, "citation": c.citation.label, "page": c.citation.page,
                      "article": c.citation.article, "context": c.context, "text": c.text} for c in chunks]
    return out


def _content_disposition(name: str) -> str:
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name) or "document"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@router.get("/v1/documents/{doc_id}/original", summary="원본 파일 내려받기",
            responses={**WITH_404, 200: {"content": {"application/octet-stream": {}}, "description": "원본 바이트"}})
def download_original(doc_id: str, request: Request, state: State, principal: CurrentPrincipal) -> Any:
    with audit_scope(state, principal, request, "document.download", doc_id[:64]) as rec:
        doc = _resolve(state, principal, doc_id)
        rec["document_id"] = doc.id
        path = state.jobs.originals.path(doc.content_hash)
        if path is None:
            raise NotFoundError("이 문서의 원본 파일은 보관되어 있지 않습니다 (웹이나 API로 올린 문서만 원본을 보관합니다).")
        policy = state.store.collection_pii_policy(doc.collection)
        if policy == "mask_answer" and not can(principal, "ingest"):
            raise PermissionDeniedError(
                "이 컬렉션은 개인정보를 보여 줄 때 가리는 정책(mask_answer)이라, 원본 파일은 문서 등록 권한이 있는 "
                "사용자만 내려받을 수 있습니다. 본문은 문서 보기에서 확인하세요.")
    name = safe_name(doc.source_path.rsplit("/", 1)[-1]) if doc.source_path else f"{doc.id}.{doc.format}"
    return FileResponse(path, media_type="application/octet-stream",
                        headers={"Content-Disposition": _content_disposition(name),
                                 "X-Content-Type-Options": "nosniff"})


@router.get("/v1/chunks/{chunk_id}", summary="청크 한 개 (출처 보기)", response_model=s.ChunkDetail,
            responses=WITH_404)
def read_chunk(chunk_id: str, request: Request, state: State, principal: CurrentPrincipal) -> dict[str, Any]:
    with audit_scope(state, principal, request, "document.read", chunk_id[:64], chunk=True) as rec:
        require(principal, "docs")
        found = state.store.get_chunks([chunk_id[:128]])
        if not found:
            raise NotFoundError(f"청크를 찾을 수 없습니다: {chunk_id[:32]}")
        doc = get_document(state.store, principal, found[0].document_id)  # 404 when not visible
        masked = _masked(state, found)
        if not masked:
            raise PermissionDeniedError("개인정보 보호 정책(block)에 따라 이 내용은 보여 드릴 수 없습니다.")
        c = masked[0]
        rec["document_id"] = doc.id
    return {"chunk_id": c.id, "document_id": c.document_id, "citation": c.citation.label,
            "title": c.citation.title or doc.title, "article": c.citation.article, "page": c.citation.page,
            "context": c.context, "text": c.text}


def press_info(md: dict[str, Any]) -> dict[str, Any]:
    """A press release's header as the UI shows it (officials' work numbers are public)."""
    from dasan.ingest.press import embargo_status

    return {
        "ministry": md.get("ministry"), "bureau": md.get("bureau"), "division": md.get("division"),
        "distributed": md.get("distributed_at") or md.get("distributed"), "embargo": md.get("embargo"),
        "embargo_text": md.get("embargo_text"), "embargo_hold": bool(md.get("embargo_hold")),
        "embargo_status": embargo_status(md),
        "contacts": [{k: c.get(k) for k in ("role", "department", "position", "name", "phones")}
                     for c in (md.get("contacts") or [])[:20] if isinstance(c, dict)],
    }


@router.post("/v1/documents/{doc_id}/embargo", summary="보도자료 보도시점 지정·해제 (관리자)",
             response_model=s.EmbargoChanged, responses=WITH_404)
def set_embargo(doc_id: str, body: s.EmbargoRequest, request: Request, state: State,
                principal: CurrentPrincipal) -> dict[str, Any]:
    from dasan.errors import ParseError
    from dasan.ingest.press import embargo_status, parse_embargo_arg
    from dasan.security.guard import check_relabel

    with audit_scope(state, principal, request, "permission.change", doc_id[:64]) as rec:
        doc = _resolve(state, principal, doc_id)
        check_relabel(state.store, principal, "공개", what="보도시점 변경")
        if doc.kind != "press":
            raise ParseError("보도자료가 아닌 문서에는 보도시점을 정할 수 없습니다.")
        try:
            embargo = parse_embargo_arg(body.embargo or "none")
        except ValueError as e:
            raise ParseError(str(e)) from e
        rec.update(document_id=doc.id, change="document.embargo", embargo=embargo or "none")
        state.store.set_document_embargo(doc.id, embargo, by=principal.name)
    state.retriever.update()
    fresh = state.store.get_document(doc.id)
    return {"id": doc.id, "embargo": embargo, "embargo_status": embargo_status(fresh.metadata if fresh else {})}


# -- delete --------------------------------------------------------------------------------
@router.delete("/v1/documents/{doc_id}", summary="문서 삭제 (문서 등록 권한 필요)", response_model=s.Removed,
               responses=WITH_404)
def delete_document(doc_id: str, request: Request, state: State, principal: CurrentPrincipal) -> dict[str, Any]:
    with audit_scope(state, principal, request, "document.delete", doc_id[:64]) as rec:
        require(principal, "ingest")
        doc = _resolve(state, principal, doc_id)
        rec.update(document_id=doc.id, collection=doc.collection)
        state.store.remove_document(doc.id)
        state.jobs.originals.keep_or_discard(state.store, {doc.content_hash})
    state.retriever.update()
    return {"removed": doc.id}
