"""The SQLite store under concurrent use (issue 14): each reader thread reads on a connection
of its own, so another process's commit is seen on the next read (no stale snapshot held by an
open cursor), a read inside a write transaction sees that transaction's rows, and many readers
beside a writer never hit "database is locked" or "recursive cursor" errors."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from dasan.store.base import DocumentRecord
from dasan.store.ids import PIPELINE_VERSION
from dasan.store.sqlite import SqliteStore
from dasan.types import Chunk, Citation

ROOT = Path(__file__).resolve().parents[1]


def _record(doc_id: str, collection: str = "c1") -> DocumentRecord:
    return DocumentRecord(
        id=doc_id, collection=collection, source_path=f"/x/{doc_id}.md", content_hash="h" + doc_id,
        pipeline_version=PIPELINE_VERSION, format="md", kind="generic", title="제목", pages=None,
        size_bytes=10, n_chunks=0,
    )


def _chunks(doc_id: str, n: int) -> list[Chunk]:
    return [Chunk(id=f"{doc_id}-{i}", document_id=doc_id, ordinal=i, text=f"본문 {i}",
                  citation=Citation(label=f"문서 제{i + 1}조")) for i in range(n)]


def _put_in_another_process(data: Path, doc_id: str, n: int = 2) -> None:
    code = textwrap.dedent(f"""
        from pathlib import Path
        from dasan.store.sqlite import SqliteStore
        from tests.test_store_concurrency import _record, _chunks
        s = SqliteStore(Path({str(data)!r}))
        s.put_document(_record({doc_id!r}), _chunks({doc_id!r}, {n}))
        s.close()
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=str(ROOT), timeout=120)


@pytest.fixture
def store(tmp_path: Path):
    s = SqliteStore(tmp_path / "data")
    yield s
    s.close()


def test_another_process_commit_is_seen_on_the_next_read_despite_an_open_cursor(store: SqliteStore) -> None:
    store.put_document(_record("d1"), _chunks("d1", 3))
    gen = store.generation()
    seen: dict[str, object] = {}

    def reader(started: threading.Event, go: threading.Event) -> None:
        chunks = store.iter_chunks()  # a half-consumed iteration: its cursor stays open
        next(chunks)
        started.set()
        go.wait(120)
        seen["doc"] = store.get_document("d2")
        seen["gen"] = store.generation()
        seen["docs"] = [d.id for d in store.list_documents()]
        seen["rest"] = sum(1 for _ in chunks)  # the iteration keeps its own snapshot

    started, go = threading.Event(), threading.Event()
    t = threading.Thread(target=reader, args=(started, go))
    t.start()
    assert started.wait(30)
    store.list_documents()  # the main thread reads too (its own connection) before the commit
    _put_in_another_process(store.data_dir, "d2")
    go.set()
    t.join(60)
    assert seen["doc"] is not None and seen["gen"] == gen + 1
    assert seen["docs"] == ["d1", "d2"]
    assert seen["rest"] == 2
    # the main thread, which read before the commit, sees it on its next read as well
    assert store.get_document("d2") is not None and len(store.chunks_of("d2")) == 2


def test_a_second_store_object_on_the_same_file_is_seen_by_a_reader_thread(tmp_path: Path) -> None:
    a, b = SqliteStore(tmp_path / "d"), SqliteStore(tmp_path / "d")
    try:
        out: list[object] = []
        ready, go, done = threading.Event(), threading.Event(), threading.Event()

        def reader() -> None:
            out.append(a.get_document("x"))  # opens this thread's connection; None yet
            ready.set()
            go.wait(30)
            out.append(a.get_document("x"))
            done.set()

        t = threading.Thread(target=reader)
        t.start()
        assert ready.wait(30)
        b.put_document(_record("x"), _chunks("x", 1))
        go.set()
        assert done.wait(30)
        t.join(30)
        assert out[0] is None and out[1] is not None
    finally:
        a.close()
        b.close()


