"""What one server process shares between requests: store, search index, answerer, audit log.

Concurrency model
-----------------
Requests run on a thread pool. The :class:`GuardedRetriever` is shared. Bringing the index in
step with the store builds a complete new state (both legs, every per-row column) off the request
path and publishes it as one new :class:`~dasan.rag.retrieve.Snapshot` — a single reference
assignment, no lock. A search or an answer pins the snapshot published when it starts and reads
only that one to its end (article expansion and level checks included), so it never sees an index
half rebuilt and never judges one row's level with another row's; it never waits for a build
(but the very first). The ingestion worker builds after each job (passage embeddings are cached
by text before the document commits). Inside a pinned search the refresh that
:class:`Retriever` calls itself is a no-op.

Each request thread reads the SQLite store on a connection of its own (writes take the store's
lock); the ingestion worker writes through a connection of its own, so its transactions are
invisible to readers until they commit (WAL).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import Any

from dasan.rag.answer import Answerer
from dasan.rag.retrieve import RetrievalConfig, Retriever
from dasan.security.audit import AuditLog
from dasan.security.principals import Directory
from dasan.server.jobs import JobQueue
from dasan.store import open_store
from dasan.store.base import Store
from dasan.store.postgres.audit import open_audit

log = logging.getLogger("dasan.server")


class GuardedRetriever(Retriever):
    """A :class:`Retriever` that many threads may search while another refreshes it."""

    def __init__(self, store: Store, data_dir: Path, config: RetrievalConfig | None = None) -> None:
        super().__init__(store, data_dir, config)
        self._build_lock = threading.Lock()  # one build at a time

    def refresh(self, progress: Any = None) -> None:
        if self.is_pinned():
            return  # called from inside a search: the index stays pinned until the search ends
        self.update(progress)

    def update(self, progress: Any = None, wait: bool = True) -> bool:
        """Bring the index in step when the store changed; returns whether it did. The new state
        is built off the request path (searches go on with the old one meanwhile) and published
        as one new snapshot. ``wait=False``: if another thread is building, do not wait for it."""
        if not self.refresh_due():
            return False
        if not self._build_lock.acquire(blocking=wait):
            return False
        try:
            if not self.refresh_due():
                return False
            built = self.try_build(progress)
            if built is None:
                return False
            self.publish(built)
            return True
        finally:
            self._build_lock.release()

    def _before_pin(self) -> None:
        """A search never waits for a build (but the first): when the store changed, a build
        starts in the background and the search pins the published snapshot."""
        if not len(self._ids):
            self.update()  # the first build is waited for
        elif self.refresh_due() and not self._build_lock.locked():
            threading.Thread(target=self.update, kwargs={"wait": False}, name="index-refresh", daemon=True).start()

    def _pin_hidden(self, snap: Any) -> Any:
        """Access never waits for the build (nor for a failed one's retry): the rows of
        documents changed since ``snap`` was built (a re-level, an embargo, a removal) are
        hidden from the pinned search until a new snapshot is published, as the store's change
        feed names them (cheap: only its new entries are read)."""
        return self.pending_rows() if self.store.generation() != snap.gen else None

    def try_build(self, progress: Any = None) -> Any:
        # the index serves everybody: built from every row even when a request triggers it
        with self.store.system_scope():
            return super().try_build(progress)

    def prewarm(self, chunks: list[tuple[str, str]], batch: int = 32) -> None:
        """Tokenise and embed ``[(chunk_id, index_text)]`` ahead of a build: the token and
        embedding caches keep them, so the build only looks them up."""
        if not chunks:
            return
        self.lexical.prewarm(chunks)
        dense = self.dense if self.config.embedder else None
        if dense is None:
            return
        texts = [t for _, t in chunks]
        for i in range(0, len(texts), batch):
            dense.embedder.embed_passages(texts[i:i + batch])


class ServerState:
    """Shared objects of one app; built by :func:`dasan.server.app.create_app`."""

    def __init__(self, data_dir: Path, *, backends: dict[str, Any] | None = None,
                 retrieval: RetrievalConfig | None = None, audit: AuditLog | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.store: Store = open_store(self.data_dir)
        self.audit = audit or open_audit(self.data_dir)  # PostgreSQL with DASAN_DATABASE_URL
        self.retriever = GuardedRetriever(self.store, self.data_dir, retrieval)
        self.backends: dict[str, Any] = dict(backends or {})
        self.answerer = Answerer(self.retriever, self.backends)
        self.ready = threading.Event()
        self.startup_error: str | None = None
        self.started_at = time.time()
        self.jobs = JobQueue(self)

    def directory(self) -> Directory:
        return Directory.from_store(self.store)

    def database_status(self) -> dict[str, Any]:
        """What /readyz says about the database: backend, reachability, schema version (and,
        for PostgreSQL, the pool). Raises when the database cannot be reached."""
        ping = getattr(self.store, "ping", None)
        if ping is not None:
            return ping()
        return {"backend": "sqlite", "schema_version": self.store.schema_version()}

    @property
    def originals_dir(self) -> Path:
        return self.data_dir / "originals"

    def start(self, *, ingest_samples: bool = False) -> None:
        """Build the index (and ingest the samples into an empty store) in the background."""
        threading.Thread(target=self._startup, args=(ingest_samples,), name="dasan-startup", daemon=True).start()

    def _startup(self, ingest_samples: bool) -> None:
        try:
            if ingest_samples and not self.store.list_documents():
                from dasan.security.audit import audited

                with audited(self.audit, "document.upload", "system:serve", "examples", source="examples/") as rec:
                    report = ingest_examples(self.store)
                    rec["documents"] = [{"id": r.document_id, "status": r.status}
                                        for r in report.results if r.document_id]
                    rec["failed"] = len(report.failed)
            _ = self.retriever.dense  # create the dense index once, before any request thread can
            self.retriever.update()
            self.jobs.start()
            self.ready.set()
        except Exception as e:  # reported by /readyz; the process keeps serving health checks
            log.exception("startup failed")
            self.startup_error = f"{type(e).__name__}: {e}"

    def wait_ready(self, timeout: float = 120.0) -> None:
        if not self.ready.wait(timeout):
            raise TimeoutError(self.startup_error or "server did not become ready")

    def close(self) -> None:
        self.jobs.stop()
        with contextlib.suppress(Exception):
            self.audit.close()


#: ``examples/`` folders that hold a service's settings or data shapes, not documents to search:
#: crowd thresholds and event calendars, a site's term lists.
NOT_DOCUMENTS = frozenset({"crowd", "site"})


def ingest_examples(store: Store) -> Any:
    """The sample corpus (``examples/`` sub-folders but :data:`NOT_DOCUMENTS`) into collection
    ``examples``."""
    from dasan import config
    from dasan.ingest.pipeline import ingest_paths

    ex = config.examples_dir()
    folders = sorted(p for p in ex.iterdir() if p.is_dir() and p.name not in NOT_DOCUMENTS) if ex.is_dir() else []
    return ingest_paths(store, folders, collection="examples", recursive=True)
