"""The store contract every backend implements (SQLite now, PostgreSQL later)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from dasan.types import Chunk


@dataclass
class DocumentRecord:
    id: str
    collection: str
    source_path: str
    content_hash: str
    pipeline_version: int
    format: str
    kind: str
    title: str | None
    pages: int | None
    size_bytes: int
    n_chunks: int
    classification: str = "공개"
    metadata: dict[str, Any] = field(default_factory=dict)
    ingested_at: str = ""


@dataclass
class JobRecord:
    """An upload job as the store keeps it (its files' states as plain dicts)."""

    id: str
    owner: str
    collection: str
    level: str
    files: list[dict[str, Any]]
    created: float
    updated: float = 0.0
    done: bool = False
    attempts: int = 0


class Store(Protocol):
    def find_by_source(self, collection: str, source_path: str) -> DocumentRecord | None: ...

    def get_document(self, document_id: str) -> DocumentRecord | None: ...

    def resolve_document_id(self, prefix: str) -> list[str]:
        """Ids of the documents whose id starts with ``prefix`` (what a user types)."""

    def put_document(self, record: DocumentRecord, chunks: list[Chunk], replaces: Sequence[str] = ()) -> None:
        """Insert ``record`` with ``chunks`` atomically, replacing any document stored at the
        same (collection, source_path) and its chunks in the same transaction."""

    def remove_document(self, document_id: str) -> bool: ...

    def find_by_release_key(self, collection: str, key: str) -> list[DocumentRecord]: ...

    def list_documents(self, collection: str | None = None) -> list[DocumentRecord]: ...

    def chunks_of(self, document_id: str) -> list[Chunk]: ...

    def iter_chunks(self, collection: str | None = None) -> Iterator[Chunk]: ...

    def get_chunks(self, chunk_ids: list[str]) -> list[Chunk]: ...

    def chunk_texts(self, chunk_ids: list[str]) -> dict[str, str]: ...

    def index_rows(self, with_text: bool = True) -> list[Any]: ...

    def find_chunks_by_citation(self, prefix: str) -> list[Chunk]: ...

    def collections(self) -> list[dict[str, Any]]: ...

    def ensure_collection(self, name: str, level: str = "공개") -> None: ...

    def set_collection_level(self, name: str, level: str) -> bool: ...

    def set_document_level(self, document_id: str, level: str) -> bool: ...

    def set_document_embargo(self, document_id: str, embargo: str | None, *, by: str) -> bool: ...

    def collection_level(self, name: str) -> str | None: ...

    def collection_pii_policy(self, name: str) -> str: ...

    def set_collection_pii_policy(self, name: str, policy: str) -> bool: ...

    def directory(self) -> Any:
        """The principals directory (users, departments, keys) kept in this store:
        :class:`dasan.security.principals.Directory`."""

    def save_job(self, job: JobRecord) -> None:
        """Insert or replace an upload job (does not change :meth:`generation`: no content changed)."""

    def get_job(self, job_id: str) -> JobRecord | None: ...

    def open_jobs(self) -> list[JobRecord]:
        """Jobs not done, oldest first (what a restarted server takes up again)."""

    def prune_jobs(self, keep: int) -> int:
        """Delete the oldest finished jobs beyond the newest ``keep``; returns how many."""

    def schema_version(self) -> int: ...

    def generation(self) -> int:
        """A counter that increases with every committed write."""

    def close(self) -> None: ...
