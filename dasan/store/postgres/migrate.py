"""``dasan migrate --to postgresql://…``: copy an embedded (SQLite) installation into PostgreSQL
and verify the copy.

Copied: collections (level, personal-data policy), documents and chunks (same content-addressed
ids), the principals directory (users, departments, memberships, API key hashes, collection
owners; numeric ids kept so that key ids stay valid), upload jobs, the dense embeddings of
``index/dense-*.db`` (no re-embedding) and the audit chain, row for row (its anchor file
``audit.head`` stays valid). Verified afterwards: row counts per table, every document's chunk
count, chunk texts and levels, a search sample (the same lexical top hits from both stores) and
the audit chain in both places.
The target must be empty of documents (a second run refuses rather than mixing two copies).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dasan.errors import StoreError
from dasan.index.pgvector import build_hnsw_index, copy_vectors_binary
from dasan.store.base import DocumentRecord
from dasan.store.postgres.db import SYSTEM
from dasan.store.postgres.store import PostgresStore

_DIRECTORY_TABLES = (  # parents before children; columns as in both schemas
    ("users", "id, name, clearance, role, created_at, updated_at"),
    ("departments", "id, name, parent_id, created_at"),
    ("user_departments", "user_id, department_id"),
    ("api_keys", "id, user_id, prefix, hash, scopes, created_at, expires_at, revoked_at, last_used_at"),
    ("collection_departments", "collection, department_id"),
)


@dataclass
class MigrationReport:
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # table → (source, target)
    vectors: dict[str, int] = field(default_factory=dict)
    search_sample: tuple[int, int] = (0, 0)  # (queries, identical top hits)
    audit: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "counts": {k: list(v) for k, v in self.counts.items()}, "vectors": self.vectors,
                "search_sample": list(self.search_sample), "audit": self.audit, "problems": self.problems}


def _table_key(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name).lower()[:40]


def import_dense_vectors(target: PostgresStore, index_dir: Path, log: Callable[[str], None] = lambda s: None
                         ) -> dict[str, int]:
    """Copy the embedded dense index's stored vectors (``dense-<model>.db``) into the pgvector
    tables, for chunks present in the target; returns vectors copied per model."""
    out: dict[str, int] = {}
    for db_path in sorted(index_dir.glob("dense-*.db")):
        model = db_path.stem.removeprefix("dense-")
        src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            first = src.execute("SELECT vec FROM vectors LIMIT 1").fetchone()
            if first is None:
                continue
            dim = len(first[0]) // 4
            table = f"dense_{_table_key(model)}"
            with target.db.tx(SYSTEM) as c:
                c.execute(f"""CREATE TABLE IF NOT EXISTS {table} (
                                  chunk_id TEXT COLLATE "C" PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
                                  embedding vector({dim}) NOT NULL)""")
                c.execute(f"CREATE INDEX IF NOT EXISTS {table}_hnsw ON {table} USING hnsw (embedding vector_cosine_ops)")
                known = {r[0] for r in c.execute("SELECT id FROM chunks")}
                empty = not c.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]
            n = 0
            cur = src.execute("SELECT chunk_id, vec FROM vectors")
            if empty:  # binary COPY, then one HNSW build (not the graph maintained row by row)
                def blocks(cur: Any = cur, known: set[str] = known, dim: int = dim) -> Any:
                    while block := cur.fetchmany(2000):
                        part = [(cid, vec) for cid, vec in block if cid in known and len(vec) == 4 * dim]
                        if part:
                            yield ([cid for cid, _ in part],
                                   np.frombuffer(b"".join(v for _, v in part), dtype=np.float32).reshape(-1, dim))

                with target.db.tx(SYSTEM) as c:
                    c.execute(f"DROP INDEX IF EXISTS {table}_hnsw")
                    n = copy_vectors_binary(c.cursor(), table, blocks(), dim)
                    build_hnsw_index(c, table)
            while not empty and (block := cur.fetchmany(2000)):
                rows = [(cid, "[" + ",".join(f"{x:.9g}" for x in np.frombuffer(vec, dtype=np.float32)) + "]")
                        for cid, vec in block if cid in known]
                with target.db.tx(SYSTEM) as c:
                    c.cursor().executemany(f"INSERT INTO {table}(chunk_id, embedding) VALUES (%s, %s::vector)"
                                           " ON CONFLICT DO NOTHING", rows)
                n += len(rows)
            out[model] = n
            log(f"vectors {model}: {n}")
        finally:
            src.close()
    return out


def copy_installation(data_dir: Path, target: PostgresStore, log: Callable[[str], None] = lambda s: None
                      ) -> MigrationReport:
    """Copy the SQLite store of ``data_dir`` into ``target`` (which must hold no documents)."""
    from dasan.store.sqlite import DB_NAME, SqliteStore

    if not (data_dir / DB_NAME).exists():
        raise StoreError(f"옮길 저장소가 없습니다: {data_dir / DB_NAME}. --data-dir를 확인하세요.")
    if target.list_documents():
        raise StoreError("대상 PostgreSQL 데이터베이스에 이미 문서가 있습니다. 빈 데이터베이스로 옮기세요 "
                         "(두 번 옮기면 섞입니다).")
    src = SqliteStore(data_dir)
    report = MigrationReport()
    try:
        con = src._conn
        with target.db.tx(SYSTEM) as c:
            for row in con.execute("SELECT name, level, created_at, pii_policy FROM collections"):
                c.execute("INSERT INTO collections(name, level, created_at, pii_policy) VALUES (%s, %s, %s, %s)"
                          " ON CONFLICT (name) DO UPDATE SET level = EXCLUDED.level, pii_policy = EXCLUDED.pii_policy",
                          tuple(row))
        docs = src.list_documents()
        batch: list[tuple[DocumentRecord, list[Any]]] = []
        for i, doc in enumerate(docs, 1):
            batch.append((DocumentRecord(**{**doc.__dict__}), src.chunks_of(doc.id)))
            if len(batch) == 200 or i == len(docs):
                target.put_documents(batch)  # COPY through staging tables, one transaction per batch
                batch = []
                log(f"documents: {i}/{len(docs)}")
        with target.db.tx(SYSTEM) as c:
            for table, cols in _DIRECTORY_TABLES:
                rows = [tuple(r) for r in con.execute(f"SELECT {cols} FROM {table}")]
                if table == "departments":  # parents first
                    rows = _parents_first(rows)
                marks = ", ".join(["%s"] * len(cols.split(",")))
                c.cursor().executemany(f"INSERT INTO {table}({cols}) VALUES ({marks})", rows)
                if cols.startswith("id,"):
                    c.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1))")
            for row in con.execute("SELECT id, owner, collection, level, created, updated, done, attempts, files,"
                                   " trail FROM jobs"):
                r = tuple(row)
                c.execute("INSERT INTO jobs(id, owner, collection, level, created, updated, done, attempts, files,"
                          " trail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", (*r[:6], bool(r[6]), *r[7:]))
            _copy_app_tables(con, c)
        report.vectors = import_dense_vectors(target, data_dir / "index", log)
        report.counts["audit_entries"] = _copy_audit(data_dir, target)
        verify(src, target, data_dir, report)
    finally:
        src.close()
    return report


#: application tables (SQLite 0006/0007, PostgreSQL 0004) and their boolean columns
_APP_TABLES = (("crowd_series", ()), ("crowd_points", ()), ("crowd_profiles", ()), ("crowd_events", ()),
               ("crowd_runs", ()), ("crowd_alerts", ("active",)), ("youth_policies", ("expired",)))


def _copy_app_tables(con: Any, c: Any) -> None:
    """Copy the application data (crowd series, youth-policy catalogue) as it is."""
    for table, booleans in _APP_TABLES:
        cur = con.execute(f"SELECT * FROM {table}")
        cols = [d[0] for d in cur.description]
        flags = [i for i, n in enumerate(cols) if n in booleans]
        rows = [tuple(bool(v) if i in flags else v for i, v in enumerate(r)) for r in cur]
        if not rows:
            continue
        over = " OVERRIDING SYSTEM VALUE" if table == "crowd_runs" else ""
        c.cursor().executemany(f"INSERT INTO {table}({', '.join(cols)}){over} VALUES ({', '.join(['%s'] * len(cols))})",
                               rows)
    c.execute("SELECT setval(pg_get_serial_sequence('crowd_runs', 'id'), "
              "GREATEST((SELECT COALESCE(MAX(id), 0) FROM crowd_runs), 1))")


def _copy_audit(data_dir: Path, target: PostgresStore) -> tuple[int, int]:
    """The audit chain, row for row (hashes do not depend on where rows are kept): the chain
    and the data directory's anchor (audit.head) go on unchanged in PostgreSQL."""
    path = data_dir / "audit.db"
    if not path.exists():
        return (0, 0)
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        meta = src.execute("SELECT key, value FROM meta").fetchall()
        rows = src.execute("SELECT seq, ts, actor, action, target, details, parent, hash FROM entries ORDER BY seq"
                           ).fetchall()
    finally:
        src.close()
    with target.db.tx(SYSTEM) as c:
        if c.execute("SELECT COUNT(*) FROM audit_entries").fetchone()[0]:
            raise StoreError("대상 데이터베이스에 이미 감사 기록이 있습니다. 빈 데이터베이스로 옮기세요.")
        c.execute("DELETE FROM audit_meta")
        c.cursor().executemany("INSERT INTO audit_meta(key, value) VALUES (%s, %s)", meta)
        c.cursor().executemany("INSERT INTO audit_entries(seq, ts, actor, action, target, details, parent, hash)"
                               " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
        n = c.execute("SELECT COUNT(*) FROM audit_entries").fetchone()[0]
    return (len(rows), int(n))


def _parents_first(rows: list[tuple]) -> list[tuple]:
    done: set[Any] = {None}
    out: list[tuple] = []
    pending = list(rows)
    while pending:
        ready = [r for r in pending if r[2] in done]
        if not ready:  # a cycle cannot exist (the directory refuses one); keep the rest as they are
            out.extend(pending)
            break
        out.extend(ready)
        done.update(r[0] for r in ready)
        pending = [r for r in pending if r[0] not in done]
    return out


def verify(src: Any, target: PostgresStore, data_dir: Path, report: MigrationReport, sample: int = 20) -> None:
    """Counts per table, chunk counts per document, a search sample and the audit chain."""
    con = src._conn
    with target.db.tx(SYSTEM) as c:
        for table in ("collections", "documents", "chunks", "users", "departments", "user_departments",
                      "api_keys", "collection_departments", "jobs",
                      *(t for t, _ in _APP_TABLES)):  # (audit: counted by _copy_audit)
            a = con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            b = c.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            report.counts[table] = (int(a), int(b))
            if a != b:
                report.problems.append(f"{table}: {a} rows in SQLite, {b} in PostgreSQL")
    report.problems.extend(target.check_consistency())
    # the same chunks, text for text (a hash over id, text and level in id order)
    import hashlib

    def digest(rows: Any) -> str:
        h = hashlib.sha256()
        for r in rows:
            h.update(json.dumps([r.id, r.text, r.classification, r.collection],
                                ensure_ascii=False).encode())
        return h.hexdigest()

    if digest(src.index_rows()) != digest(target.index_rows()):
        report.problems.append("chunk texts or levels differ between SQLite and PostgreSQL")
    # a search sample: the lexical top hits for sample chunk texts are the same in both
    from dasan.rag.retrieve import RetrievalConfig, Retriever

    rows = src.index_rows()
    if rows:
        import tempfile

        picks = [rows[int(i)] for i in np.linspace(0, len(rows) - 1, min(sample, len(rows))).astype(int)]
        with tempfile.TemporaryDirectory(prefix="dasan-migrate-") as tmp:
            a = Retriever(src, Path(tmp) / "a", RetrievalConfig(embedder=None, model=None))
            b = Retriever(target, Path(tmp) / "b", RetrievalConfig(embedder=None, model=None))
            same = 0
            for r in picks:
                q = str(r.text)[:80]
                ha = [h.chunk.id for h in a.search(q, k=3)]
                hb = [h.chunk.id for h in b.search(q, k=3)]
                same += ha == hb
            report.search_sample = (len(picks), same)
            if same != len(picks):
                report.problems.append(f"search sample: {len(picks) - same} of {len(picks)} queries ranked differently")
    # the audit chain: the data directory's, and the copy in PostgreSQL with the same anchor
    from dasan.security.audit import AuditLog
    from dasan.store.postgres.audit import PgAuditLog

    a, b = report.counts.get("audit_entries", (0, 0))
    if a != b:
        report.problems.append(f"audit_entries: {a} rows in audit.db, {b} in PostgreSQL")
    if (data_dir / "audit.db").exists():
        rep = AuditLog(data_dir).verify()
        pg = PgAuditLog(target.url, data_dir)
        try:
            rep_pg = pg.verify()
        finally:
            pg.close()
        report.audit = "ok" if rep.ok and rep_pg.ok else f"{len(rep.problems)} / {len(rep_pg.problems)} problems"
        for r, where in ((rep, "audit.db"), (rep_pg, "PostgreSQL")):
            if not r.ok:
                report.problems.append(f"audit chain ({where}): {r.problems[0].message_ko if r.problems else '?'}")
    else:
        report.audit = "none"
