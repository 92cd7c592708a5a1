"""Ingestion: discover files, read, parse structure, chunk, store — one file at a time.

Each file is handled independently: a bad file yields one failure entry and the batch goes
on. A file is written to the store in a single transaction, so an interrupted run never
leaves a half-written document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dasan import config
from dasan.errors import DasanError
from dasan.ingest.briefing import item_document, looks_like_briefing, parse_briefing
from dasan.ingest.chunking import chunk_document
from dasan.ingest.readers import read_file
from dasan.ingest.structure import detect_kind
from dasan.security.pii_policy import protect_document
from dasan.store.base import DocumentRecord, Store
from dasan.store.ids import PIPELINE_VERSION, content_hash, document_id
from dasan.types import DEFAULT_LEVEL, Document

DEFAULT_COLLECTION = "default"


@dataclass
class FileResult:
    path: str
    status: str  # ingested | unchanged | empty | failed
    document_id: str | None = None
    format: str | None = None
    kind: str | None = None
    pages: int | None = None
    chunks: int = 0
    error: str | None = None
    empty_pages: list[int] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # earlier versions of the same release, removed


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    def summary(self) -> dict[str, Any]:
        return {
            "files": len(self.results),
            "ingested": self.count("ingested"),
            "unchanged": self.count("unchanged"),
            "chunks": sum(r.chunks for r in self.results if r.status == "ingested"),
            "pages": sum(r.pages or 0 for r in self.results if r.status in ("ingested", "unchanged")),
            "empty": [r.path for r in self.results if r.status == "empty"],
            "failed": [{"path": r.path, "error": r.error} for r in self.results if r.status == "failed"],
            "replaced": sum(len(r.replaced) for r in self.results),
        }


def discover(paths: Iterable[str | Path], recursive: bool = False) -> tuple[list[Path], list[FileResult]]:
    """Expand ``paths`` into files (sorted, hidden files skipped); missing paths become failures."""
    files: list[Path] = []
    missing: list[FileResult] = []
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            files.append(p)
        elif p.is_dir():
            it = p.rglob("*") if recursive else p.iterdir()
            found = sorted(
                f for f in it if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
            files.extend(found)
        else:
            missing.append(FileResult(path=str(p), status="failed", error="파일이나 폴더가 없습니다. 경로를 확인하세요."))
    return files, missing


def ingest_file(store: Store, path: Path, collection: str = DEFAULT_COLLECTION,
                classification: str = DEFAULT_LEVEL, extra_meta: dict[str, Any] | None = None) -> FileResult:
    src = str(path.resolve())
    try:
        size = path.stat().st_size
        if size > config.MAX_FILE_BYTES:
            # read_file raises the user-facing error; check first to avoid hashing huge files.
            read_file(path)
        data = path.read_bytes()
    except DasanError as e:
        return FileResult(path=str(path), status="failed", error=e.message)
    except OSError as e:
        return FileResult(path=str(path), status="failed", error=f"파일을 읽을 수 없습니다 ({e.strerror}).")
    return _ingest_bytes(store, path, src, data, collection, classification, extra_meta,
                         lambda: read_file(path))


def _ingest_bytes(store: Store, path: Path, src: str, data: bytes, collection: str, classification: str,
                  extra_meta: dict[str, Any] | None, read: Callable[[], Document]) -> FileResult:
    digest = content_hash(data)
    doc_id = document_id(collection, digest)
    existing = store.find_by_source(collection, src)
    same = store.get_document(doc_id)
    if same is not None and (same.source_path == src or existing is None or existing.id == doc_id):
        status = "empty" if same.n_chunks == 0 else "unchanged"
        if same.classification != classification:  # same content filed at another level
            store.set_document_level(doc_id, classification)
        return FileResult(path=str(path), status=status, document_id=doc_id, format=same.format,
                          kind=same.kind, pages=same.pages, chunks=same.n_chunks)
    try:
        doc = read()
        doc.kind = doc.kind if doc.kind == "press" and doc.metadata.get("news_item_id") else detect_kind(doc)
        protect_document(doc, store.collection_pii_policy(collection), path=str(path))
        chunks = chunk_document(doc, doc_id, classification=classification)
    except DasanError as e:
        return FileResult(path=str(path), status="failed", error=e.message)
    except Exception as e:  # parser bug: report it against the file, keep the batch going
        return FileResult(path=str(path), status="failed", error=f"구조 분석 중 오류: {type(e).__name__}: {e}")
    metadata = {**doc.metadata, **(extra_meta or {}), **({"empty_pages": doc.empty_pages} if doc.empty_pages else {})}
    key = release_key(doc.kind, metadata, doc.title)
    replaces: list[str] = []
    if key:
        metadata["release_key"] = key
        replaces = [d.id for d in store.find_by_release_key(collection, key) if d.id != doc_id]
    record = DocumentRecord(
        id=doc_id, collection=collection, source_path=src, content_hash=digest,
        pipeline_version=PIPELINE_VERSION, format=doc.format, kind=doc.kind,
        title=doc.title or path.stem, pages=doc.pages, size_bytes=len(data), n_chunks=len(chunks),
        classification=classification, metadata=metadata,
    )
    try:
        store.put_document(record, chunks, replaces)
    except DasanError as e:
        return FileResult(path=str(path), status="failed", error=e.message)
    status = "ingested" if chunks else "empty"
    return FileResult(path=str(path), status=status, document_id=doc_id, format=doc.format, kind=doc.kind,
                      pages=doc.pages, chunks=len(chunks), empty_pages=list(doc.empty_pages),
                      replaced=replaces)


def release_key(kind: str, metadata: dict[str, Any], title: str | None) -> str | None:
    """Identity of a press release across versions: the 정책브리핑 NewsItemId, else the
    ministry's document number, else ministry + headline + 배포 date (a corrected release
    saved under another file name keeps all three)."""
    if kind != "press":
        return None
    if metadata.get("release_key"):
        return str(metadata["release_key"])
    for k in ("document_number", "문서번호"):
        if metadata.get(k):
            return f"문서번호:{metadata.get('ministry') or ''}:{metadata[k]}"
    ministry, day = metadata.get("ministry"), metadata.get("distributed") or metadata.get("release_date")
    if ministry and title and day:
        return f"보도자료:{ministry}:{''.join(ch for ch in title if ch.isalnum())}:{day}"
    return None


def ingest_briefing(store: Store, path: Path, data: bytes, collection: str, classification: str,
                    extra_meta: dict[str, Any] | None) -> list[FileResult]:
    """Every record of a 정책브리핑 JSON file as its own press document (``file#NewsItemId``)."""
    try:
        items = parse_briefing(data, label=f"정책브리핑 JSON({path.name})")
    except DasanError as e:
        return [FileResult(path=str(path), status="failed", error=e.message)]
    src = str(path.resolve())
    out = []
    for item in items:
        virtual = f"{src}#{item.news_item_id}"
        shown = Path(f"{path}#{item.news_item_id}")
        out.append(_ingest_bytes(store, shown, virtual, item.raw, collection, classification, extra_meta,
                                 lambda item=item, virtual=virtual: item_document(item, virtual)))
    return out


def ingest_paths(store: Store, paths: Iterable[str | Path], *, collection: str = DEFAULT_COLLECTION,
                 recursive: bool = False, classification: str = DEFAULT_LEVEL,
                 extra_meta: dict[str, Any] | None = None,
                 on_file: Callable[[FileResult], None] | None = None,
                 on_start: Callable[[int], None] | None = None) -> IngestReport:
    files, missing = discover(paths, recursive)
    report = IngestReport(results=list(missing))
    if on_start:
        on_start(len(files))
    store.ensure_collection(collection)
    for f in files:
        for res in ingest_any(store, f, collection, classification, extra_meta):
            report.results.append(res)
            if on_file:
                on_file(res)
    return report


def ingest_any(store: Store, path: Path, collection: str = DEFAULT_COLLECTION, classification: str = DEFAULT_LEVEL,
               extra_meta: dict[str, Any] | None = None) -> list[FileResult]:
    """A 정책브리핑 JSON file yields one result per release; any other file one result."""
    try:
        if path.stat().st_size <= config.MAX_FILE_BYTES:
            with path.open("rb") as fh:
                head = fh.read(65_536)
            if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[") and b'"NewsItemId"' in head:
                data = path.read_bytes()
                if looks_like_briefing(data):
                    return ingest_briefing(store, path, data, collection, classification, extra_meta)
    except OSError:
        pass  # ingest_file reports it
    return [ingest_file(store, path, collection, classification, extra_meta)]


def merge_results(results: list[FileResult]) -> FileResult:
    """One result for a file that yielded several documents (a 정책브리핑 JSON file): ingested
    when any record was, its first document, all chunks, the failures' reasons joined."""
    if len(results) == 1:
        return results[0]
    ok = [r for r in results if r.status != "failed"]
    failed = [r for r in results if r.status == "failed"]
    status = next((s for s in ("ingested", "unchanged", "empty") if any(r.status == s for r in ok)), "failed")
    first = ok[0] if ok else results[0]
    error = "; ".join(f"{Path(r.path).name}: {r.error}" for r in failed[:5]) or None
    return FileResult(path=first.path.split("#")[0], status=status, document_id=first.document_id,
                      format=first.format, kind=first.kind, chunks=sum(r.chunks for r in ok),
                      error=error if status == "failed" or failed else None,
                      replaced=[x for r in results for x in r.replaced])
