"""Uploads: originals kept content-addressed, ingestion by one background worker thread.

An upload is saved first (``<data_dir>/originals/<sha256>``; the client's file name is only
ever used, sanitised, as the last component of a hard link under ``uploads/<sha256>/``, which
keeps the extension the format detector looks at) and queued as a job. One worker thread
ingests jobs in order through a store connection of its own; queries keep running meanwhile.
Before a document is committed its passages are tokenised and embedded into the token and
embedding caches, so the index build that follows (published as one new index snapshot) neither
tokenises nor embeds anything.

Originals are kept only where showing them does not undo a personal-data policy: a file that
failed, or that only lives in ``mask_ingest`` collections (which promise to store masked text
only), is removed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import re
import secrets
import threading
import time
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from dasan import config
from dasan.errors import NotFoundError
from dasan.rag.retrieve import Retriever
from dasan.store import open_store
from dasan.store.base import DocumentRecord, JobRecord, Store
from dasan.types import Chunk, Principal

if TYPE_CHECKING:
    from dasan.server.auth import AuditTrail
    from dasan.server.state import ServerState

log = logging.getLogger("dasan.server")

MAX_JOBS_KEPT = 500
MAX_QUEUED = 256
MAX_ATTEMPTS = 3  # starts of one job (a job interrupted by restarts is given up after this many)
RECOVERY_LEASE_S = 900.0  # a job taken up after a restart is this process's for this long (renewed by saves)


def jobs_mode(store: Any) -> str:
    """``DASAN_JOBS``: "inprocess" (the server runs its uploads) or "worker" (servers enqueue,
    ``dasan worker`` processes run them: needs the PostgreSQL store)."""
    from dasan import settings
    from dasan.errors import ConfigError

    mode = (settings.get("DASAN_JOBS") or "inprocess").strip().lower()
    if mode not in ("inprocess", "worker"):
        raise ConfigError(f"DASAN_JOBS는 inprocess 또는 worker여야 합니다 (지금: {mode[:40]}).")
    if mode == "worker" and not hasattr(store, "claim_job"):
        raise ConfigError("DASAN_JOBS=worker에는 PostgreSQL 저장소가 필요합니다. DASAN_DATABASE_URL=postgresql://…을 "
                          "설정하거나 DASAN_JOBS를 비우세요 (서버가 직접 수집).")
    return mode


_SHA_RE = re.compile(r"[0-9a-f]{64}")
_BAD_NAME_CHARS = re.compile(r'[\\/:*?"<>|\x00]')


def safe_name(raw: str | None, limit: int = 120) -> str:
    """A file name safe to use as one path component: last component only, NFC, no control or
    format characters, no separators or reserved characters, no leading dots, extension kept."""
    name = unicodedata.normalize("NFC", str(raw or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
    name = _BAD_NAME_CHARS.sub("_", name).strip().lstrip(".").strip()
    if not name:
        return "upload"
    if len(name) > limit:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: limit - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:limit]
    return name


@dataclass
class FileJob:
    name: str
    sha256: str | None = None
    size: int = 0
    status: str = "queued"
    document_id: str | None = None
    chunks: int | None = None
    error: str | None = None
    code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "status": self.status}
        for k in ("document_id", "chunks", "error", "code"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out


@dataclass
class Job:
    id: str
    owner: str
    collection: str
    level: str
    files: list[FileJob]
    trail: AuditTrail | None = None
    done: bool = False
    created: float = field(default_factory=time.time)

    attempts: int = 1
    #: the trail as saved with the job (a job taken up after a restart: its trail is resumed)
    trail_saved: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"job": self.id, "done": self.done, "collection": self.collection, "level": self.level,
                "files": [f.as_dict() for f in self.files]}

    def record(self, running: int | None = None) -> JobRecord:
        """The job as the store keeps it; ``running``: index of the file being ingested now."""
        files = [asdict(f) for f in self.files]
        if running is not None:
            files[running]["status"] = "running"
        trail = self.trail.as_dict() if self.trail is not None else self.trail_saved
        return JobRecord(self.id, self.owner, self.collection, self.level, files, self.created, done=self.done,
                         attempts=self.attempts, trail=trail)

    @classmethod
    def from_record(cls, rec: JobRecord) -> Job:
        names = {f.name for f in fields(FileJob)}
        files = [FileJob(**{k: v for k, v in f.items() if k in names}) for f in rec.files]
        return cls(rec.id, rec.owner, rec.collection, rec.level, files, done=rec.done, created=rec.created,
                   attempts=rec.attempts, trail_saved=rec.trail)

    def finish_trail(self, log: Any, **facts: Any) -> None:
        """Write the upload's outcome entry (the trail of this process, or the one saved with
        the job when another process or a restart completes it); nothing without a trail.
        Written once: a job completed again after a crash between this entry and the job's
        saved state (a restart, another worker) finds the entry and writes no second one."""
        from dasan.server.auth import AuditTrail

        trail = self.trail or (AuditTrail.resume(log, self.trail_saved) if self.trail_saved else None)
        if trail is not None:
            trail.finish(once=True, **facts)


class Originals:
    """Content-addressed originals under ``<data_dir>/originals`` and their named links."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "originals"
        self.links = data_dir / "uploads"
        self._lock = threading.Lock()
        self._pins: Counter[str] = Counter()  # originals saved for jobs not finished yet: never discarded

    def path(self, sha: str) -> Path | None:
        if not _SHA_RE.fullmatch(sha or ""):
            return None
        p = self.root / sha
        return p if p.is_file() else None

    def save(self, src: BinaryIO, name: str, limit: int | None = None) -> FileJob:
        """Copy ``src`` into the store; a file over ``limit`` (default ``config.MAX_FILE_BYTES``)
        is refused (status failed, code ``file_too_large``)."""
        limit = config.MAX_FILE_BYTES if limit is None else limit
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".upload-{secrets.token_hex(8)}"
        h, size = hashlib.sha256(), 0
        try:
            with open(tmp, "wb") as out:
                while block := src.read(1 << 20):
                    size += len(block)
                    if size > limit:
                        return FileJob(name=name, size=size, status="failed", code="file_too_large", error=(
                            f"파일이 너무 큽니다 ({limit / 1048576:.0f} MB 초과). "
                            "파일을 나누거나 관리자에게 DASAN_MAX_FILE_BYTES 한도 조정을 요청하세요."))
                    h.update(block)
                    out.write(block)
            if size == 0:
                return FileJob(name=name, status="failed", code="read_error", error="빈 파일입니다 (0바이트).")
            sha = h.hexdigest()
            final = self.root / sha
            with self._lock:
                if final.exists():
                    tmp.unlink()
                else:
                    os.replace(tmp, final)
                self._pins[sha] += 1  # until unpin(): a concurrent discard must not remove it
            return FileJob(name=name, sha256=sha, size=size)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def link(self, sha: str, name: str) -> Path:
        """``uploads/<sha>/<name>``, a hard link to the original (a copy where links fail)."""
        folder = self.links / sha
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        if not target.exists():
            try:
                os.link(self.root / sha, target)
            except OSError:
                import shutil

                shutil.copyfile(self.root / sha, target)
        return target

    def pin(self, shas: list[str]) -> None:
        """Keep these originals until :meth:`unpin` (a job taken up again after a restart)."""
        with self._lock:
            for sha in shas:
                self._pins[sha] += 1

    def unpin(self, shas: list[str]) -> None:
        with self._lock:
            for sha in shas:
                self._pins[sha] -= 1
                if self._pins[sha] <= 0:
                    del self._pins[sha]

    def discard(self, sha: str) -> None:
        if not _SHA_RE.fullmatch(sha or ""):
            return
        with self._lock:
            if self._pins.get(sha):
                return  # another upload of the same bytes is still queued
            with contextlib.suppress(FileNotFoundError):
                (self.root / sha).unlink()
            folder = self.links / sha
            if folder.is_dir():
                for f in folder.iterdir():
                    with contextlib.suppress(OSError):
                        f.unlink()
                with contextlib.suppress(OSError):
                    folder.rmdir()

    def keep_or_discard(self, store: Store, shas: set[str]) -> None:
        """Keep an original only where some stored document of it may show it (see module doc)."""
        if not shas:
            return
        keep: set[str] = set()
        # the application's own view: inside a request, the principal's scope would hide the
        # documents that user cannot see, and their originals would be removed
        with store.system_scope():
            for d in store.list_documents():
                if d.content_hash in shas and store.collection_pii_policy(d.collection) != "mask_ingest":
                    keep.add(d.content_hash)
        for sha in shas - keep:
            self.discard(sha)


