"""SQLite store: one file ``dasan.db`` in the data directory, numbered migrations, WAL mode.

Connections: one writer connection, used under the store's write lock for every write
transaction, and one read connection per reader thread (opened on its first read, closed with
the store). Each read runs on the calling thread's own connection, so readers never share a
cursor or a read snapshot: a statement sees every transaction committed before it started, by
this process or another. A read made by the thread that holds the write lock (inside a write
transaction, e.g. a check before an insert) runs on the writer connection and sees that
transaction's uncommitted rows.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from dasan.errors import StoreError
from dasan.sqliteutil import retry_locked
from dasan.store.base import FEED_KEEP, Changes, DocumentRecord, FeedEntry, JobRecord, read_migrations
from dasan.store.base import now_iso as _now
from dasan.types import Chunk, Citation, IndexRow

DB_NAME = "dasan.db"




class _WriteLock:
    """The store's write lock (re-entrant) that knows whether the calling thread holds it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._owner: int | None = None
        self._depth = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not self._lock.acquire(blocking, timeout):
            return False
        self._owner = threading.get_ident()
        self._depth += 1
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def held(self) -> bool:
        """Whether the calling thread holds the lock (only that thread can make this true)."""
        return self._owner == threading.get_ident()


class _Routed:
    """What the directory and the application data use of a ``sqlite3.Connection``: a
    statement runs on the writer connection while the calling thread holds the write lock (its
    transaction), else on the thread's own read connection (see the module doc)."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    def _conn(self) -> sqlite3.Connection:
        return self._store._reader()

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self._conn().execute(sql, params)

    def executemany(self, sql: str, seq: Any) -> sqlite3.Cursor:
        return self._conn().executemany(sql, seq)

    @property
    def in_transaction(self) -> bool:
        return self._conn().in_transaction

    def __getattr__(self, name: str) -> Any:  # total_changes, …: of the connection routed to
        return getattr(self._conn(), name)

    @property
    def row_factory(self) -> Any:
        return sqlite3.Row

    @row_factory.setter
    def row_factory(self, value: Any) -> None:  # every connection of the store already uses sqlite3.Row
        pass


def _row_to_chunk(row: sqlite3.Row) -> Chunk:
    c = json.loads(row["citation_json"])
    return Chunk(
        id=row["id"],
        document_id=row["document_id"],
        ordinal=row["ordinal"],
        text=row["text"],
        citation=Citation(**c),
        context=row["context"],
        classification=row["classification"],
        meta=json.loads(row["meta"]),
    )


def _row_to_doc(row: sqlite3.Row) -> DocumentRecord:
    d = dict(row)
    d["metadata"] = json.loads(d["metadata"])
    return DocumentRecord(**d)


class SqliteStore:
    FEED_KEEP = FEED_KEEP  # entries of the index change feed kept (older ones are pruned)

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(
                f"데이터 디렉터리를 만들 수 없습니다: {data_dir} ({e.strerror}). --data-dir 또는 DASAN_HOME을 확인하세요."
            ) from e
        self.path = data_dir / DB_NAME
        self._lock = _WriteLock()
        self._local = threading.local()
        self._readers: list[tuple[threading.Thread, sqlite3.Connection]] = []  # to close them all
        self._readers_lock = threading.Lock()
        self._closed = False
        #: the writer connection (write transactions, under ``_lock``)
        self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        retry_locked(lambda: self._conn.execute("PRAGMA journal_mode=WAL"))
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def _reader(self) -> sqlite3.Connection:
        """The connection a read of the calling thread runs on: the writer connection while this
        thread holds the write lock (it sees its own transaction), else the thread's own read
        connection, opened on first use."""
        if self._lock.held() or self._closed:
            return self._conn  # (a closed store: the closed connection raises as before)
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open_reader()
        return conn

    def _open_reader(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA query_only=ON")  # a write that bypassed the writer would fail loudly
        with self._readers_lock:
            if self._closed:
                conn.close()
                return self._conn
            # connections of threads that have ended are closed here (a thread pool's come and go)
            keep = []
            for thread, other in self._readers:
                if thread.is_alive():
                    keep.append((thread, other))
                else:
                    other.close()
            keep.append((threading.current_thread(), conn))
            self._readers = keep
        self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the store lock: committed when the block ends, rolled
        back on any error (nothing half-written)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    # -- schema -----------------------------------------------------------------
    def _migrate(self) -> None:
        with self._lock:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            done = {r[0] for r in self._conn.execute("SELECT version FROM schema_migrations")}
            for version, sql in read_migrations("migrations"):
                if version in done:
                    continue
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    # Another process opening the same new store may have applied it meanwhile.
                    if self._conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (version,)).fetchone():
                        self._conn.execute("COMMIT")
                        continue
                    # executescript would commit implicitly; run statements one by one instead.
                    for stmt in _split_sql(sql):
                        self._conn.execute(stmt)
                    self._conn.execute(
                        "INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)", (version, _now())
                    )
                    self._conn.execute("COMMIT")
                except Exception:
                    self._conn.execute("ROLLBACK")
                    raise

    def schema_version(self) -> int:
        row = self._reader().execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def _bump(self) -> None:
        """In every write transaction that changes content: the generation, and the change feed
        (written by triggers, migration 0009) pruned to its newest ``FEED_KEEP`` entries."""
        self._conn.execute("UPDATE store_state SET generation = generation + 1 WHERE id = 1")
        keep = self.FEED_KEEP
        if self._conn.execute("UPDATE store_state SET feed_floor = feed_seq - ? WHERE id = 1 AND feed_seq - ? > "
                              "feed_floor", (keep, keep)).rowcount:
            self._conn.execute("DELETE FROM index_feed WHERE seq <= (SELECT feed_floor FROM store_state WHERE id = 1)")

    def generation(self) -> int:
        """Increases with every committed write; equal values mean identical content."""
        return int(self._reader().execute("SELECT generation FROM store_state WHERE id = 1").fetchone()[0])

    # -- principals -------------------------------------------------------------
    def directory(self) -> Any:
        """Users, departments, keys and collection owners kept in this store (sharing its
        connection and write lock)."""
        from dasan.store.directory import SqliteDirectory

        return SqliteDirectory(_Routed(self), self._lock)  # type: ignore[arg-type]

    @contextlib.contextmanager
    def system_scope(self) -> Iterator[None]:
        """The application's own work (no row-level security here: every read sees every row)."""
        yield

    # -- application data -------------------------------------------------------
    def policy_catalogue(self) -> Any:
        """The youth-policy catalogue (:class:`dasan.store.base.PolicyCatalogue`)."""
        from dasan.store.appdata_sqlite import SqlitePolicyCatalogue

        return SqlitePolicyCatalogue(_Routed(self), self._lock)  # type: ignore[arg-type]

    def crowd_series(self) -> Any:
        """The crowd series (:class:`dasan.store.base.SeriesStore`)."""
        from dasan.store.appdata_sqlite import SqliteSeriesStore

        return SqliteSeriesStore(_Routed(self), self._lock)  # type: ignore[arg-type]

    # -- upload jobs ------------------------------------------------------------
    def save_job(self, job: JobRecord) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO jobs(id, owner, collection, level, created, updated, done, attempts, files,"
                " trail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (job.id, job.owner, job.collection, job.level, job.created, time.time(), int(job.done), job.attempts,
                 json.dumps(job.files, ensure_ascii=False),
                 json.dumps(job.trail, ensure_ascii=False) if job.trail is not None else None))

    def _job(self, row: sqlite3.Row) -> JobRecord:
        return JobRecord(row["id"], row["owner"], row["collection"], row["level"], json.loads(row["files"]),
                         row["created"], row["updated"], bool(row["done"]), row["attempts"],
                         json.loads(row["trail"]) if row["trail"] else None)

    def get_job(self, job_id: str) -> JobRecord | None:
        row = self._reader().execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._job(row) if row else None

    def open_jobs(self) -> list[JobRecord]:
        return [self._job(r) for r in self._reader().execute("SELECT * FROM jobs WHERE done = 0 ORDER BY created")]

    def recover_jobs(self, node_lease_s: float) -> list[JobRecord]:
        """Open jobs, ``attempts`` counted (one process runs the jobs of a SQLite store)."""
        with self._write() as conn:
            rows = conn.execute("SELECT id FROM jobs WHERE done = 0 ORDER BY created").fetchall()
            conn.executemany("UPDATE jobs SET attempts = attempts + 1, updated = ? WHERE id = ?",
                             [(time.time(), r[0]) for r in rows])
            return [self._job(r) for r in conn.execute("SELECT * FROM jobs WHERE done = 0 ORDER BY created")]

    def prune_jobs(self, keep: int) -> int:
        with self._write() as conn:
            cur = conn.execute(
                "DELETE FROM jobs WHERE done = 1 AND id NOT IN (SELECT id FROM jobs ORDER BY created DESC LIMIT ?)",
                (keep,))
        return cur.rowcount

    # -- collections ------------------------------------------------------------
    def ensure_collection(self, name: str, level: str = "공개") -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO collections(name, level, created_at) VALUES (?, ?, ?)", (name, level, _now())
            )

    def set_collection_level(self, name: str, level: str) -> bool:
        """Change a collection's level; takes effect for every search from the next query."""
        return self._update("UPDATE collections SET level = ? WHERE name = ?", (level, name))

    def set_document_level(self, document_id: str, level: str) -> bool:
        """Change a document's level (and its chunks') in one transaction."""
        with self._write() as conn:
            cur = conn.execute("UPDATE documents SET classification = ? WHERE id = ?", (level, document_id))
            conn.execute("UPDATE chunks SET classification = ? WHERE document_id = ?", (level, document_id))
            self._bump()
        return cur.rowcount > 0

    def set_document_embargo(self, document_id: str, embargo: str | None, *, by: str) -> bool:
        """Set (ISO date-time) or clear (None) a press release's 보도시점 on the document and its
        chunks in one transaction; clears an ``embargo_hold``. Takes effect from the next query."""
        fields = {"embargo": embargo, "embargo_hold": False, "embargo_set_by": by, "embargo_estimated": False,
                  "embargo_set_at": _now()}
        with self._write() as conn:
            row = conn.execute("SELECT metadata FROM documents WHERE id = ?", (document_id,)).fetchone()
            if row is None:
                return False
            meta = json.loads(row[0]) | fields
            conn.execute("UPDATE documents SET metadata = ? WHERE id = ?",
                         (json.dumps(meta, ensure_ascii=False), document_id))
            for cid, cmeta in conn.execute("SELECT id, meta FROM chunks WHERE document_id = ?",
                                           (document_id,)).fetchall():
                m = json.loads(cmeta)
                if "embargo" in m or "embargo_hold" in m:
                    m |= {"embargo": embargo, "embargo_hold": False}
                    conn.execute("UPDATE chunks SET meta = ? WHERE id = ?", (json.dumps(m, ensure_ascii=False), cid))
            self._bump()
        return True

    def _update(self, sql: str, params: tuple[Any, ...]) -> bool:
        with self._write() as conn:
            cur = conn.execute(sql, params)
            self._bump()
        return cur.rowcount > 0

    def collection_pii_policy(self, name: str) -> str:
        row = self._reader().execute("SELECT pii_policy FROM collections WHERE name = ?", (name,)).fetchone()
        return row[0] if row else "mask_answer"

    def set_collection_pii_policy(self, name: str, policy: str) -> bool:
        return self._update("UPDATE collections SET pii_policy = ? WHERE name = ?", (policy, name))

    def collection_level(self, name: str) -> str | None:
        row = self._reader().execute("SELECT level FROM collections WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def collections(self) -> list[dict[str, Any]]:
        rows = self._reader().execute(
            """SELECT c.name, c.level, c.pii_policy, c.created_at,
                      COUNT(d.id) AS documents, COALESCE(SUM(d.n_chunks), 0) AS chunks
               FROM collections c LEFT JOIN documents d ON d.collection = c.name
               GROUP BY c.name ORDER BY c.name"""
        ).fetchall()
        return [dict(r) for r in rows]

    # -- documents --------------------------------------------------------------
    def find_by_source(self, collection: str, source_path: str) -> DocumentRecord | None:
        row = self._reader().execute(
            "SELECT * FROM documents WHERE collection = ? AND source_path = ?", (collection, source_path)
        ).fetchone()
        return _row_to_doc(row) if row else None

    def get_document(self, document_id: str) -> DocumentRecord | None:
        row = self._reader().execute("SELECT * FROM documents WHERE id = ?", (document_id,)).fetchone()
        return _row_to_doc(row) if row else None

    def resolve_document_id(self, prefix: str) -> list[str]:
        """Ids starting with ``prefix`` (users may type a short id, as with git)."""
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return [r[0] for r in self._reader().execute("SELECT id FROM documents WHERE id LIKE ? ESCAPE '\\'", (like,))]

    def put_document(self, record: DocumentRecord, chunks: list[Chunk], replaces: Sequence[str] = ()) -> None:
        """Store a document and its chunks; one at the same source path (or the ids in
        ``replaces``: an earlier version of the same release) is removed in the same transaction."""
        try:
            with self._write():
                self._put_one(record, chunks, replaces)
        except sqlite3.IntegrityError as e:
            raise StoreError(f"문서를 저장하지 못했습니다 (중복 식별자): {e}", path=record.source_path) from e

    def put_documents(self, items: Sequence[tuple[DocumentRecord, list[Chunk]]]) -> None:
        """Bulk load: :meth:`put_document` for each (record, chunks) pair, all in one transaction
        (the same rows and replacement rules; one commit instead of one per document)."""
        try:
            with self._write():
                for record, chunks in items:
                    self._put_one(record, chunks, ())
        except sqlite3.IntegrityError as e:
            raise StoreError(f"문서를 저장하지 못했습니다 (중복 식별자): {e}") from e

    def _put_one(self, record: DocumentRecord, chunks: list[Chunk], replaces: Sequence[str]) -> None:
        record.ingested_at = record.ingested_at or _now()
        record.n_chunks = len(chunks)
        self.ensure_collection(record.collection)
        self._conn.execute(
            "DELETE FROM documents WHERE (collection = ? AND source_path = ?) OR id = ?",
            (record.collection, record.source_path, record.id),
        )
        for old in replaces:
            self._conn.execute("DELETE FROM documents WHERE id = ? AND collection = ?",
                               (old, record.collection))
        self._conn.execute(
            """INSERT INTO documents(id, collection, source_path, content_hash, pipeline_version, format,
                   kind, title, pages, size_bytes, n_chunks, classification, metadata, ingested_at)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            (
                record.id, record.collection, record.source_path, record.content_hash,
                record.pipeline_version, record.format, record.kind, record.title, record.pages,
                record.size_bytes, record.n_chunks, record.classification,
                json.dumps(record.metadata, ensure_ascii=False, default=str), record.ingested_at,
            ),
        )
        self._bump()
        self._conn.executemany(
            """INSERT INTO chunks(id, document_id, ordinal, text, context, citation, citation_json, page,
                   classification, meta) VALUES (?,?,?,?,?,?,?,?,?,?)""",
            [
                (
                    c.id, record.id, c.ordinal, c.text, c.context, c.citation.label,
                    json.dumps(c.citation.__dict__, ensure_ascii=False), c.citation.page,
                    c.classification, json.dumps(c.meta, ensure_ascii=False, default=str),
                )
                for c in chunks
            ],
        )

    def find_by_release_key(self, collection: str, key: str) -> list[DocumentRecord]:
        """Documents of a collection that carry this release key (same release, any version)."""
        rows = self._reader().execute(
            "SELECT * FROM documents WHERE collection = ? AND json_extract(metadata, '$.release_key') = ?",
            (collection, key),
        ).fetchall()
        return [_row_to_doc(r) for r in rows]

    def remove_document(self, document_id: str) -> bool:
        with self._write() as conn:
            cur = conn.execute("DELETE FROM documents WHERE id = ?", (document_id,))
            self._bump()
        return cur.rowcount > 0

    def list_documents(self, collection: str | None = None) -> list[DocumentRecord]:
        if collection is None:
            rows = self._reader().execute("SELECT * FROM documents ORDER BY collection, source_path").fetchall()
        else:
            rows = self._reader().execute(
                "SELECT * FROM documents WHERE collection = ? ORDER BY source_path", (collection,)
            ).fetchall()
        return [_row_to_doc(r) for r in rows]

    # -- chunks -----------------------------------------------------------------
    def chunks_of(self, document_id: str) -> list[Chunk]:
        rows = self._reader().execute(
            "SELECT * FROM chunks WHERE document_id = ? ORDER BY ordinal", (document_id,)
        ).fetchall()
        return [_row_to_chunk(r) for r in rows]

    def iter_chunks(self, collection: str | None = None) -> Iterator[Chunk]:
        """Chunks in store order, one consistent snapshot. The open cursor lives on a
        connection of its own: a half-consumed iteration does not hold the thread's read
        connection in an old snapshot (nor share its cursor)."""
        own = not self._lock.held()
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None) if own else self._conn
        try:
            conn.row_factory = sqlite3.Row
            if collection is None:
                cur = conn.execute("SELECT * FROM chunks ORDER BY document_id, ordinal")
            else:
                cur = conn.execute(
                    """SELECT c.* FROM chunks c JOIN documents d ON d.id = c.document_id
                       WHERE d.collection = ? ORDER BY c.document_id, c.ordinal""",
                    (collection,),
                )
            for row in cur:
                yield _row_to_chunk(row)
        finally:
            if own:
                conn.close()

    def find_chunks_by_citation(self, prefix: str) -> list[Chunk]:
        """Chunks whose citation equals ``prefix`` or continues it with a space (e.g. ``… 제1항``)."""
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + " %"
        rows = self._reader().execute(
            "SELECT * FROM chunks WHERE citation = ? OR citation LIKE ? ESCAPE '\\' ORDER BY document_id, ordinal",
            (prefix, like),
        ).fetchall()
        return [_row_to_chunk(r) for r in rows]

    def index_rows(self, with_text: bool = True) -> list[IndexRow]:
        """Light rows for building search indexes: chunk id, index text parts and filter fields.
        ``with_text=False`` leaves ``context`` and ``text`` None (a fraction of the memory)."""
        texts = "c.context, c.text" if with_text else "NULL AS context, NULL AS text"
        return self._index_rows(
            f"""SELECT c.id, {texts}, c.citation, c.classification, c.meta, d.collection, d.kind,
                      d.title, d.id AS document_id, COALESCE(k.level, '공개') AS collection_level
               FROM chunks c JOIN documents d ON d.id = c.document_id
               LEFT JOIN collections k ON k.name = d.collection
               ORDER BY c.document_id, c.ordinal""")

    def index_rows_of(self, document_ids: Sequence[str], collections: Sequence[str] = (),
                      with_text: bool = False) -> list[IndexRow]:
        """:meth:`index_rows` of the given documents and of every document in ``collections``."""
        texts = "c.context, c.text" if with_text else "NULL AS context, NULL AS text"
        return self._index_rows(
            f"""WITH want(id) AS (SELECT value FROM json_each(?)
                                  UNION SELECT id FROM documents WHERE collection IN (SELECT value FROM json_each(?)))
                SELECT c.id, {texts}, c.citation, c.classification, c.meta, d.collection, d.kind,
                      d.title, d.id AS document_id, COALESCE(k.level, '공개') AS collection_level
               FROM want w JOIN documents d ON d.id = w.id JOIN chunks c ON c.document_id = d.id
               LEFT JOIN collections k ON k.name = d.collection
               ORDER BY c.document_id, c.ordinal""",
            (json.dumps(list(document_ids)), json.dumps(list(collections))))

    def _index_rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[IndexRow]:
        cur = self._reader().cursor()
        cur.row_factory = lambda _c, t: IndexRow._make(t)  # typed rows straight from the driver's tuples
        return cur.execute(sql, args).fetchall()

    def changes_since(self, seq: int, limit: int | None = None) -> Changes:
        """The index change feed after entry ``seq`` (see :class:`dasan.store.base.Changes`), in
        one statement (one snapshot)."""
        rows = self._reader().execute(
            """SELECT s.feed_epoch, s.feed_seq, s.feed_floor, f.seq, f.document_id, f.collection, f.op
               FROM store_state s LEFT JOIN (SELECT * FROM index_feed WHERE seq > ? ORDER BY seq LIMIT ?) f ON 1
               WHERE s.id = 1 ORDER BY f.seq""", (seq, -1 if limit is None else limit)).fetchall()
        epoch, head, floor = rows[0][0], int(rows[0][1]), int(rows[0][2])
        return Changes(epoch, head, floor, [FeedEntry(int(r[3]), r[4], r[5], r[6]) for r in rows if r[3] is not None])

    def chunk_texts(self, chunk_ids: list[str]) -> dict[str, str]:
        """Just the texts of the given chunks (no parsing of citations or metadata)."""
        out: dict[str, str] = {}
        for start in range(0, len(chunk_ids), 500):
            part = chunk_ids[start:start + 500]
            marks = ",".join("?" * len(part))
            out.update(self._reader().execute(f"SELECT id, text FROM chunks WHERE id IN ({marks})", part).fetchall())
        return out

    def get_chunks(self, chunk_ids: list[str]) -> list[Chunk]:
        """Chunks by id, in the order given (unknown ids are left out)."""
        found: dict[str, Chunk] = {}
        for start in range(0, len(chunk_ids), 500):
            part = chunk_ids[start:start + 500]
            marks = ",".join("?" * len(part))
            for row in self._reader().execute(f"SELECT * FROM chunks WHERE id IN ({marks})", part):
                found[row["id"]] = _row_to_chunk(row)
        return [found[c] for c in chunk_ids if c in found]

    def check_consistency(self) -> list[str]:
        """Problems found: failed integrity check, documents whose chunk count is off, orphans."""
        problems = []
        ok = self._reader().execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            problems.append(f"integrity_check: {ok}")
        for row in self._reader().execute(
            """SELECT d.id, d.n_chunks, COUNT(c.id) AS n FROM documents d
               LEFT JOIN chunks c ON c.document_id = d.id GROUP BY d.id HAVING n != d.n_chunks"""
        ):
            problems.append(f"document {row[0]}: {row[2]} chunks stored, {row[1]} expected")
        orphans = self._reader().execute(
            "SELECT COUNT(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)"
        ).fetchone()[0]
        if orphans:
            problems.append(f"{orphans} orphan chunks")
        return problems

    def close(self) -> None:
        """Close the writer and every reader thread's connection (a read after this raises)."""
        with self._lock:
            with self._readers_lock:
                self._closed = True
                readers, self._readers = self._readers, []
            for _, conn in readers:
                conn.close()
            self._conn.close()


def _split_sql(sql: str) -> list[str]:
    """The statements of a migration script (a trigger's BEGIN … END block stays one statement)."""
    out, buf = [], ""
    for ln in sql.splitlines():
        if ln.strip().startswith("--"):
            continue
        buf += ln + "\n"
        if sqlite3.complete_statement(buf):
            if buf.strip().rstrip(";").strip():
                out.append(buf.strip().rstrip(";").strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
