"""Every error the server returns is JSON: ``{"error": {"code", "message", "type"}}``.

``message`` is Korean and names the fix; ``code`` is stable (clients branch on it); ``type``
repeats the code so that OpenAI clients, which read ``error.type``, see it too. The HTTP status
follows the error class (see :func:`status_of`).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dasan.errors import (
    AlreadyExistsError,
    AuditError,
    AuthError,
    ConfigError,
    DasanError,
    DirectoryError,
    EmbeddingError,
    FileTooLargeError,
    LLMError,
    NotEmptyError,
    NotFoundError,
    ParseError,
    PermissionDeniedError,
    PiiBlockedError,
    ReadError,
)

log = logging.getLogger("dasan.server")


class ApiError(DasanError):
    """An error raised by the HTTP layer itself, with its status and stable code."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = headers or {}


def not_ready() -> ApiError:
    return ApiError(503, "not_ready", "검색 색인을 준비하는 중입니다. 잠시 후 다시 시도하세요 (/readyz로 상태 확인).")


#: Most specific class first.
_STATUS: tuple[tuple[type[DasanError], int], ...] = (
    (AuthError, 401),
    (PermissionDeniedError, 403),
    (PiiBlockedError, 403),
    (NotFoundError, 404),
    (AlreadyExistsError, 409),
    (NotEmptyError, 409),
    (DirectoryError, 400),
    (FileTooLargeError, 413),
    (ReadError, 422),
    (ParseError, 422),
    (AuditError, 503),
    (EmbeddingError, 503),
    (LLMError, 503),
    (ConfigError, 500),
)


def status_of(err: DasanError) -> int:
    if isinstance(err, ApiError):
        return err.status
    for cls, status in _STATUS:
        if isinstance(err, cls):
            return status
    return 400


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "type": code}}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def dasan_error_response(err: DasanError) -> JSONResponse:
    status = status_of(err)
    headers = dict(getattr(err, "headers", {}) or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return error_response(status, err.code, err.message, headers)


_FIELD_KO = {
    "missing": "값이 없습니다",
    "string_type": "문자열이어야 합니다",
    "int_type": "정수여야 합니다",
    "int_parsing": "정수여야 합니다",
    "bool_type": "참/거짓이어야 합니다",
    "bool_parsing": "참/거짓이어야 합니다",
    "list_type": "목록이어야 합니다",
    "dict_type": "객체여야 합니다",
    "model_type": "객체여야 합니다",
    "json_invalid": "JSON 형식이 잘못되었습니다",
    "greater_than_equal": "값이 너무 작습니다",
    "less_than_equal": "값이 너무 큽니다",
    "string_too_short": "너무 짧습니다",
    "string_too_long": "너무 깁니다",
    "too_long": "항목이 너무 많습니다",
    "too_short": "항목이 너무 적습니다",
    "literal_error": "허용되지 않는 값입니다",
    "enum": "허용되지 않는 값입니다",
    "extra_forbidden": "알 수 없는 항목입니다",
}


def validation_message(errors: list[dict[str, Any]]) -> str:
    parts = []
    for e in errors[:5]:
        loc_parts = list(e.get("loc", ()))
        if loc_parts and loc_parts[0] in ("body", "query", "path", "header", "cookie"):
            loc_parts = loc_parts[1:]
        loc = ".".join(str(x) for x in loc_parts)
        what = _FIELD_KO.get(str(e.get("type", "")), "값이 올바르지 않습니다")
        limit = (e.get("ctx") or {}).get("ge") or (e.get("ctx") or {}).get("le")
        hint = f" (한도 {limit})" if limit is not None else ""
        parts.append(f"{loc or '요청 본문'}: {what}{hint}")
    more = f" 외 {len(errors) - 5}건" if len(errors) > 5 else ""
    return "요청 형식이 올바르지 않습니다: " + "; ".join(parts) + more + ". API 명세(/openapi.json)의 요청 형식을 확인하세요."


_HTTP_KO = {
    404: ("not_found", "요청한 주소를 찾을 수 없습니다. 주소를 확인하세요 (API 명세: /openapi.json)."),
    405: ("method_not_allowed", "이 주소에서 허용되지 않는 요청 방식입니다. API 명세(/openapi.json)를 확인하세요."),
    413: ("request_too_large", "요청이 너무 큽니다. 파일을 나누어 보내세요."),
    415: ("unsupported_media_type", "지원하지 않는 요청 형식입니다. JSON 또는 multipart/form-data로 보내세요."),
}


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into the JSON error shape."""

    @app.exception_handler(DasanError)
    async def _dasan(_request: Request, exc: DasanError) -> JSONResponse:
        return dasan_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, "invalid_request", validation_message(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _HTTP_KO.get(exc.status_code, ("http_error", f"요청을 처리할 수 없습니다 (HTTP {exc.status_code})."))
        return error_response(exc.status_code, code, message, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal_error",
                              "서버 내부 오류가 발생했습니다. 잠시 후 다시 시도하고, 계속되면 관리자에게 서버 로그 확인을 요청하세요.")


__all__ = ["ApiError", "dasan_error_response", "error_body", "error_response", "install", "not_ready", "status_of"]
