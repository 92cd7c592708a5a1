"""The FastAPI application: ``create_app(data_dir)`` builds one, ``dasan serve`` runs it.

>>> app = create_app(Path("~/.local/share/dasan").expanduser(), ingest_samples=True)
>>> uvicorn.run(app, host="127.0.0.1", port=8000)

Routes: ``/healthz``, ``/readyz``, ``/v1/*`` (see ``/openapi.json``) and the web UI
(``/`` and ``/static/*`` from ``dasan/server/static``; everything local, no CDN).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from dasan import __version__
from dasan.rag.retrieve import RetrievalConfig
from dasan.server import admin_api, api, crowd_api, documents, field_api, openai_api, press_api, youth_api
from dasan.server import errors as server_errors
from dasan.server.state import ServerState

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Largest request body: JSON calls / uploads (several files in one request).

_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")

TAGS = [
    {"name": "상태", "description": "동작·준비 확인 (키 불필요)"},
    {"name": "인증", "description": "API 키 확인"},
    {"name": "검색", "description": "권한 안의 문서만 검색"},
    {"name": "OpenAI 호환", "description": "공식 openai 클라이언트로 쓸 수 있는 답변·임베딩"},
    {"name": "문서", "description": "업로드, 수집 작업, 문서·청크·원본 보기, 삭제"},
    {"name": "관리", "description": "사용자·부서·API 키 (관리자, 부서 관리자)"},
    {"name": "감사", "description": "변조 탐지 감사 기록 (감사자, 관리자)"},
    {"name": "기록", "description": "사고 기록(표) 질의: 조건·건수·묶음을 구조화 질의로 계산"},
    {"name": "청년 혜택", "description": "공개 청년 정책 판정·추천 (키 불필요, 공개 정책만)"},
    {"name": "밀집위험", "description": "장소별 혼잡 예측(예측구간), 위험 단계 경보, 대시보드 자료"},
]


class BodyLimit:
    """Refuses request bodies over the limit with 413, whether or not Content-Length is sent."""

    def __init__(self, app: Any, json_limit: int | None = None, upload_limit: int | None = None) -> None:
        from dasan import settings

        self.app = app
        self.json_limit = int(settings.get("DASAN_MAX_JSON_BYTES")) if json_limit is None else json_limit
        self.upload_limit = int(settings.get("DASAN_MAX_UPLOAD_BYTES")) if upload_limit is None else upload_limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope.get("path") == "/v1/documents" else self.json_limit
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await self._refuse(send, limit)
            return
        total, over = 0, False

        async def limited() -> dict[str, Any]:
            nonlocal total, over
            if over:
                return {"type": "http.disconnect"}
            msg = await receive()
            if msg["type"] == "http.request":
                total += len(msg.get("body", b""))
                if total > limit:
                    over = True
                    return {"type": "http.disconnect"}
            return msg

        started = False

        async def guarded_send(msg: dict[str, Any]) -> None:
            nonlocal started
            if over:
                if msg["type"] == "http.response.start" and not started:
                    started = True
                    await self._refuse(send, limit)
                return
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        await self.app(scope, limited, guarded_send)

    @staticmethod
    async def _refuse(send: Any, limit: int) -> None:
        body = json.dumps(server_errors.error_body(
            "request_too_large", f"요청이 너무 큽니다 ({limit / 1048576:.0f} MB 초과). 파일을 나누어 보내세요."),
            ensure_ascii=False).encode("utf-8")
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add_headers(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                headers = list(msg.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                for k, v in ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                             (b"x-frame-options", b"DENY"), (b"content-security-policy", _CSP.encode())):
                    if k not in names:
                        headers.append((k, v))
                msg = {**msg, "headers": headers}
            await send(msg)

        await self.app(scope, receive, add_headers)


def create_app(data_dir: Path, *, backends: dict[str, Any] | None = None, ingest_samples: bool = False,
               retrieval: RetrievalConfig | None = None, start: bool = True) -> FastAPI:
    """The app over the store in ``data_dir``.

    ``backends`` maps backend names to :class:`dasan.llm.base.LLMBackend` objects (model
    ``dasan-<name>``); ``ingest_samples`` ingests ``examples/`` when the store is empty;
    ``retrieval`` overrides the retrieval settings (``RetrievalConfig(embedder=None)``:
    lexical only). The first index build runs in the background; ``/readyz`` says when it is
    done (``app.state.dasan.wait_ready()`` waits for it).
    """
    state = ServerState(Path(data_dir), backends=backends, retrieval=retrieval)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        title="다산(Dasan) API", version=__version__, lifespan=lifespan, openapi_tags=TAGS,
        docs_url=None, redoc_url=None,  # their pages load scripts from a CDN: not for air-gapped sites
        description="공공기관 문서를 위한 자체 설치형 AI 비서. `/v1/*` 호출에는 `Authorization: Bearer dsn_…` "
                    "API 키가 필요합니다 (`/v1/login`, `/healthz`, `/readyz` 제외). 오류는 모두 "
                    '`{"error": {"code", "message", "type"}}` 형식이며 message는 한국어입니다.',
    )
    app.state.dasan = state
    server_errors.install(app)
    for router in (api.router, documents.router, openai_api.router, admin_api.router, admin_api.audit_router,
                   press_api.router, field_api.router, youth_api.router,
                   crowd_api.router):
        app.include_router(router)
    _mount_ui(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    from dasan.server.auth import RequestScopeMiddleware

    app.add_middleware(RequestScopeMiddleware)  # outermost: the scope spans the whole request
    if start:
        state.start(ingest_samples=ingest_samples)
    return app


_PLACEHOLDER = """<!doctype html><html lang="ko"><meta charset="utf-8"><title>다산</title>
<body><h1>다산(Dasan)</h1><p>웹 화면 파일(dasan/server/static/index.html)이 설치되어 있지 않습니다.
API 명세는 <a href="/openapi.json">/openapi.json</a>에 있습니다.</p></body></html>"""


def _mount_ui(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def index() -> Any:
        page = STATIC_DIR / "index.html"
        if page.is_file():
            return FileResponse(page, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})
        return HTMLResponse(_PLACEHOLDER)

    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
