"""OpenAI-compatible endpoints: ``/v1/models``, ``/v1/chat/completions``, ``/v1/embeddings``.

Works with the official ``openai`` client (``base_url=http://host:port/v1``, ``api_key=dsn_…``).
The last user message is the question; the answer is grounded in the caller's permitted
collections only. Model ``dasan`` answers extractively (verbatim quotes, no language model);
``dasan-<backend>`` uses that configured backend (routing by level may still fall back).
Dasan adds two top-level fields: ``citations`` (what each ``[n]`` marker points to) and
``dasan`` (refused, backend, routing, timings, notes). A stream ends with an empty delta that
carries both, then ``data: [DONE]``.

``usage`` counts are whitespace-separated words, an approximation (no tokenizer is involved in
extractive answers).
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from dasan.errors import DasanError
from dasan.rag.retrieve import SearchFilter
from dasan.rag.sources import source_facts
from dasan.security.access import require
from dasan.security.guard import redact_answer, search_filter
from dasan.server import schemas as s
from dasan.server.api import ERRORS, NOT_FOUND
from dasan.server.auth import AuditTrail, CurrentPrincipal, ReadyState, audit_scope
from dasan.server.errors import ApiError, error_body, status_of

router = APIRouter(tags=["OpenAI 호환"])
log = logging.getLogger("dasan.server")

MAX_QUESTION_CHARS = 4000
MAX_EMBED_INPUTS = 256
MAX_EMBED_CHARS = 8192
WITH_404 = {**ERRORS, **NOT_FOUND}


# -- models --------------------------------------------------------------------------------
def model_ids(state: Any) -> list[str]:
    return ["dasan", *(f"dasan-{name}" for name in state.backends)]


def backend_of(state: Any, model: str) -> str:
    m = model.strip()
    if m in ("dasan", "dasan-extractive"):
        return "extractive"
    if m.startswith("dasan-") and m[6:] in state.backends:
        return m[6:]
    raise ApiError(404, "model_not_found",
                   f"모델을 찾을 수 없습니다: {m[:64]!r}. /v1/models 목록의 모델 이름({', '.join(model_ids(state))})을 쓰세요.")


@router.get("/v1/models", summary="쓸 수 있는 모델 목록", response_model=s.ModelList, responses=ERRORS)
def models(state: ReadyState, principal: CurrentPrincipal) -> dict[str, Any]:
    created = int(state.started_at)
    return {"object": "list", "data": [{"id": m, "object": "model", "created": created, "owned_by": "dasan"}
                                       for m in model_ids(state)]}


# -- chat ----------------------------------------------------------------------------------
def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}, ...]
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def question_of(body: s.ChatRequest) -> str:
    for m in reversed(body.messages):
        if m.role == "user":
            q = _text_of(m.content).strip()
            if not q:
                break
            if len(q) > MAX_QUESTION_CHARS:
                raise ApiError(400, "question_too_long",
                               f"질문이 너무 깁니다 ({len(q)}자). {MAX_QUESTION_CHARS}자 이하로 줄이세요.")
            return q
    raise ApiError(400, "invalid_request", "질문이 없습니다. messages의 마지막 user 메시지에 질문을 넣으세요.")


def citations_json(ans: Any) -> list[dict[str, Any]]:
    return [{"marker": c.marker, "citation": c.chunk.citation.label, "document_id": c.chunk.document_id,
             "chunk_id": c.chunk.id, "quote": c.quote, **source_facts(c.chunk)} for c in ans.citations]


def dasan_json(ans: Any) -> dict[str, Any]:
    out = {"refused": ans.refused, "backend": ans.backend, "routing": ans.routing,
           "timings_ms": {k: round(v, 1) for k, v in ans.timings_ms.items()}, "notes": list(ans.notes)}
    out["closest"] = [{"citation": h.chunk.citation.label, "document_id": h.chunk.document_id,
                       "chunk_id": h.chunk.id} for h in ans.hits[:3]] if ans.refused else []
    return out


def _words(text: str) -> int:
    return len(text.split())


def _audit_facts(ans: Any) -> dict[str, Any]:
    return {"chunk_ids": [c.chunk.id for c in ans.citations], "refused": ans.refused, "backend_used": ans.backend,
            "routing": ans.routing}


@router.post("/v1/chat/completions", summary="문서에 근거한 답변 (OpenAI 호환, stream 지원)",
             response_model=s.ChatCompletion, responses={
                 **WITH_404, 200: {"content": {"text/event-stream": {}},
                                   "description": "stream=false: ChatCompletion JSON; stream=true: SSE 조각"}})
def chat_completions(body: s.ChatRequest, request: Request, state: ReadyState, principal: CurrentPrincipal) -> Any:
    require(principal, "ask")
    question = question_of(body)
    backend = backend_of(state, body.model)
    flt = search_filter(state.store, principal, SearchFilter(collection=body.collection))
    cid, created = f"chatcmpl-{secrets.token_hex(12)}", int(time.time())
    details = {"backend": backend, "collection": body.collection, "model": body.model}
    if body.profile == "field":
        return _field_completion(state, question, body, request, principal, cid, created, details)
    if body.stream:
        trail = AuditTrail.open(state, principal, request, "answer", question[:500], stream=True, **details)
        return StreamingResponse(_stream(state, question, backend, flt, body.model, cid, created, trail),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    with audit_scope(state, principal, request, "answer", question[:500], **details) as rec:
        final = None
        for ev in state.answerer.stream(question, backend, flt):
            if ev["type"] == "final":
                final = redact_answer(state.store, ev["answer"])
        assert final is not None
        rec.update(_audit_facts(final))
    return {"id": cid, "object": "chat.completion", "created": created, "model": body.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": final.text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": _words(question), "completion_tokens": _words(final.text),
                      "total_tokens": _words(question) + _words(final.text)},
            "citations": citations_json(final), "dasan": dasan_json(final)}


def _field_completion(state: Any, question: str, body: s.ChatRequest, request: Request, principal: Any, cid: str,
                      created: int, details: dict[str, Any]) -> Any:
    """``"profile": "field"``: the three-part field answer (지금 할 일 · 법적 의무 · 과거 사례) as the
    message; ``citations`` name each part's sources and ``dasan.field`` carries the parts as JSON.
    Extractive whatever the model: every line comes from a manual, a statute or a record."""
    from dasan.server.field_api import field_json

    with audit_scope(state, principal, request, "answer", question[:500], profile="field", **details) as rec:
        out = field_json(state, principal, question, None)
        rec.update(refused=out["refused"], chunk_ids=[c.get("chunk_id") for c in out.get("citations", [])
                                                      if c.get("chunk_id")])
    text = out["answer"]
    cites = [{"marker": i, "citation": c["citation"], "document_id": c.get("document_id", ""),
              "chunk_id": c.get("chunk_id") or "", "quote": "", "part": c.get("part")}
             for i, c in enumerate(out.get("citations", []), start=1)]
    meta = {"refused": out["refused"], "backend": "extractive", "profile": "field", "routing": "field",
            "timings_ms": {}, "notes": [], "closest": [], "field": out}
    if body.stream:
        def events() -> Iterator[str]:
            base = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": body.model}
            yield _sse(base | {"choices": [{"index": 0, "delta": {"role": "assistant", "content": text},
                                            "finish_reason": None}]})
            yield _sse(base | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "citations": cites,
                               "dasan": meta | {"answer": text}})
            yield "data: [DONE]\n\n"
        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    return {"id": cid, "object": "chat.completion", "created": created, "model": body.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": _words(question), "completion_tokens": _words(text),
                      "total_tokens": _words(question) + _words(text)},
            "citations": cites, "dasan": meta}


def _sse(obj: Any) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"


def _stream(state: Any, question: str, backend: str, flt: SearchFilter, model: str, cid: str, created: int,
            trail: AuditTrail) -> Iterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        return _sse({"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra})

    # Raw model tokens are shown as they come only where no personal-data policy applies;
    # otherwise the verified, masked answer is sent at the end (as ``dasan ask`` does).
    live = backend != "extractive" and all(c.get("pii_policy", "off") == "off" for c in state.store.collections())
    finished = False
    try:
        yield chunk({"role": "assistant", "content": ""})
        streamed: list[str] = []
        final = None
        for ev in state.answerer.stream(question, backend, flt):
            if ev["type"] == "token" and live:
                streamed.append(ev["text"])
                yield chunk({"content": ev["text"]})
            elif ev["type"] == "final":
                final = redact_answer(state.store, ev["answer"])
        assert final is not None
        finished = True
        trail.finish(**_audit_facts(final))  # written before the verified answer is shown
    except Exception as e:
        if not finished:
            try:
                trail.finish(error=e)
            except Exception:
                log.exception("audit entry for a failed answer could not be written")
        if isinstance(e, DasanError):
            status, code, message = status_of(e), e.code, e.message
        else:
            log.exception("streamed answer failed")
            status, code, message = 500, "internal_error", "답변을 만드는 중 서버 오류가 발생했습니다. 다시 시도하세요."
        yield _sse(error_body(code, message) | {"status": status})
        yield "data: [DONE]\n\n"
        return
    except GeneratorExit:  # client went away
        if not finished:
            try:
                trail.finish(error="client disconnected")
            except Exception:
                log.exception("audit entry for an abandoned answer could not be written")
        raise
    if not live:
        yield chunk({"content": final.text})
    elif "".join(streamed).strip() != final.text.strip():
        yield chunk({"content": f"\n\n[검증 후 답변]\n{final.text}"})
    yield chunk({}, "stop", citations=citations_json(final), dasan=dasan_json(final) | {"answer": final.text})
    yield "data: [DONE]\n\n"


# -- embeddings ----------------------------------------------------------------------------
@router.post("/v1/embeddings", summary="문장 임베딩 (검색에 쓰는 모델의 passage 임베딩)",
             response_model=s.EmbeddingResponse, responses=WITH_404)
def embeddings(body: s.EmbeddingRequest, request: Request, state: ReadyState,
               principal: CurrentPrincipal) -> dict[str, Any]:
    require(principal, "search")
    cfg = state.retriever.config
    dense = state.retriever.dense if cfg.embedder else None
    if dense is None:
        raise ApiError(400, "no_embedder", "이 서버는 임베딩 모델 없이(어휘 검색만) 실행 중이라 임베딩을 만들 수 없습니다.")
    name = dense.embedder.name
    if body.model not in (cfg.embedder, name, f"dasan-{cfg.embedder}", "dasan"):
        raise ApiError(404, "model_not_found", f"임베딩 모델을 찾을 수 없습니다: {body.model[:64]!r}. '{cfg.embedder}'를 쓰세요.")
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    if not texts or len(texts) > MAX_EMBED_INPUTS:
        raise ApiError(400, "invalid_request", f"input은 문장 1개 이상 {MAX_EMBED_INPUTS}개 이하여야 합니다.")
    if any(len(t) > MAX_EMBED_CHARS for t in texts):
        raise ApiError(400, "input_too_long", f"문장 하나는 {MAX_EMBED_CHARS}자 이하여야 합니다. 나누어 보내세요.")
    with audit_scope(state, principal, request, "embeddings", str(cfg.embedder), inputs=len(texts),
                     chars=sum(len(t) for t in texts)):
        vecs = np.asarray(dense.embedder.embed_passages(texts), dtype="<f4")
    data = [{"object": "embedding", "index": i,
             "embedding": base64.b64encode(v.tobytes()).decode("ascii") if body.encoding_format == "base64"
             else [float(x) for x in v]} for i, v in enumerate(vecs)]
    n = sum(_words(t) for t in texts)
    return {"object": "list", "data": data, "model": str(cfg.embedder),
            "usage": {"prompt_tokens": n, "total_tokens": n}}
