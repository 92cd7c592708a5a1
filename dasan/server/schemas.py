"""Request and response bodies (they also make the OpenAPI schema at ``/openapi.json``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DATE = r"^\d{4}-\d{2}-\d{2}$"
Kind = Literal["law", "press", "records", "generic"]


class Open(BaseModel):
    """A body that may carry fields beyond those listed (kept as they are)."""

    model_config = ConfigDict(extra="allow")


# -- errors, health ------------------------------------------------------------------------
class ErrorDetail(BaseModel):
    code: str = Field(examples=["permission_denied"])
    message: str = Field(examples=["이 API 키(dsn_1a2b3c4d)에는 '문서 등록' 권한이 없습니다."])
    type: str = Field(examples=["permission_denied"])


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Ready(BaseModel):
    status: str = Field(examples=["ready"])
    documents: int | None = None
    chunks: int | None = None
    error: str | None = None
    index_error: str | None = None  # the latest index refresh failed: the previous index serves
    database: dict[str, Any] | None = None  # backend, schema version; PostgreSQL: server, pool use


# -- login ---------------------------------------------------------------------------------
class LoginRequest(BaseModel):
    key: str = Field(max_length=256, examples=["dsn_1a2b3c4d_…"])


class LoginResponse(BaseModel):
    user: str
    clearance: str
    roles: list[str]
    departments: list[str]
    scopes: list[str] | None


# -- search --------------------------------------------------------------------------------
class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=2000, examples=["선로 작업 중 열차가 접근하면 어떻게 대피하나요?"])
    k: int = Field(5, ge=1, le=50)
    collection: str | None = Field(None, max_length=128)
    kinds: list[Kind] | None = None
    date_from: str | None = Field(None, pattern=DATE, examples=["2026-01-01"])
    date_to: str | None = Field(None, pattern=DATE)
    in_force: bool = False
    profile: Literal["default", "field"] = Field(
        "default", description="field: 검색 결과와 함께 현장 답변의 세 부분(field)을 돌려줌")


class SearchHit(BaseModel):
    rank: int
    score: float
    citation: str
    document_id: str
    chunk_id: str
    page: int | None
    text: str
    snippet: str = Field(description="검색어가 【】로 감싸진 본문 일부")
    collection: str
    level: str


class SearchResponse(BaseModel):
    results: list[SearchHit]
    field: dict[str, Any] | None = Field(None, description="profile=field일 때: 지금 할 일 · 법적 의무 · 과거 사례")


# -- collections, documents, chunks, jobs ----------------------------------------------------
class CollectionInfo(BaseModel):
    name: str
    level: str
    pii_policy: str
    documents: int
    chunks: int
    departments: list[str]


class CollectionsResponse(BaseModel):
    collections: list[CollectionInfo]


class DocumentInfo(BaseModel):
    id: str
    collection: str
    title: str | None
    format: str
    kind: str
    level: str
    pages: int | None
    chunks: int
    ingested_at: str
    departments: list[str]
    original: bool = Field(False, description="원본 파일이 보관되어 있어 /original로 내려받을 수 있는지")


class DocumentsResponse(BaseModel):
    documents: list[DocumentInfo]


class ChunkSummary(BaseModel):
    id: str
    ordinal: int
    citation: str
    page: int | None
    article: str | None
    context: str
    text: str


class PressContact(BaseModel):
    role: str | None = None
    department: str | None = None
    position: str | None = None
    name: str | None = None
    phones: list[str] = []


class PressInfo(BaseModel):
    ministry: str | None = None
    bureau: str | None = None
    division: str | None = None
    distributed: str | None = None
    embargo: str | None = None
    embargo_text: str | None = None
    embargo_hold: bool = Field(False, description="보도시점을 읽지 못해 관리자가 정할 때까지 '민감'으로 묶여 있음")
    embargo_status: str | None = None
    contacts: list[PressContact] = []


class DocumentDetail(DocumentInfo):
    chunks: list[ChunkSummary]  # type: ignore[assignment]
    press: PressInfo | None = None


class EmbargoRequest(BaseModel):
    embargo: str | None = Field(None, max_length=64,
                                description="ISO 날짜·시각(예: 2026-03-02T09:00+09:00), 해제는 null 또는 'none'")


class EmbargoChanged(BaseModel):
    id: str
    embargo: str | None
    embargo_status: str | None


class ChunkDetail(BaseModel):
    chunk_id: str
    document_id: str
    citation: str
    title: str | None
    article: str | None
    page: int | None
    context: str
    text: str


class FileStatus(BaseModel):
    name: str
    status: Literal["queued", "ingested", "unchanged", "empty", "failed"]
    document_id: str | None = None
    chunks: int | None = None
    error: str | None = None
    code: str | None = Field(None, description="실패 코드 (예: file_too_large)")


class UploadResponse(BaseModel):
    job: str
    files: list[FileStatus]


class JobResponse(BaseModel):
    job: str
    done: bool
    collection: str
    level: str
    files: list[FileStatus]


class Removed(BaseModel):
    removed: str


# -- audit, administration ------------------------------------------------------------------
class AuditEntries(BaseModel):
    entries: list[dict[str, Any]]


class VerifyProblem(BaseModel):
    seq: int
    kind: str
    kind_ko: str
    message: str


class VerifyResponse(BaseModel):
    ok: bool
    checked: int
    head: dict[str, Any] | None
    omitted: int
    problems: list[VerifyProblem]


class UserCreate(BaseModel):
    name: str = Field(max_length=256)
    clearance: str = Field("공개", max_length=20, examples=["공개", "민감", "기밀"])
    role: str = Field("user", max_length=20, examples=["user", "manager", "auditor", "admin"])
    departments: list[str] = Field(default_factory=list, max_length=64)


class UserInfo(BaseModel):
    name: str
    clearance: str
    role: str
    departments: list[str]
    created_at: str
    updated_at: str


class UsersResponse(BaseModel):
    users: list[UserInfo]


class DepartmentCreate(BaseModel):
    name: str = Field(max_length=256)
    parent: str | None = Field(None, max_length=256)


class DepartmentInfo(BaseModel):
    name: str
    parent: str | None
    created_at: str


class DepartmentsResponse(BaseModel):
    departments: list[dict[str, Any]] = Field(description="부서 트리: {name, members, collections, children}")


class KeyCreate(BaseModel):
    user: str = Field(max_length=256)
    scopes: list[str] | None = Field(None, max_length=8, examples=[["search", "ask", "docs"]])
    expires_days: int | None = Field(90, ge=1, le=3650, description="유효 기간(일); null이면 만료 없음 (관리자만)")


class KeyInfo(BaseModel):
    id: int
    user: str
    prefix: str
    scopes: list[str]
    status: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None


class NewKeyResponse(KeyInfo):
    key: str = Field(description="비밀 키 (이번 한 번만 보여 줍니다)")


class KeysResponse(BaseModel):
    keys: list[KeyInfo]


# -- OpenAI-compatible ---------------------------------------------------------------------
class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "dasan"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ChatMessage(Open):
    role: str = Field(max_length=32)
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(Open):
    model: str = Field("dasan", max_length=128)
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    collection: str | None = Field(None, max_length=128, description="이 컬렉션의 문서에서만 근거 찾기 (Dasan 확장)")
    profile: Literal["default", "field"] = Field(
        "default", description="field: 현장 답변 (지금 할 일 · 법적 의무 · 과거 사례, Dasan 확장)")


class CitationOut(Open):
    marker: int
    citation: str
    document_id: str
    chunk_id: str
    quote: str
    title: str | None = None
    article: str | None = None
    page: int | None = None


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: str = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[CitationOut] = Field(description="답변의 [n] 표시가 가리키는 출처 (Dasan 확장)")
    dasan: dict[str, Any] = Field(description="refused, backend, routing, timings_ms, notes, closest (Dasan 확장)")


class EmbeddingRequest(Open):
    input: str | list[str]
    model: str = Field("e5", max_length=128)
    encoding_format: Literal["float", "base64"] = "float"


class EmbeddingItem(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingItem]
    model: str
    usage: EmbeddingUsage


class PressDraftRequest(BaseModel):
    brief: str = Field(..., description="보도자료 요지 (dasan press draft와 같은 YAML, 또는 JSON)")
    background: bool = Field(True, description="볼 수 있는 과거 보도자료에서 '추진 경과'를 찾아 인용")
    backend: str = Field("extractive", max_length=64, description="리드 문단을 쓸 모델 (기본: 모델 없이 요지만으로)")
    collection: str | None = Field(None, max_length=512)


class PressDraftResponse(BaseModel):
    draft: dict[str, Any]
    preview_html: str
    style: list[dict[str, Any]]
    hwpx_base64: str
    filename: str


# -- records (accident registers) ---------------------------------------------------------------
class RecordsQueryRequest(BaseModel):
    question: str = Field(..., min_length=1, max_length=2000, description="기록에 대한 질문 (예: 작년 2호선 출입문 끼임 몇 건?)")
    collection: str | None = Field(None, max_length=512, description="이 컬렉션의 기록만")


class RecordsSimilarRequest(BaseModel):
    description: str = Field(..., min_length=1, max_length=2000, description="지금 상황 설명")
    k: int = Field(5, ge=1, le=50)
    collection: str | None = Field(None, max_length=512)


class FieldRequest(BaseModel):
    question: str = Field(..., min_length=1, max_length=2000, examples=["열차 안에서 연기가 나요, 뭐부터 해요?"])
    collection: str | None = Field(None, max_length=512, description="이 컬렉션의 기록(표)만")


class FieldReportRequest(BaseModel):
    description: str = Field(..., min_length=1, max_length=2000,
                             examples=["오늘 오후 2시 20분 2호선 도담역 승강장 스크린도어 끼임, 승객 1명 손가락 부상"])
    collection: str | None = Field(None, max_length=512, description="이 컬렉션의 사고대장 양식으로")
