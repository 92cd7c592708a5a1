"""Store contract tests (every store backend must pass these)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dasan.store import DocumentRecord, open_store
from dasan.store.ids import PIPELINE_VERSION
from dasan.types import Chunk, Citation, IndexRow


def _record(doc_id: str, path: str = "/x/a.md", collection: str = "c1") -> DocumentRecord:
    return DocumentRecord(
        id=doc_id, collection=collection, source_path=path, content_hash="h" + doc_id,
        pipeline_version=PIPELINE_VERSION, format="md", kind="generic", title="제목", pages=None,
        size_bytes=10, n_chunks=0, metadata={"제목": "가"},
    )


def _chunks(doc_id: str, n: int, label: str = "문서") -> list[Chunk]:
    return [
        Chunk(id=f"{doc_id}-{i}", document_id=doc_id, ordinal=i, text=f"본문 {i}",
              citation=Citation(label=f"{label} 제{i + 1}조", title=label, article=f"제{i + 1}조"))
        for i in range(n)
    ]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else ""
    s = open_store(tmp_path / request.param, url=url)
    yield s
    s.close()


def test_put_get_roundtrip(store) -> None:
    store.put_document(_record("d1"), _chunks("d1", 3, "철도안전법"))
    doc = store.get_document("d1")
    assert doc is not None and doc.n_chunks == 3 and doc.metadata == {"제목": "가"}
    chunks = store.chunks_of("d1")
    assert [c.citation.label for c in chunks] == ["철도안전법 제1조", "철도안전법 제2조", "철도안전법 제3조"]
    assert chunks[0].citation.article == "제1조"
    assert store.collections()[0] | {"created_at": None} == {
        "name": "c1", "level": "공개", "pii_policy": "mask_answer", "created_at": None, "documents": 1, "chunks": 3,
    }


def test_replace_same_source_replaces_chunks(store) -> None:
    store.put_document(_record("d1"), _chunks("d1", 3))
    store.put_document(_record("d2"), _chunks("d2", 1))
    assert store.get_document("d1") is None
    assert [d.id for d in store.list_documents()] == ["d2"]
    assert sum(1 for _ in store.iter_chunks()) == 1


def test_remove_cascades(store) -> None:
    store.put_document(_record("d1"), _chunks("d1", 2))
    store.put_document(_record("d2", "/x/b.md"), _chunks("d2", 2))
    assert store.remove_document("d1") is True
    assert store.remove_document("d1") is False
    assert {c.document_id for c in store.iter_chunks()} == {"d2"}
    assert store.check_consistency() == []


def test_failed_put_leaves_previous_version(store) -> None:
    store.put_document(_record("d1"), _chunks("d1", 2))
    bad = _chunks("d2", 2)
    bad[1].id = bad[0].id  # duplicate primary key: the transaction must roll back
    with pytest.raises(Exception):  # noqa: B017 - StoreError expected, any error must roll back
        store.put_document(_record("d2"), bad)
    assert store.get_document("d1") is not None and store.get_document("d2") is None
    assert len(store.chunks_of("d1")) == 2 and store.check_consistency() == []


def test_citation_lookup_matches_prefix_at_word_boundary(store) -> None:
    store.put_document(_record("d1"), [
        Chunk(id="a", document_id="d1", ordinal=0, text="x", citation=Citation(label="법 제6조 제1항")),
        Chunk(id="b", document_id="d1", ordinal=1, text="y", citation=Citation(label="법 제6조의2")),
        Chunk(id="c", document_id="d1", ordinal=2, text="z", citation=Citation(label="법 제6조")),
    ])
    assert [c.id for c in store.find_chunks_by_citation("법 제6조")] == ["a", "c"]
    assert [c.id for c in store.find_chunks_by_citation("법 제6조의2")] == ["b"]
    # LIKE wildcards in user input are literal
    assert store.find_chunks_by_citation("법 제6조%") == []


def test_migrations_are_numbered_and_idempotent(tmp_path: Path) -> None:
    s = open_store(tmp_path)
    v = s.schema_version()
    s.close()
    assert v >= 1
    s2 = open_store(tmp_path)
    assert s2.schema_version() == v
    s2.close()
    con = sqlite3.connect(tmp_path / "dasan.db")
    versions = [r[0] for r in con.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == list(range(1, v + 1))


def test_generation_increases_with_every_write(store) -> None:
    g0 = store.generation()
    store.put_document(_record("d1"), _chunks("d1", 1))
    g1 = store.generation()
    store.remove_document("d1")
    g2 = store.generation()
    store.remove_document("d1")  # no-op delete still counts as a write attempt; must not decrease
    assert g0 < g1 < g2 <= store.generation()


def test_opening_a_new_store_from_several_threads_at_once(tmp_path: Path) -> None:
    """Each opener migrates the new file; the one that waits for the write lock must see that
    another has applied a migration meanwhile (was 'table … already exists' in 9 of 10 runs)."""
    import threading

    for n in range(10):
        d = tmp_path / f"s{n}"
        errors: list[BaseException] = []
        versions: list[int] = []

        def work(d: Path = d, errors: list[BaseException] = errors, versions: list[int] = versions) -> None:
            try:
                s = open_store(d)
                versions.append(s.schema_version())
                s.close()
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert len(versions) == 4 and len(set(versions)) == 1 and versions[0] >= 4


def test_levels_and_lookups_through_the_contract(store) -> None:
    store.put_document(_record("abc123"), _chunks("abc123", 2))
    store.put_document(_record("abd456", path="/x/b.md"), _chunks("abd456", 1))
    assert sorted(store.resolve_document_id("ab")) == ["abc123", "abd456"]
    assert store.resolve_document_id("abc") == ["abc123"] and store.resolve_document_id("a%") == []
    gen = store.generation()
    assert store.set_document_level("abc123", "민감")
    assert store.generation() > gen  # a level change is a change search must see
    rows = store.index_rows(with_text=False)
    assert all(type(r) is IndexRow for r in rows)  # one typed row from every store, no driver rows
    assert {r.id for r in rows} == {"abc123-0", "abc123-1", "abd456-0"}
    assert {r.classification for r in rows if r.document_id == "abc123"} == {"민감"}
    assert {(r.text, r.context) for r in rows} == {(None, None)}
    full = {r.id: r for r in store.index_rows()}
    assert full["abd456-0"].text == "본문 0" and full["abd456-0"].collection_level == "공개"
    assert store.chunk_texts(["abd456-0"]) == {"abd456-0": "본문 0"}


def test_upload_jobs_through_the_contract(store) -> None:
    from dasan.store.base import JobRecord

    gen = store.generation()
    job = JobRecord("j1", "kim", "c1", "공개", [{"name": "a.txt", "status": "queued"}], created=1.0)
    store.save_job(job)
    store.save_job(JobRecord("j2", "kim", "c1", "공개", [], created=2.0, done=True))
    assert store.generation() == gen  # jobs are not content
    assert [j.id for j in store.open_jobs()] == ["j1"]
    got = store.get_job("j1")
    assert got is not None and got.files == [{"name": "a.txt", "status": "queued"}] and not got.done
    job.done = True
    store.save_job(job)
    assert store.open_jobs() == [] and store.get_job("nope") is None
    assert store.prune_jobs(keep=1) == 1 and store.get_job("j1") is None and store.get_job("j2") is not None


def test_recovering_jobs_claims_them_with_their_audit_trail(store) -> None:
    from dasan.store.base import JobRecord

    trail = {"actor": "kim", "action": "document.upload", "target": "c1", "who": {"via": "api"}, "start_seq": 7}
    store.save_job(JobRecord("j1", "kim", "c1", "공개", [{"name": "a.txt", "status": "running"}], created=1.0,
                             attempts=1, trail=trail))
    store.save_job(JobRecord("j2", "kim", "c1", "공개", [], created=2.0, done=True))
    [got] = store.recover_jobs(60)
    assert got.id == "j1" and got.attempts == 2 and got.trail == trail
    assert store.get_job("j1").attempts == 2 and store.get_job("j2").trail is None
    with store.system_scope():  # the application's own work: every row, on every backend
        assert store.get_job("j1") is not None


def test_principals_directory_through_the_contract(store) -> None:
    d = store.directory()
    d.add_department("안전처")
    d.add_user("kim", clearance="공개", role="user", departments=("안전처",))
    assert store.directory().get_user("kim").departments == ("안전처",)


def _feed(entries) -> list[tuple[str | None, str]]:
    """(document or collection, op) of feed entries, repeats of the same in a row merged (a
    re-level writes one entry per chunk row as well as the document's)."""
    out: list[tuple[str | None, str]] = []
    for e in entries:
        item = (e.document_id or e.collection, e.op)
        if not out or out[-1] != item:
            out.append(item)
    return out


def test_change_feed_numbers_every_index_relevant_change(store) -> None:
    start = store.changes_since(0)
    assert start.entries == [] and start.head == 0 and start.floor == 0 and start.epoch
    store.put_document(_record("d1"), _chunks("d1", 3))
    store.put_document(_record("d2", "/x/b.md"), _chunks("d2", 2))
    store.put_document(_record("d3"), _chunks("d3", 2))  # same source path: replaces d1
    mark = store.changes_since(0).head
    store.set_document_level("d2", "민감")
    store.set_document_embargo("d2", "2099-01-01T09:00:00+09:00", by="tester")
    store.set_collection_level("c1", "기밀")
    store.set_collection_pii_policy("c1", "block")  # no index-relevant change: no entry
    assert store.remove_document("d3")
    ch = store.changes_since(0)
    assert [e.seq for e in ch.entries] == list(range(1, ch.head + 1)) and ch.complete(0)
    assert _feed(ch.entries) == [("d1", "add"), ("d2", "add"), ("d1", "remove"), ("d3", "add"), ("d2", "update"),
                                 ("c1", "collection"), ("d3", "remove")]
    tail = store.changes_since(mark)
    assert tail.complete(mark) and tail.entries == ch.entries[mark:] and tail.epoch == start.epoch
    assert tail.entries[0].document_id == "d2" and tail.entries[0].op == "update"
    # a limit leaves the rest out, and says so; a reader ahead of the feed is not served
    part = store.changes_since(0, limit=2)
    assert len(part.entries) == 2 and not part.complete(0) and part.head == ch.head
    assert not store.changes_since(ch.head + 5).complete(ch.head + 5)
    assert store.changes_since(0, limit=0).entries == [] and store.changes_since(0, limit=0).head == ch.head


def test_change_feed_gap_and_pruning_are_reported(store) -> None:
    store.FEED_KEEP = 3
    for i in range(4):
        store.put_document(_record(f"d{i}", f"/x/{i}.md"), _chunks(f"d{i}", 1))
    ch = store.changes_since(0)
    assert ch.head == 4 and ch.floor == 1 and [e.seq for e in ch.entries] == [2, 3, 4]
    assert not ch.complete(0)  # entry 1 was pruned
    assert store.changes_since(1).complete(1)
    store.FEED_KEEP = 1000
    assert store.remove_document("d3")
    assert store.changes_since(4).complete(4)
    # an entry missing from the middle (here: deleted by hand) is a gap
    if hasattr(store, "_conn"):
        store._conn.execute("DELETE FROM index_feed WHERE seq = 3")
    else:
        with store.db.tx() as c:
            c.execute("DELETE FROM index_feed WHERE seq = 3")
    assert not store.changes_since(1).complete(1) and store.changes_since(3).complete(3)


def test_index_rows_of_documents_and_collections(store) -> None:
    store.put_document(_record("d1"), _chunks("d1", 3))
    store.put_document(_record("d2", "/x/b.md", collection="c2"), _chunks("d2", 2))
    store.put_document(_record("d3", "/x/c.md", collection="c2"), _chunks("d3", 1))
    every = store.index_rows(with_text=False)
    pick = store.index_rows_of(["d1"], ["c2"])
    assert pick == every and all(type(r) is IndexRow for r in pick)
    assert [r.id for r in store.index_rows_of(["d3", "d1"])] == ["d1-0", "d1-1", "d1-2", "d3-0"]
    assert store.index_rows_of(["nope"]) == [] and store.index_rows_of([], []) == []


def _open_pair(request: pytest.FixtureRequest, backend: str, tmp_path: Path):
    """Two empty stores of one backend (for PostgreSQL: two fresh databases)."""
    if backend == "postgresql":
        server = request.getfixturevalue("pg_server")
        urls = [server.fresh_database(f"bulk{i}_{abs(hash(str(tmp_path))) % 10**8}") for i in range(2)]
    else:
        urls = ["", ""]
    return [open_store(tmp_path / f"{backend}{i}", url=u) for i, u in enumerate(urls)]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_bulk_put_documents_equals_put_document(request: pytest.FixtureRequest, backend: str,
                                                tmp_path: Path) -> None:
    from dasan.rag.retrieve import RetrievalConfig, Retriever, SearchFilter

    one, bulk = _open_pair(request, backend, tmp_path)
    try:
        words = ["철도", "안전", "점검", "보고", "화재", "대피", "교육", "시설"]
        items = []
        for d in range(24):
            rec = _record(f"d{d:02d}", f"/x/{d}.md", collection=f"c{d % 3}")
            rec.classification = "민감" if d % 4 == 0 else "공개"
            chunks = _chunks(rec.id, 1 + d % 5, label=f"법{d}")
            for i, c in enumerate(chunks):
                c.text = f"{words[(d + i) % 8]} {words[(d * 3 + i) % 8]} 조문 {d} {i} \x00끝" if d == 5 else \
                    f"{words[(d + i) % 8]} {words[(d * 3 + i) % 8]} 조문 {d} {i}"
                c.classification = rec.classification
                c.meta = {"n": i}
            items.append((rec, chunks))
        for rec, chunks in items:
            one.put_document(DocumentRecord(**rec.__dict__), [Chunk(**c.__dict__) for c in chunks])
        stale = _record("old", "/x/3.md", collection="c0")  # same source as d03: replaced by the bulk load
        bulk.put_document(stale, _chunks("old", 2))
        bulk.put_documents(items[:10])
        bulk.put_documents(items[10:])
        assert bulk.get_document("old") is None
        for s in (one, bulk):
            assert s.check_consistency() == []
        assert [d.id for d in bulk.list_documents()] == [d.id for d in one.list_documents()]
        assert [(d.n_chunks, d.classification, d.metadata) for d in bulk.list_documents()] == \
            [(d.n_chunks, d.classification, d.metadata) for d in one.list_documents()]
        assert sum(1 for _ in bulk.iter_chunks()) == sum(1 for _ in one.iter_chunks()) == 70
        for rec, _ in items:
            assert bulk.chunks_of(rec.id) == one.chunks_of(rec.id)
        assert bulk.index_rows() == one.index_rows()
        # the same collections (their creation times are those of each store's own writes)
        assert [{k: v for k, v in c.items() if k != "created_at"} for c in bulk.collections()] == \
            [{k: v for k, v in c.items() if k != "created_at"} for c in one.collections()]
        hits = {}
        for name, s in (("one", one), ("bulk", bulk)):
            r = Retriever(s, tmp_path / f"idx-{name}", RetrievalConfig(embedder=None))
            r.refresh()
            hits[name] = [[(h.chunk.id, round(h.score, 6)) for h in r.search(q, k=8, flt=f)]
                          for q in ("철도 안전", "화재 대피 교육", "시설 점검 보고")
                          for f in (None, SearchFilter(collections=frozenset({"c1"})), SearchFilter(max_level="공개"))]
        assert hits["bulk"] == hits["one"] and any(hits["one"])
        dup = _chunks("dx", 2)
        dup[1].id = dup[0].id  # a duplicate id: nothing of the batch is stored
        with pytest.raises(Exception):  # noqa: B017 - StoreError expected
            bulk.put_documents([(_record("dy", "/x/y.md"), _chunks("dy", 1)), (_record("dx", "/x/x.md"), dup)])
        assert bulk.get_document("dy") is None and bulk.get_document("dx") is None
    finally:
        one.close()
        bulk.close()
