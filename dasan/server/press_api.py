"""`POST /v1/press/draft`: the press desk's drafting form in the web UI (and for API clients).

The brief is the same YAML (or JSON object) that `dasan press draft` reads. Background comes
from past releases the caller may see (the same retriever and access filter as search); a
model backend writes the lead only when it is cleared for the brief's level. The response
holds the structured draft, an HTML preview, the house-style findings and the HWPX file
(base64), so nothing is written on the server.
"""

from __future__ import annotations

import base64
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, Request, Response

from dasan.errors import ConfigError
from dasan.security.access import require
from dasan.server import schemas as s
from dasan.server.api import ERRORS
from dasan.server.auth import CurrentPrincipal, ReadyState, audit_scope
from dasan.server.errors import ApiError

router = APIRouter(tags=["보도자료"])
MAX_BRIEF_CHARS = 50_000


@router.get("/v1/press/preview.css", summary="초안 미리보기 스타일 (키 불필요)", include_in_schema=False)
def preview_css() -> Response:
    """The preview page's rules as a file: the web UI's CSP forbids the inline <style>."""
    from dasan.apps.press.draft import PREVIEW_CSS

    return Response(PREVIEW_CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.post("/v1/press/draft", summary="보도자료 초안 작성 (요지 → HWPX·미리보기·문체 점검)",
             response_model=s.PressDraftResponse, responses=ERRORS)
def press_draft(body: s.PressDraftRequest, request: Request, state: ReadyState,
                principal: CurrentPrincipal) -> dict[str, Any]:
    from dasan.apps.press.draft import Brief, draft_release, render_html
    from dasan.apps.press.style import check_release
    from dasan.ingest.readers import read_file

    require(principal, "ask")
    if len(body.brief) > MAX_BRIEF_CHARS:
        raise ApiError(413, "brief_too_large", f"요지가 너무 깁니다 ({len(body.brief)}자 > {MAX_BRIEF_CHARS}자).")
    try:
        data = yaml.safe_load(body.brief)
    except yaml.YAMLError as e:
        raise ApiError(400, "invalid_brief", f"요지를 YAML로 읽을 수 없습니다: {e}") from e
    backend = None
    if body.backend != "extractive":
        backend = state.backends.get(body.backend)
        if backend is None:
            raise ApiError(400, "unknown_backend", f"이 서버에 없는 모델입니다: {body.backend} "
                                                   f"(가능: extractive, {', '.join(state.backends) or '없음'})")
    try:
        brief = Brief.from_dict(data, source="요지")
    except ConfigError as e:
        raise ApiError(400, "invalid_brief", e.message) from e
    with audit_scope(state, principal, request, "search", (brief.topic or brief.title or "")[:500],
                     purpose="press.draft", backend=body.backend) as rec:
        if body.background:
            draft = draft_release(brief, store=state.store, principal=principal, backend=backend,
                                  retriever=state.retriever, collection=body.collection)
        else:
            draft = draft_release(brief, backend=backend)
        rec["chunk_ids"] = [x.chunk_id for x in draft.sources]
        rec["generated_by"] = draft.generated_by
    with tempfile.TemporaryDirectory(prefix="dasan-draft-") as tmp:
        path = draft.write_hwpx(Path(tmp) / "draft.hwpx")
        hwpx = path.read_bytes()
        findings = check_release(read_file(path))
    return {"draft": draft.to_dict(), "preview_html": render_html(draft),
            "style": [asdict(f) for f in findings], "hwpx_base64": base64.b64encode(hwpx).decode("ascii"),
            "filename": f"{(draft.headline or '보도자료')[:60]}.hwpx"}