class _PrewarmingStore:
    """The worker's store: tokenises and embeds a document's passages (into the caches) before committing it."""

    def __init__(self, store: Store, retriever: Any) -> None:
        self._store = store
        self._retriever = retriever

    def put_document(self, record: DocumentRecord, chunks: list[Chunk], replaces: Sequence[str] = ()) -> None:
        try:
            self._retriever.prewarm(
                [(c.id, Retriever.index_text(c)) for c in chunks])
        except Exception:  # the refresh will do it instead; never fail the ingest for this
            log.warning("prewarming tokens/embeddings failed", exc_info=True)
        self._store.put_document(record, chunks, replaces)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class JobQueue:
    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.originals = Originals(state.data_dir)
        self._queue: queue.Queue[Job | None] = queue.Queue(MAX_QUEUED)
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._store: Store | None = None
        self.remote = jobs_mode(state.store) == "worker"

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self.remote:
            return  # `dasan worker` processes run the jobs (and take up those left open)
        if self._thread is None:
            recovered = self._recover()
            self._thread = threading.Thread(target=self._run, name="dasan-ingest", daemon=True)
            self._thread.start()
            for job in recovered:
                self._queue.put(job)

    def _recover(self) -> list[Job]:
        """Jobs that were queued or running when the server stopped: taken up again (a file
        whose ingest was interrupted is ingested afresh — a document is committed in one
        transaction, so nothing of it was half-written); after MAX_ATTEMPTS starts, or when the
        original is gone, the remaining files are marked failed."""
        out: list[Job] = []
        try:
            # claimed for this process with attempts counted (replicas restarting together
            # never both take a dead node's job)
            records = self.state.store.recover_jobs(RECOVERY_LEASE_S)
        except Exception:
            log.exception("could not read unfinished upload jobs")
            return out
        for rec in records:
            job = Job.from_record(rec)
            for f in job.files:
                if f.status == "running":
                    f.status = "queued"
                if f.status == "queued" and (f.sha256 is None or self.originals.path(f.sha256) is None):
                    f.status, f.code, f.error = "failed", "original_missing", "원본 파일이 없어 다시 수집할 수 없습니다. 다시 올리세요."
                elif f.status == "queued" and job.attempts > MAX_ATTEMPTS:
                    f.status, f.code, f.error = "failed", "retry_exhausted", (
                        f"서버가 수집 도중 {MAX_ATTEMPTS}번 멈춰 이 파일을 건너뛰었습니다. 파일을 확인하고 다시 올리세요.")
            queued = [f for f in job.files if f.status == "queued"]
            with self._lock:
                self._jobs[job.id] = job
            log.warning("upload job %s taken up again after a restart (%d file(s) to ingest, start %d)",
                        job.id, len(queued), job.attempts)
            if not queued:
                # its outcome entry (written once: the crash may have come just after it) and done state
                self._finish(job)
                continue
            self.originals.pin([f.sha256 for f in queued if f.sha256])
            self._persist(job, self.state.store)
            out.append(job)
        return out

    def _persist(self, job: Job, store: Store | None = None, running: int | None = None) -> None:
        try:
            (store or self.state.store).save_job(job.record(running))
        except Exception:  # the job goes on; only its survival across a restart is lost
            log.exception("could not persist upload job %s", job.id)

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            with contextlib.suppress(queue.Full):
                self._queue.put(None, timeout=1)
            self._thread.join(timeout)
            self._thread = None
        if self._store is not None:
            with contextlib.suppress(Exception):
                self._store.close()
            self._store = None

    # -- jobs -------------------------------------------------------------------------------
    def new_id(self) -> str:
        return secrets.token_hex(8)

    def submit(self, job: Job) -> None:
        from dasan.server.errors import ApiError

        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > MAX_JOBS_KEPT:
                oldest = next(iter(self._jobs))
                if not self._jobs[oldest].done:
                    break
                self._jobs.popitem(last=False)
        if all(f.status != "queued" for f in job.files):
            self._finish(job)
            return
        if self.remote:
            self._enqueue(job)
            return
        self._persist(job)
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            for f in job.files:
                if f.status == "queued":
                    f.status, f.code, f.error = "failed", "busy", "수집 대기열이 가득 찼습니다. 잠시 후 다시 올리세요."
            self.abandon(job.files)
            self._finish(job)
            raise ApiError(503, "busy", "수집 대기열이 가득 찼습니다. 잠시 후 다시 올리세요.") from None

    def _enqueue(self, job: Job) -> None:
        """Leave the job, unleased, for a ``dasan worker`` (DASAN_JOBS=worker); the outcome
        entry of its audit trail is the worker's to write."""
        from dasan.server.errors import ApiError

        shas = [f.sha256 for f in job.files if f.sha256]
        try:
            self.state.store.save_job(job.record(), leased=False)  # type: ignore[call-arg]
        except Exception:
            log.exception("could not enqueue upload job %s", job.id)
            for f in job.files:
                if f.status == "queued":
                    f.status, f.code, f.error = "failed", "busy", "수집 작업을 저장하지 못했습니다. 잠시 후 다시 올리세요."
            self.abandon(job.files)
            self._finish(job)
            raise ApiError(503, "busy", "수집 작업을 저장하지 못했습니다. 잠시 후 다시 올리세요.") from None
        self.originals.unpin(shas)  # the pins of this process cannot protect them in a worker
        with self._lock:
            self._jobs.pop(job.id, None)  # its state is the store's: read back by get()

    def abandon(self, files: list[FileJob]) -> None:
        """Release originals saved for files that will not be ingested (kept only if still used)."""
        shas = [f.sha256 for f in files if f.sha256]
        self.originals.unpin(shas)
        self.originals.keep_or_discard(self.state.store, set(shas))

    def get(self, job_id: str, principal: Principal) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            rec = self.state.store.get_job(job_id)  # a job from before a restart
            job = Job.from_record(rec) if rec is not None else None
        if job is None or (job.owner != principal.name and "admin" not in principal.roles):
            raise NotFoundError(f"작업을 찾을 수 없습니다: {job_id[:32]} (작업은 올린 사용자만 볼 수 있고, 오래된 작업은 지워집니다)")
        return job

    def pending(self) -> int:
        return self._queue.qsize()

    # -- the worker -------------------------------------------------------------------------
    def _worker_store(self) -> Any:
        if self._store is None:
            self._store = open_store(self.state.data_dir)
        return _PrewarmingStore(self._store, self.state.retriever)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self._process(job)
            except Exception as e:  # never let the worker die
                log.exception("ingest job %s failed", job.id)
                with contextlib.suppress(Exception):
                    self.originals.unpin([f.sha256 for f in job.files if f.sha256 and f.status == "queued"])
                for f in job.files:
                    if f.status == "queued":
                        f.status, f.code, f.error = "failed", "internal_error", f"수집 중 오류: {type(e).__name__}"
            finally:
                self._finish(job)

    def _process(self, job: Job) -> None:
        from dasan.ingest.pipeline import ingest_any, merge_results

        store = self._worker_store()
        for i, f in enumerate(job.files):
            if f.status != "queued" or f.sha256 is None:
                continue
            self._persist(job, self._store, running=i)
            try:
                # a 정책브리핑 JSON file holds several releases: one result for the file
                res = merge_results(ingest_any(store, self.originals.link(f.sha256, f.name), job.collection,
                                               job.level))
            except Exception as e:
                log.exception("ingesting %s failed", f.name)
                f.status, f.code, f.error = "failed", "internal_error", f"수집 중 오류: {type(e).__name__}"
                continue
            f.status, f.document_id = res.status, res.document_id
            f.chunks = res.chunks if res.status != "failed" else None
            if res.status == "failed":
                f.error, f.code = res.error, "unreadable_file"
            self._persist(job, self._store)
        shas = [f.sha256 for f in job.files if f.sha256]
        self.originals.unpin(shas)
        self.originals.keep_or_discard(self._store or store, set(shas))
        self.state.retriever.update()

    def _finish(self, job: Job) -> None:
        if job.done:
            return
        try:
            job.finish_trail(
                self.state.audit,
                documents=[{"id": f.document_id, "status": f.status} for f in job.files if f.document_id],
                failed=sum(1 for f in job.files if f.status == "failed"))
        except Exception:  # the upload happened; the failure to log its outcome is itself reported
            log.exception("audit entry for job %s could not be written", job.id)
            for f in job.files:
                f.error = f.error or "감사 기록을 남기지 못했습니다. 관리자에게 알리세요."
        job.done = True
        on_worker = threading.current_thread() is self._thread and self._store is not None
        self._persist(job, self._store if on_worker else None)
        with contextlib.suppress(Exception):
            (self._store if on_worker else self.state.store).prune_jobs(MAX_JOBS_KEPT)