def test_a_read_inside_a_write_transaction_sees_its_uncommitted_rows(store: SqliteStore) -> None:
    other: dict[str, object] = {}

    def look() -> None:  # another thread, meanwhile: neither blocked nor shown the uncommitted row
        t0 = time.monotonic()
        other["doc"] = store.get_document("u1")
        other["seconds"] = time.monotonic() - t0

    with store._write() as conn:
        conn.execute(
            "INSERT INTO collections(name, level, created_at) VALUES ('c1', '공개', '2026-01-01')")
        conn.execute(
            """INSERT INTO documents(id, collection, source_path, content_hash, pipeline_version, format, kind,
                   title, pages, size_bytes, n_chunks, classification, metadata, ingested_at)
               VALUES ('u1', 'c1', '/u1', 'h', 1, 'md', 'generic', 't', NULL, 1, 0, '공개', '{}', '')""")
        assert store.get_document("u1") is not None  # the writer thread sees its own transaction
        assert [d.id for d in store.list_documents()] == ["u1"]
        t = threading.Thread(target=look)
        t.start()
        t.join(30)
        assert other["doc"] is None and float(other["seconds"]) < 5  # type: ignore[arg-type]
    assert store.get_document("u1") is not None
    t = threading.Thread(target=look)
    t.start()
    t.join(30)
    assert other["doc"] is not None

    # the directory, sharing the store's connections: a read inside its transaction, too
    d = store.directory()
    with d._tx() as c:
        c.execute("INSERT INTO departments(name, parent_id, created_at) VALUES ('안전처', NULL, '2026-01-01')")
        assert d.find_department("안전처") is not None
    assert d.find_department("안전처") is not None


def test_many_readers_beside_a_writer(store: SqliteStore) -> None:
    store.put_document(_record("seed"), _chunks("seed", 4))
    d = store.directory()
    d.add_user("kim", clearance="공개")
    errors: list[BaseException] = []
    stop = threading.Event()
    reads = [0]

    def reader() -> None:
        last_gen = -1
        try:
            while not stop.is_set():
                gen = store.generation()
                assert gen >= last_gen  # never an older snapshot than one already seen
                last_gen = gen
                for doc in store.list_documents():
                    chunks = store.chunks_of(doc.id)
                    # a document and its chunks commit together: never seen half-written
                    assert len(chunks) in (0, doc.n_chunks)  # 0: removed by the writer meanwhile
                store.get_chunks([f"seed-{i}" for i in range(4)])
                store.collections()
                assert d.get_user("kim") is not None
                store.index_rows(with_text=False)
                reads[0] += 1
        except BaseException as e:  # collected for the assertion below
            errors.append(e)

    def writer() -> None:
        try:
            for i in range(40):
                store.put_document(_record(f"w{i}"), _chunks(f"w{i}", 1 + i % 5))
                if i % 7 == 3:
                    store.remove_document(f"w{i - 1}")
        except BaseException as e:  # collected for the assertion below
            errors.append(e)

    readers = [threading.Thread(target=reader) for _ in range(8)]
    for t in readers:
        t.start()
    w = threading.Thread(target=writer)
    w.start()
    w.join(120)
    stop.set()
    for t in readers:
        t.join(60)
    assert not errors, errors[:3]
    assert reads[0] > 8
    assert store.check_consistency() == []
    assert len(store._readers) >= 8  # each reader thread had a connection of its own
    # connections of ended threads are closed when the next reader thread opens one
    t = threading.Thread(target=store.generation)
    t.start()
    t.join(30)
    assert len(store._readers) <= 2


def test_close_closes_every_reader_connection(tmp_path: Path) -> None:
    s = SqliteStore(tmp_path / "d")
    conns: list[sqlite3.Connection] = []

    def read() -> None:
        s.list_documents()
        conns.append(s._local.conn)

    ts = [threading.Thread(target=read) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    s.list_documents()
    conns.append(s._local.conn)
    s.close()
    for c in conns:
        with pytest.raises(sqlite3.ProgrammingError):
            c.execute("SELECT 1")
    with pytest.raises(sqlite3.ProgrammingError):
        s.list_documents()


def test_reader_connections_refuse_writes(store: SqliteStore) -> None:
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store._reader().execute("DELETE FROM documents")
