"""PostgreSQL implementation of the store contract (:class:`dasan.store.base.Store`).

Selected by ``DASAN_DATABASE_URL=postgresql://…`` (see :func:`dasan.store.open_store`). Same
tables and semantics as :mod:`dasan.store.sqlite` (numbered migrations in
``dasan/store/migrations_pg``), pooled psycopg 3 connections, one transaction per operation.
The data directory still holds what is per-machine (models, caches, originals).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from dasan.errors import StoreError
from dasan.store.base import FEED_KEEP, Changes, DocumentRecord, FeedEntry, JobRecord
from dasan.store.base import now_iso as _now
from dasan.store.postgres.db import SYSTEM, AccessScope, Database, redact
from dasan.types import Chunk, Citation, IndexRow

_CHUNK_COLS = "id, document_id, ordinal, text, context, citation_json, classification, meta"
_DOC_COLS = ("id, collection, source_path, content_hash, pipeline_version, format, kind, title, pages, size_bytes,"
             " n_chunks, classification, metadata, ingested_at")

#: The access scope of the current request (a context variable, so that threads and tasks of
#: different requests never share it). Unset: the store works as the application (SYSTEM).
_scope: contextvars.ContextVar[Any] = contextvars.ContextVar("dasan_pg_scope", default=SYSTEM)


class RequestScope:
    """The scope of one server request, filled in once its principal is known (a mutable box
    in the context variable: the request's worker threads copy the context, and so share it)."""

    __slots__ = ("scope",)

    def __init__(self, scope: Any) -> None:
        self.scope = scope


def _current() -> Any:
    s = _scope.get()
    return s.scope if isinstance(s, RequestScope) else s


@contextlib.contextmanager
def request_scope(initial: Any = None) -> Iterator[RequestScope]:
    """Around one server request: the store reads in ``initial`` (default: nothing but what
    needs no scope — no document, chunk or classified policy row) until :func:`narrow` sets the
    principal's scope."""
    box = RequestScope(AccessScope(0, frozenset()) if initial is None else initial)
    token = _scope.set(box)
    try:
        yield box
    finally:
        _scope.reset(token)


def narrow(scope: Any) -> bool:
    """Set the current request's scope (see :func:`request_scope`); False outside a request."""
    s = _scope.get()
    if not isinstance(s, RequestScope):
        return False
    s.scope = scope
    return True



def _clean(text: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL characters (SQLite can); they become U+FFFD."""
    return text.replace("\x00", "\ufffd") if text and "\x00" in text else text


def _row_to_chunk(row: Any) -> Chunk:
    return Chunk(id=row["id"], document_id=row["document_id"], ordinal=row["ordinal"], text=row["text"],
                 citation=Citation(**json.loads(row["citation_json"])), context=row["context"],
                 classification=row["classification"], meta=json.loads(row["meta"]))


def _row_to_doc(row: Any) -> DocumentRecord:
    d = dict(row)
    d["metadata"] = json.loads(d["metadata"])
    return DocumentRecord(**d)


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _index_rows_sql(with_text: bool, where: str) -> str:
    """The light rows search indexes are built from (see ``Store.index_rows``), ``where`` applied."""
    texts = "c.context, c.text" if with_text else "NULL::text AS context, NULL::text AS text"
    return f"""SELECT c.id, {texts}, c.citation, c.classification, c.meta, d.collection, d.kind,
                      d.title, d.id AS document_id, COALESCE(k.level, '공개') AS collection_level
               FROM chunks c JOIN documents d ON d.id = c.document_id
               LEFT JOIN collections k ON k.name = d.collection
               {where}
               ORDER BY c.document_id, c.ordinal"""


class PostgresStore:
    """Documents, chunks, principals and jobs in one PostgreSQL database."""

    backend = "postgresql"
    FEED_KEEP = FEED_KEEP  # entries of the index change feed kept (older ones are pruned)

    def __init__(self, url: str, data_dir: Path | None = None, *, pool_max: int | None = None,
                 pool_timeout: float | None = None, migrate: bool = True) -> None:
        from dasan import settings

        self.url = url
        self.data_dir = Path(data_dir) if data_dir is not None else None
        # who holds the jobs this process saves: stable across restarts of the same installation
        import hashlib
        import socket

        self.node = f"{socket.gethostname()}:{hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:8]}"
        if self.data_dir is not None:
            try:
                self.data_dir.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(f"데이터 디렉터리를 만들 수 없습니다: {data_dir} ({e.strerror}). "
                                 "--data-dir 또는 DASAN_HOME을 확인하세요.") from e
        self.db = Database(url, max_size=pool_max or int(settings.get("DASAN_DATABASE_POOL_MAX")),
                           timeout=float(pool_timeout or settings.get("DASAN_DATABASE_POOL_TIMEOUT")))
        if migrate:
            try:
                self.db.migrate()
            except BaseException:
                self.db.close()
                raise

    def describe(self) -> str:
        return redact(self.url)

    # -- access scope (row-level security) -----------------------------------------------
    @contextlib.contextmanager
    def scoped(self, scope: AccessScope | None) -> Iterator[None]:
        """Run the block's store calls as one principal: the database's row-level security then
        shows only the rows ``scope`` may read (``None``: no rows at all)."""
        token = _scope.set(scope)
        try:
            yield
        finally:
            _scope.reset(token)

    @contextlib.contextmanager
    def system_scope(self) -> Iterator[None]:
        """The application's own work inside a request (index builds, originals cleanup):
        every row, whatever the request's principal may read."""
        with self.scoped(SYSTEM):
            yield

    def _tx(self) -> Any:
        return self.db.tx(_current())

    def _write(self) -> Any:
        return self.db.tx(SYSTEM)

    def _read(self, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """One read in one round trip, in the current request's scope."""
        return self.db.read(query, params, _current())

    # -- schema ---------------------------------------------------------------------------
    def schema_version(self) -> int:
        return int(self.db.read("SELECT MAX(version) FROM schema_migrations", (), SYSTEM)[0][0] or 0)

    def _bump(self, conn: Any) -> None:
        """In every write transaction that changes content: the generation, and the change feed
        (written by triggers, migration 0007) pruned to its newest ``FEED_KEEP`` entries."""
        keep = self.FEED_KEEP
        conn.execute(
            """WITH s AS (UPDATE store_state SET generation = generation + 1,
                              feed_floor = GREATEST(feed_floor, feed_seq - %s) WHERE id = 1 RETURNING feed_floor)
               DELETE FROM index_feed WHERE seq <= (SELECT feed_floor FROM s)""", (keep,))

    def generation(self) -> int:
        return int(self.db.read("SELECT generation FROM store_state WHERE id = 1", (), SYSTEM)[0][0])

    def ping(self) -> dict[str, Any]:
        """What /readyz reports: reachable, server version, schema version, pool use."""
        t0 = time.perf_counter()
        with self._write() as c:
            version = c.execute("SHOW server_version").fetchone()[0]
            schema = c.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
        stats = self.db.pool.get_stats()
        return {"backend": "postgresql", "url": redact(self.url), "server_version": version,
                "schema_version": int(schema or 0), "latency_ms": round((time.perf_counter() - t0) * 1000, 1),
                "pool": {"size": stats.get("pool_size", 0), "available": stats.get("pool_available", 0),
                         "max": self.db.max_size, "waiting": stats.get("requests_waiting", 0)}}

    # -- search indexes kept in the database ------------------------------------------------
    def dense_index(self, index_dir: Path, embedder: Any) -> Any:
        """The dense leg in this database (pgvector), for :class:`dasan.rag.retrieve.Retriever`."""
        from dasan.index.pgvector import PgDenseIndex

        return PgDenseIndex(self.db, index_dir, embedder)

    # -- principals -----------------------------------------------------------------------
    def directory(self) -> Any:
        from dasan.store.postgres.directory import PgDirectory

        return PgDirectory(self.db)

    # -- application data -------------------------------------------------------------------
    def policy_catalogue(self) -> Any:
        """The youth-policy catalogue (:class:`dasan.store.base.PolicyCatalogue`); reads in the
        current request's scope (row-level security by level)."""
        from dasan.store.postgres.appdata import PgPolicyCatalogue

        return PgPolicyCatalogue(self.db, _current)

    def crowd_series(self) -> Any:
        """The crowd series (:class:`dasan.store.base.SeriesStore`)."""
        from dasan.store.postgres.appdata import PgSeriesStore

        return PgSeriesStore(self.db)

    # -- upload jobs ----------------------------------------------------------------------
    #: how long a job saved by a server stays its own (renewed by every save): a worker or
    #: another replica takes up an open job only after its holder stopped saving it this long
    SERVER_LEASE_S = 900.0

    def save_job(self, job: JobRecord, *, leased: bool = True) -> None:
        """Insert or update a job, leased to this node while open (``leased=False``: left for
        a ``dasan worker`` to claim); a job another worker has taken over (its lease) is not
        overwritten."""
        now = time.time()
        owner, until = (None, None) if job.done or not leased else (self.node, now + self.SERVER_LEASE_S)
        with self._write() as c:
            c.execute(
                """INSERT INTO jobs(id, owner, collection, level, created, updated, done, attempts, files,
                                    lease_owner, lease_until, trail)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, collection = EXCLUDED.collection,
                       level = EXCLUDED.level, created = EXCLUDED.created, updated = EXCLUDED.updated,
                       done = EXCLUDED.done, attempts = EXCLUDED.attempts, files = EXCLUDED.files,
                       lease_owner = EXCLUDED.lease_owner, lease_until = EXCLUDED.lease_until,
                       trail = COALESCE(EXCLUDED.trail, jobs.trail)
                   WHERE jobs.lease_owner IS NULL OR jobs.lease_owner = %s OR jobs.lease_until < %s""",
                (job.id, job.owner, job.collection, job.level, job.created, now, bool(job.done),
                 job.attempts, json.dumps(job.files, ensure_ascii=False), owner, until,
                 json.dumps(job.trail, ensure_ascii=False) if job.trail is not None else None, self.node, now))

    @staticmethod
    def _job(row: Any) -> JobRecord:
        return JobRecord(row["id"], row["owner"], row["collection"], row["level"], json.loads(row["files"]),
                         row["created"], row["updated"], bool(row["done"]), row["attempts"],
                         json.loads(row["trail"]) if row["trail"] else None)

    def get_job(self, job_id: str) -> JobRecord | None:
        rows = self.db.read("SELECT * FROM jobs WHERE id = %s", (job_id,), SYSTEM)
        return self._job(rows[0]) if rows else None

    def open_jobs(self) -> list[JobRecord]:
        """Open jobs this node may take up: its own, unheld ones and those whose holder's lease
        ran out (never a job another live replica or worker is running)."""
        with self._write() as c:
            return [self._job(r) for r in c.execute(
                "SELECT * FROM jobs WHERE NOT done AND (lease_owner IS NULL OR lease_owner = %s OR lease_until < %s)"
                " ORDER BY created, id", (self.node, time.time()))]

    def recover_jobs(self, node_lease_s: float | None = None) -> list[JobRecord]:
        """Open jobs this node takes up after a restart: its own, unheld ones and those whose
        holder's lease ran out, each claimed for this node (``FOR UPDATE SKIP LOCKED`` and the
        lease written in the same transaction, ``attempts`` counted): of replicas restarting
        together, exactly one takes a dead node's job."""
        now = time.time()
        until = now + (node_lease_s or self.SERVER_LEASE_S)
        with self._write() as c:
            ids = [r[0] for r in c.execute(
                "SELECT id FROM jobs WHERE NOT done AND (lease_owner IS NULL OR lease_owner = %s OR lease_until < %s)"
                " ORDER BY created, id FOR UPDATE SKIP LOCKED", (self.node, now))]
            if not ids:
                return []
            rows = c.execute(
                "UPDATE jobs SET lease_owner = %s, lease_until = %s, attempts = attempts + 1, updated = %s"
                " WHERE id = ANY(%s) RETURNING *", (self.node, until, now, ids)).fetchall()
        return sorted((self._job(r) for r in rows), key=lambda j: (j.created, j.id))

    def open_originals(self) -> set[str]:
        """The originals (sha256) that files of open jobs — any holder's — still need."""
        out: set[str] = set()
        for (files,) in self.db.read("SELECT files FROM jobs WHERE NOT done", (), SYSTEM):
            out.update(f["sha256"] for f in json.loads(files) if f.get("sha256"))
        return out

    def prune_jobs(self, keep: int) -> int:
        with self._write() as c:
            cur = c.execute("DELETE FROM jobs WHERE done AND id NOT IN "
                            "(SELECT id FROM jobs ORDER BY created DESC LIMIT %s)", (keep,))
            return cur.rowcount

    # -- the durable queue (several workers, one database) --------------------------------
    def claim_job(self, worker: str, lease_s: float) -> JobRecord | None:
        """Take the oldest open job nobody holds (or whose holder's lease ran out): locked with
        ``FOR UPDATE SKIP LOCKED`` so that two workers never take the same one, leased to
        ``worker`` for ``lease_s`` seconds, ``attempts`` counted."""
        now = time.time()
        with self._write() as c:
            row = c.execute(
                """SELECT id FROM jobs WHERE NOT done AND (lease_until IS NULL OR lease_until < %s)
                   ORDER BY created, id LIMIT 1 FOR UPDATE SKIP LOCKED""", (now,)).fetchone()
            if row is None:
                return None
            got = c.execute(
                """UPDATE jobs SET lease_owner = %s, lease_until = %s, attempts = attempts + 1, updated = %s
                   WHERE id = %s RETURNING *""", (worker, now + lease_s, now, row[0])).fetchone()
        return self._job(got)

    def renew_lease(self, job_id: str, worker: str, lease_s: float) -> bool:
        """Extend a held lease; False when the lease was lost (another worker took the job)."""
        with self._write() as c:
            cur = c.execute("UPDATE jobs SET lease_until = %s WHERE id = %s AND lease_owner = %s AND NOT done",
                            (time.time() + lease_s, job_id, worker))
            return cur.rowcount == 1

    def save_job_leased(self, job: JobRecord, worker: str) -> bool:
        """Save a job's progress only while ``worker`` still holds it; marking it done releases
        the lease. False (nothing written) when another worker has taken it over: a job is
        completed once."""
        with self._write() as c:
            cur = c.execute(
                """UPDATE jobs SET files = %s, done = %s, updated = %s,
                       lease_owner = CASE WHEN %s THEN NULL ELSE lease_owner END,
                       lease_until = CASE WHEN %s THEN NULL ELSE lease_until END
                   WHERE id = %s AND lease_owner = %s AND NOT done""",
                (json.dumps(job.files, ensure_ascii=False), bool(job.done), time.time(), bool(job.done),
                 bool(job.done), job.id, worker))
            return cur.rowcount == 1

    # -- collections ----------------------------------------------------------------------
    def ensure_collection(self, name: str, level: str = "공개") -> None:
        with self._write() as c:
            c.execute("INSERT INTO collections(name, level, created_at) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                      (name, level, _now()))

    def _update(self, sql: str, params: tuple[Any, ...]) -> bool:
        with self._write() as c:
            cur = c.execute(sql, params)
            self._bump(c)
            return cur.rowcount > 0

    def set_collection_level(self, name: str, level: str) -> bool:
        return self._update("UPDATE collections SET level = %s WHERE name = %s", (level, name))

    def set_document_level(self, document_id: str, level: str) -> bool:
        with self._write() as c:
            cur = c.execute("UPDATE documents SET classification = %s WHERE id = %s", (level, document_id))
            c.execute("UPDATE chunks SET classification = %s WHERE document_id = %s", (level, document_id))
            self._bump(c)
            return cur.rowcount > 0

    def set_document_embargo(self, document_id: str, embargo: str | None, *, by: str) -> bool:
        fields = {"embargo": embargo, "embargo_hold": False, "embargo_set_by": by, "embargo_estimated": False,
                  "embargo_set_at": _now()}
        with self._write() as c:
            row = c.execute("SELECT metadata FROM documents WHERE id = %s FOR UPDATE", (document_id,)).fetchone()
            if row is None:
                return False
            meta = json.loads(row[0]) | fields
            c.execute("UPDATE documents SET metadata = %s WHERE id = %s",
                      (json.dumps(meta, ensure_ascii=False), document_id))
            for cid, cmeta in c.execute("SELECT id, meta FROM chunks WHERE document_id = %s",
                                        (document_id,)).fetchall():
                m = json.loads(cmeta)
                if "embargo" in m or "embargo_hold" in m:
                    m |= {"embargo": embargo, "embargo_hold": False}
                    c.execute("UPDATE chunks SET meta = %s WHERE id = %s", (json.dumps(m, ensure_ascii=False), cid))
            self._bump(c)
        return True

    def collection_pii_policy(self, name: str) -> str:
        rows = self.db.read("SELECT pii_policy FROM collections WHERE name = %s", (name,), SYSTEM)
        return rows[0][0] if rows else "mask_answer"

    def set_collection_pii_policy(self, name: str, policy: str) -> bool:
        return self._update("UPDATE collections SET pii_policy = %s WHERE name = %s", (policy, name))

    def collection_level(self, name: str) -> str | None:
        rows = self.db.read("SELECT level FROM collections WHERE name = %s", (name,), SYSTEM)
        return rows[0][0] if rows else None

    def collections(self) -> list[dict[str, Any]]:
        rows = self._read(
            """SELECT c.name, c.level, c.pii_policy, c.created_at,
                      COUNT(d.id) AS documents, COALESCE(SUM(d.n_chunks), 0)::bigint AS chunks
               FROM collections c LEFT JOIN documents d ON d.collection = c.name
               GROUP BY c.name ORDER BY c.name""")
        return [dict(r) for r in rows]

    # -- documents ------------------------------------------------------------------------
    def find_by_source(self, collection: str, source_path: str) -> DocumentRecord | None:
        rows = self._read(f"SELECT {_DOC_COLS} FROM documents WHERE collection = %s AND source_path = %s",
                          (collection, source_path))
        return _row_to_doc(rows[0]) if rows else None

    def get_document(self, document_id: str) -> DocumentRecord | None:
        rows = self._read(f"SELECT {_DOC_COLS} FROM documents WHERE id = %s", (document_id,))
        return _row_to_doc(rows[0]) if rows else None

    def resolve_document_id(self, prefix: str) -> list[str]:
        return [r[0] for r in self._read("SELECT id FROM documents WHERE id LIKE %s ESCAPE '\\' ORDER BY id",
                                         (_like_prefix(prefix) + "%",))]

    def put_document(self, record: DocumentRecord, chunks: list[Chunk], replaces: Sequence[str] = ()) -> None:
        import psycopg

        record.ingested_at = record.ingested_at or _now()
        record.n_chunks = len(chunks)
        try:
            with self._write() as c:
                c.execute("INSERT INTO collections(name, level, created_at) VALUES (%s, '공개', %s) "
                          "ON CONFLICT DO NOTHING", (record.collection, _now()))
                c.execute("DELETE FROM documents WHERE (collection = %s AND source_path = %s) OR id = %s",
                          (record.collection, record.source_path, record.id))
                for old in replaces:
                    c.execute("DELETE FROM documents WHERE id = %s AND collection = %s", (old, record.collection))
                c.execute(
                    f"INSERT INTO documents({_DOC_COLS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    (record.id, record.collection, record.source_path, record.content_hash, record.pipeline_version,
                     record.format, record.kind, _clean(record.title), record.pages, record.size_bytes,
                     record.n_chunks, record.classification,
                     _clean(json.dumps(record.metadata, ensure_ascii=False, default=str)), record.ingested_at))
                self._bump(c)
                # (COPY is not allowed on a table with row-level security; executemany pipelines)
                c.cursor().executemany(
                    "INSERT INTO chunks(id, document_id, collection, ordinal, text, context, citation, citation_json,"
                    " page, classification, meta) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    [(ch.id, record.id, record.collection, ch.ordinal, _clean(ch.text), _clean(ch.context),
                      _clean(ch.citation.label), _clean(json.dumps(ch.citation.__dict__, ensure_ascii=False)),
                      ch.citation.page, ch.classification,
                      _clean(json.dumps(ch.meta, ensure_ascii=False, default=str))) for ch in chunks])
        except psycopg.errors.IntegrityError as e:
            raise StoreError(f"문서를 저장하지 못했습니다 (중복 식별자): {e.diag.message_detail or e}",
                             path=record.source_path) from e

    def put_documents(self, items: Sequence[tuple[DocumentRecord, list[Chunk]]]) -> None:
        """Bulk load (an initial import, ``dasan migrate``, the scale benchmark): the rows of
        :meth:`put_document` for each (record, chunks) pair, in one transaction. A stored
        document at the same (collection, source_path) or with the same id is replaced, as
        there; two items of one call with the same source path are an error.

        The rows are streamed with ``COPY`` into temporary staging tables (``COPY FROM`` is not
        allowed on tables with row-level security) and moved with one ``INSERT … SELECT`` per
        table, so they pass the same row-level security checks, constraints and indexes as
        :meth:`put_document`'s inserts, without a round trip per row."""
        import psycopg

        if not items:
            return
        now = _now()
        for record, chunks in items:
            record.ingested_at = record.ingested_at or now
            record.n_chunks = len(chunks)
        try:
            with self._write() as c:
                c.cursor().executemany(
                    "INSERT INTO collections(name, level, created_at) VALUES (%s, '공개', %s) ON CONFLICT DO NOTHING",
                    [(name, now) for name in sorted({r.collection for r, _ in items})])
                c.execute("CREATE TEMP TABLE bulk_documents (LIKE documents INCLUDING DEFAULTS) ON COMMIT DROP")
                c.execute("CREATE TEMP TABLE bulk_chunks (LIKE chunks INCLUDING DEFAULTS) ON COMMIT DROP")
                cur = c.cursor()
                with cur.copy(f"COPY bulk_documents({_DOC_COLS}) FROM STDIN") as cp:
                    for r, _ in items:
                        cp.write_row((r.id, r.collection, r.source_path, r.content_hash, r.pipeline_version, r.format,
                                      r.kind, _clean(r.title), r.pages, r.size_bytes, r.n_chunks, r.classification,
                                      _clean(json.dumps(r.metadata, ensure_ascii=False, default=str)), r.ingested_at))
                with cur.copy("COPY bulk_chunks(id, document_id, collection, ordinal, text, context, citation,"
                              " citation_json, page, classification, meta) FROM STDIN") as cp:
                    for r, chunks in items:
                        for ch in chunks:
                            cp.write_row((ch.id, r.id, r.collection, ch.ordinal, _clean(ch.text), _clean(ch.context),
                                          _clean(ch.citation.label),
                                          _clean(json.dumps(ch.citation.__dict__, ensure_ascii=False)),
                                          ch.citation.page, ch.classification,
                                          _clean(json.dumps(ch.meta, ensure_ascii=False, default=str))))
                c.execute("DELETE FROM documents d USING bulk_documents b"
                          " WHERE d.id = b.id OR (d.collection = b.collection AND d.source_path = b.source_path)")
                c.execute(f"INSERT INTO documents({_DOC_COLS}) SELECT {_DOC_COLS} FROM bulk_documents")
                c.execute("INSERT INTO chunks(id, document_id, collection, ordinal, text, context, citation,"
                          " citation_json, page, classification, meta) SELECT id, document_id, collection, ordinal,"
                          " text, context, citation, citation_json, page, classification, meta FROM bulk_chunks")
                self._bump(c)
        except psycopg.errors.IntegrityError as e:
            raise StoreError(f"문서를 저장하지 못했습니다 (중복 식별자): {e.diag.message_detail or e}") from e

    def find_by_release_key(self, collection: str, key: str) -> list[DocumentRecord]:
        rows = self._read(f"SELECT {_DOC_COLS} FROM documents WHERE collection = %s"
                          " AND (metadata::jsonb ->> 'release_key') = %s", (collection, key))
        return [_row_to_doc(r) for r in rows]

    def remove_document(self, document_id: str) -> bool:
        with self._write() as c:
            cur = c.execute("DELETE FROM documents WHERE id = %s", (document_id,))
            self._bump(c)
            return cur.rowcount > 0

    def list_documents(self, collection: str | None = None) -> list[DocumentRecord]:
        if collection is None:
            rows = self._read(f"SELECT {_DOC_COLS} FROM documents ORDER BY collection, source_path")
        else:
            rows = self._read(f"SELECT {_DOC_COLS} FROM documents WHERE collection = %s ORDER BY source_path",
                              (collection,))
        return [_row_to_doc(r) for r in rows]

    # -- chunks ---------------------------------------------------------------------------
    def chunks_of(self, document_id: str) -> list[Chunk]:
        rows = self._read(f"SELECT {_CHUNK_COLS} FROM chunks WHERE document_id = %s ORDER BY ordinal",
                          (document_id,))
        return [_row_to_chunk(r) for r in rows]

    def iter_chunks(self, collection: str | None = None) -> Iterator[Chunk]:
        # read in pages by key, so no transaction stays open while the caller works
        last: tuple[str, int] = ("", -1)
        while True:
            where = "WHERE (document_id, ordinal) > (%s, %s)"
            params: tuple[Any, ...] = last
            if collection is not None:
                where += " AND collection = %s"
                params = (*last, collection)
            rows = self._read(f"SELECT {_CHUNK_COLS} FROM chunks {where} ORDER BY document_id, ordinal LIMIT 2000",
                              params)
            if not rows:
                return
            for r in rows:
                yield _row_to_chunk(r)
            last = (rows[-1]["document_id"], rows[-1]["ordinal"])

    def find_chunks_by_citation(self, prefix: str) -> list[Chunk]:
        rows = self._read(f"SELECT {_CHUNK_COLS} FROM chunks WHERE citation = %s OR citation LIKE %s ESCAPE '\\'"
                          " ORDER BY document_id, ordinal", (prefix, _like_prefix(prefix) + " %"))
        return [_row_to_chunk(r) for r in rows]

    def index_rows(self, with_text: bool = True) -> list[IndexRow]:
        # always the application's own scope: an index built inside a request's scope would hold
        # only that principal's rows and then serve everybody (its searches apply their own masks)
        return [IndexRow.of(r) for r in self.db.read(_index_rows_sql(with_text, ""), (), SYSTEM)]

    def index_rows_of(self, document_ids: Sequence[str], collections: Sequence[str] = (),
                      with_text: bool = False) -> list[IndexRow]:
        """:meth:`index_rows` of the given documents and of every document in ``collections``
        (the application's own scope, as :meth:`index_rows`)."""
        return [IndexRow.of(r) for r in self.db.read(
            _index_rows_sql(with_text, "WHERE d.id = ANY(%s) OR d.collection = ANY(%s)"),
            (list(document_ids), list(collections)), SYSTEM)]

    def changes_since(self, seq: int, limit: int | None = None) -> Changes:
        """The index change feed after entry ``seq`` (see :class:`dasan.store.base.Changes`), in
        one statement (one snapshot)."""
        rows = self.db.read(
            """SELECT s.feed_epoch, s.feed_seq, s.feed_floor, f.seq, f.document_id, f.collection, f.op
               FROM store_state s LEFT JOIN LATERAL (SELECT * FROM index_feed WHERE seq > %s ORDER BY seq LIMIT %s) f
                    ON true
               WHERE s.id = 1 ORDER BY f.seq""", (seq, limit), SYSTEM)
        epoch, head, floor = rows[0][0], int(rows[0][1]), int(rows[0][2])
        return Changes(epoch, head, floor, [FeedEntry(int(r[3]), r[4], r[5], r[6]) for r in rows if r[3] is not None])

    def chunk_texts(self, chunk_ids: list[str]) -> dict[str, str]:
        return {r[0]: r[1] for r in self._read("SELECT id, text FROM chunks WHERE id = ANY(%s)", (list(chunk_ids),))}

    def get_chunks(self, chunk_ids: list[str]) -> list[Chunk]:
        found = {r["id"]: _row_to_chunk(r)
                 for r in self._read(f"SELECT {_CHUNK_COLS} FROM chunks WHERE id = ANY(%s)", (list(chunk_ids),))}
        return [found[i] for i in chunk_ids if i in found]

    def check_consistency(self) -> list[str]:
        problems = []
        with self._write() as c:
            for row in c.execute(
                    """SELECT d.id, d.n_chunks, COUNT(c.id) AS n FROM documents d
                       LEFT JOIN chunks c ON c.document_id = d.id GROUP BY d.id HAVING COUNT(c.id) != d.n_chunks"""):
                problems.append(f"document {row[0]}: {row[2]} chunks stored, {row[1]} expected")
            bad = c.execute("""SELECT COUNT(*) FROM chunks c JOIN documents d ON d.id = c.document_id
                               WHERE c.collection != d.collection""").fetchone()[0]
            if bad:
                problems.append(f"{bad} chunks whose collection differs from their document's")
        return problems

    def close(self) -> None:
        self.db.close()
