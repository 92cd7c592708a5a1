"""Incremental index updates (issue 14 item 2): adding or removing documents appends rows and
tombstones old ones instead of rebuilding, and every search over the result equals a search
over a full rebuild of the same chunks — lexical, dense and hybrid, with access filters."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_path

from dasan.index.dense import DenseIndex
from dasan.index.lexical import LexicalIndex
from dasan.ingest.pipeline import ingest_paths
from dasan.rag.retrieve import RetrievalConfig, Retriever, SearchFilter
from dasan.store import open_store

QUERIES = ["청년정책조정위원회의 구성", "청년 고용 촉진", "비상 연락망 보관 절차", "철도 차량 정비 기록", "위원장 임기"]
FILTERS = [None, SearchFilter(max_level="공개"), SearchFilter(collection="extra"), SearchFilter(kinds=("law",)),
           SearchFilter(collections=frozenset({"laws"}), max_level="민감")]


class HashEmbedder:
    """Deterministic character-bigram vectors (no model): fast, and the same text gives the same vector."""

    name = "hash-test"
    dim = 64

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for a, b in itertools.pairwise(text):
            v[int.from_bytes(hashlib.md5((a + b).encode()).digest()[:2], "little") % self.dim] += 1.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._one(t) for t in texts])


def _doc(tmp_path: Path, n: int) -> Path:
    p = tmp_path / "docs" / f"extra-{n}.txt"
    p.parent.mkdir(exist_ok=True)
    lines = [f"청년 정책 비상 연락망 제{n}호 보관 절차와 위원장 임기 {n}년.",
             f"철도 차량 정비 기록 {n}건은 청년 고용 촉진 위원회가 검토한다.",
             "청년정책조정위원회의 구성은 " + "위원 " * (n % 5 + 1) + "으로 한다."]
    p.write_text("\n\n".join(lines[: 1 + n % 3]) + "\n", encoding="utf-8")
    return p


def _retriever(store, d: Path, *, hnsw: bool = False) -> Retriever:
    r = Retriever(store, d, RetrievalConfig(embedder="hash", model=None))
    r._dense = DenseIndex(d / "index", HashEmbedder(), hnsw_threshold=0 if hnsw else 1 << 40)
    r.REFRESH_RETRY_S = 0.0
    r.INCREMENTAL_SHARE = r.COMPACT_SHARE = 1.0  # always incremental unless a test says otherwise
    return r


def _results(r: Retriever, k: int = 10, modes: tuple[str, ...] = ("lexical", "dense", "hybrid")) -> list:
    out = []
    for q in QUERIES:
        for flt in FILTERS:
            for mode in modes:
                ranked = [(round(s, 5), r.chunk_id(row)) for row, s, _ in r.rank(q, k, flt, mode)]
                out.append(_untied(ranked, k))
    return out


def _untied(ranked: list[tuple[float, str]], k: int) -> list[tuple[float, str]]:
    """Equal scores in chunk-id order (their order is row order, which differs between an updated
    index and a rebuilt one); a group tied at the k-th score is left out (either may be cut)."""
    if len(ranked) == k:
        ranked = [x for x in ranked if x[0] != ranked[-1][0]]
    return sorted(ranked, key=lambda x: (-x[0], x[1]))


def _assert_same_as_full(r: Retriever, store, tmp_path: Path, name: str, hnsw: bool = False) -> None:
    fresh = _retriever(store, tmp_path / name, hnsw=hnsw)
    fresh.refresh()
    assert fresh.last_build == "full"
    if not hnsw:
        assert _results(r) == _results(fresh)
    else:
        # HNSW is approximate and its graph build multi-threaded (not deterministic): a graph
        # grown by insertion and one built at once may each miss a different neighbour. BM25
        # stays exact; each dense and hybrid list misses at most one of the exact scan's.
        assert _results(r, modes=("lexical",)) == _results(fresh, modes=("lexical",))
        exact = _retriever(store, tmp_path / f"{name}-exact")
        exact.refresh()
        truth = _results(exact, modes=("dense", "hybrid"))
        for got in (_results(r, modes=("dense", "hybrid")), _results(fresh, modes=("dense", "hybrid"))):
            for a, b in zip(got, truth, strict=True):
                assert len({x[1] for x in b} - {x[1] for x in a}) <= 1, (a, b)
    assert r.lexical.bm25.n_live == fresh.lexical.bm25.n == fresh.size


def _add(store, tmp_path: Path, n: int, level: str = "공개") -> str:
    rep = ingest_paths(store, [_doc(tmp_path, n)], collection="extra", classification=level)
    [doc_id] = [f.document_id for f in rep.results if f.document_id]
    return doc_id


@pytest.mark.parametrize("hnsw", [False, True])
def test_adds_removes_and_relevels_match_a_full_rebuild(store_dir: Path, tmp_path: Path, hnsw: bool) -> None:
    store = open_store(store_dir)
    r = _retriever(store, store_dir, hnsw=hnsw)
    r.refresh()
    assert r.last_build == "full" and r.dense.hnsw_active == hnsw
    base = r.size
    docs = [_add(store, tmp_path, n, "민감" if n % 2 else "공개") for n in range(4)]
    r.refresh()
    assert r.last_build == "incremental" and r.size > base
    _assert_same_as_full(r, store, tmp_path, "full-1", hnsw)
    store.remove_document(docs[1])
    store.set_document_level(docs[2], "기밀")
    law = next(d.id for d in store.list_documents("laws"))
    store.remove_document(law)  # a whole statute file gone: rows in the middle of the base
    docs.append(_add(store, tmp_path, 7))
    r.refresh()
    assert r.last_build == "incremental" and r._live is not None and not r._live.all()
    assert r.lexical.bm25.delta_rows > 0
    _assert_same_as_full(r, store, tmp_path, "full-2", hnsw)
    store.set_document_level(docs[0], "민감")  # a level change alone: no rows change
    r.refresh()
    assert r.last_build == "access"
    _assert_same_as_full(r, store, tmp_path, "full-3", hnsw)
    # a removed document added again comes back as new rows
    store.remove_document(docs[3])
    r.refresh()
    _add(store, tmp_path, 3, "민감")
    r.refresh()
    assert r.last_build == "incremental"
    _assert_same_as_full(r, store, tmp_path, "full-4", hnsw)


def test_tombstoned_rows_are_never_returned(store_dir: Path, tmp_path: Path) -> None:
    store = open_store(store_dir)
    r = _retriever(store, store_dir)
    r.refresh()
    docs = [_add(store, tmp_path, n) for n in range(3)]
    r.refresh()
    gone = {c.id for d in docs[:2] for c in store.chunks_of(d)}
    for d in docs[:2]:
        store.remove_document(d)
    r.refresh()
    assert r.last_build == "incremental"
    live = r.size - int((~r._live).sum())
    for mode in ("lexical", "dense", "hybrid"):
        for flt in (None, SearchFilter(collection="extra"), SearchFilter(max_level="기밀")):
            ranked = r.rank("청년 정책 비상 연락망 보관 절차 위원장 임기", k=r.size + 50, flt=flt, mode=mode)
            ids = {r.chunk_id(row) for row, _, _ in ranked}
            assert ids and not ids & gone and len(ranked) <= live
    assert all(r._row(cid) is None for cid in gone)
    assert r.document_chunks([c.id for c in store.chunks_of(docs[2])])  # the live one reads whole
    assert not r.article_chunks(sorted(gone))


@pytest.mark.parametrize("leg", ["lexical", "dense"])
def test_a_failing_incremental_update_keeps_the_old_snapshot(store_dir: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch, leg: str) -> None:
    store = open_store(store_dir)
    r = _retriever(store, store_dir)
    r.refresh()
    before, size, bm25 = _results(r), r.size, r.lexical.bm25

    def broken(*_a, **_k):
        raise RuntimeError("tokenizer crashed" if leg == "lexical" else "embedding server down")

    if leg == "lexical":
        monkeypatch.setattr(r.lexical, "batch_tokenizer", broken)
    else:
        monkeypatch.setattr(r.dense.embedder, "embed_passages", broken)
    doc = _add(store, tmp_path, 5)
    assert _results(r) == before  # the refresh fails inside; searches go on with the old state
    assert r.last_refresh_error and ("crashed" in r.last_refresh_error or "down" in r.last_refresh_error)
    assert r.size == size and r.lexical.bm25 is bm25 and r._live is None
    assert len(r._levels) == len(r._group) == len(r.dense.ids) == r.size
    monkeypatch.undo()
    r.refresh()
    assert r.last_refresh_error is None and r.last_build == "incremental"
    assert {c.id for c in store.chunks_of(doc)} <= set(r._ids)
    _assert_same_as_full(r, store, tmp_path, "full", False)


def test_restart_after_incremental_updates_serves_the_same(store_dir: Path, tmp_path: Path) -> None:
    store = open_store(store_dir)
    r = _retriever(store, store_dir)
    r.refresh()
    docs = [_add(store, tmp_path, n) for n in range(3)]
    r.refresh()
    store.remove_document(docs[0])
    r.refresh()
    assert r.last_build == "incremental"
    want = _results(r)
    r.dense.close()
    again = _retriever(open_store(store_dir), store_dir)  # same data dir: the on-disk caches
    again.refresh()
    assert again.last_build == "full" and _results(again) == want
    embedded = []
    again.dense.embedder.embed_passages = lambda texts: embedded.append(texts) or HashEmbedder().embed_passages(texts)
    fresh = _retriever(open_store(store_dir), store_dir)
    fresh._dense.embedder = again.dense.embedder
    fresh.refresh()
    assert not embedded  # everything came from the caches


def test_large_changes_and_many_tombstones_rebuild_in_full(store_dir: Path, tmp_path: Path) -> None:
    store = open_store(store_dir)
    r = _retriever(store, store_dir)
    r.INCREMENTAL_SHARE, r.COMPACT_SHARE = 0.1, 0.2
    r.refresh()
    _add(store, tmp_path, 1)
    r.refresh()
    assert r.last_build == "incremental"
    for d in store.list_documents("laws")[:-1]:  # most of the store removed
        store.remove_document(d.id)
    r.refresh()
    assert r.last_build == "full" and r._live is None and r.lexical.bm25.delta_rows == 0
    _assert_same_as_full(r, store, tmp_path, "full", False)


def test_two_indexes_on_one_directory_never_append_over_each_other(store_dir: Path, tmp_path: Path) -> None:
    """Two processes (here: two retrievers) on one index directory: the row-ordered vector file
    is appended to only by a state that owns all of it; the other rebuilds in full."""
    store = open_store(store_dir)
    a, b = _retriever(store, store_dir), _retriever(open_store(store_dir), store_dir)
    a.refresh()
    b.refresh()
    _add(store, tmp_path, 1)
    a.refresh()
    b.refresh()
    assert a.last_build == "incremental" and b.last_build == "full"
    _add(store, tmp_path, 2)
    a.refresh()  # its file was replaced by b's rebuild
    assert a.last_build == "full"
    _assert_same_as_full(a, store, tmp_path, "full-a", False)
    _assert_same_as_full(b, store, tmp_path, "full-b", False)


def _ids_found(r: Retriever, flt: SearchFilter | None) -> set[str]:
    ids: set[str] = set()
    for mode in ("lexical", "dense", "hybrid"):
        ranked = r.rank("청년 정책 비상 연락망 보관 절차 위원장 임기", k=r.size + 50, flt=flt, mode=mode)
        ids |= {r.chunk_id(row) for row, _, _ in ranked}
    return ids


def test_updates_come_from_the_change_feed(store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first build, adds and removals read only the changed documents' rows."""
    store = open_store(store_dir)
    r = _retriever(store, store_dir)
    r.refresh()
    assert r.last_diff == "rows" and r.last_build == "full" and r._feed is not None

    def no_full_read(*_a, **_k):
        raise AssertionError("every row read")

    monkeypatch.setattr(store, "index_rows", no_full_read)
    docs = [_add(store, tmp_path, n, "민감" if n % 2 else "공개") for n in range(3)]
    r.refresh()
    assert (r.last_diff, r.last_build) == ("feed", "incremental") and "feed" in r.build_ms
    assert r._feed == (store.changes_since(0, limit=0).epoch, store.changes_since(0, limit=0).head)
    store.remove_document(docs[0])
    law = next(d.id for d in store.list_documents("laws"))
    store.remove_document(law)
    r.refresh()
    assert (r.last_diff, r.last_build) == ("feed", "incremental")
    store.set_collection_pii_policy("extra", "block")  # the generation moves, nothing indexed changes
    r.refresh()
    assert (r.last_diff, r.last_build) == ("feed", "access")
    monkeypatch.undo()
    # the state equals a full build: the same chunks (fingerprint) and the same results
    assert r._fp == r.lexical.fingerprint == r.dense.fingerprint == \
        LexicalIndex.fingerprint_of([x.id for x in store.index_rows(with_text=False)])
    _assert_same_as_full(r, store, tmp_path, "full", False)


@pytest.mark.parametrize("change", ["document", "collection", "embargo"])
def test_a_relevel_through_the_feed_hides_the_document_from_a_restricted_filter(
        store_dir: Path, tmp_path: Path, change: str) -> None:
    store = open_store(store_dir)
    r = _retriever(store, store_dir)
    r.refresh()
    doc = _add(store, tmp_path, 1, "공개")
    r.refresh()
    mine = {c.id for c in store.chunks_of(doc)}
    public = SearchFilter(max_level="공개")
    assert mine <= _ids_found(r, public)
    if change == "document":
        store.set_document_level(doc, "민감")
    elif change == "collection":
        store.set_collection_level("extra", "민감")
    else:  # a press release's 보도시점 set in the future: 민감 until then
        store._conn.execute("UPDATE chunks SET meta = json_set(meta, '$.embargo', '2000-01-01') WHERE document_id = ?",
                            (doc,))
        r.refresh()
        store.set_document_embargo(doc, "2099-01-01T09:00:00+09:00", by="tester")
    r.refresh()
    assert (r.last_diff, r.last_build) == ("feed", "access")
    assert not mine & _ids_found(r, public)  # never served to a 공개 reader after the change
    assert mine <= _ids_found(r, SearchFilter(max_level="민감"))
    assert all(r.level_of(cid) == 1 for cid in mine)
    _assert_same_as_full(r, store, tmp_path, "full", False)


@pytest.mark.parametrize("break_feed", ["gap", "pruned", "epoch", "generation"])
def test_an_untrustworthy_feed_forces_reading_every_row(store_dir: Path, tmp_path: Path, break_feed: str) -> None:
    store = open_store(store_dir)
    r = _retriever(store, store_dir)
    r.refresh()
    doc = _add(store, tmp_path, 1)
    r.refresh()
    assert r.last_diff == "feed"
    # a re-level and an add whose feed entries cannot be trusted
    store.set_document_level(doc, "기밀")
    _add(store, tmp_path, 2, "민감")
    head = store.changes_since(0, limit=0).head
    if break_feed == "gap":
        store._conn.execute("DELETE FROM index_feed WHERE seq = ?", (head - 1,))
    elif break_feed == "pruned":
        store._conn.execute("UPDATE store_state SET feed_floor = ?", (head - 1,))
        store._conn.execute("DELETE FROM index_feed WHERE seq < ?", (head,))
    elif break_feed == "epoch":  # another store (a copy restored, a database re-created)
        store._conn.execute("UPDATE store_state SET feed_epoch = 'another'")
    else:  # the store went back (a backup restored): its generation is behind the index's
        r._snap = replace(r.snapshot, gen=r.snapshot.gen + 1000)
    r.refresh()
    assert r.last_diff == "rows" and r.feed_fallback == break_feed and r.last_build == "incremental"
    assert r._feed[1] == head
    assert not {c.id for c in store.chunks_of(doc)} & _ids_found(r, SearchFilter(max_level="민감"))
    _assert_same_as_full(r, store, tmp_path, "full", False)
    _add(store, tmp_path, 3)
    r.refresh()
    assert r.last_diff == "feed"  # trusted again from the position read with the rows
    _assert_same_as_full(r, store, tmp_path, "full-2", False)


def test_a_feed_gap_gives_the_same_index_as_a_full_build(store_dir: Path, tmp_path: Path) -> None:
    store = open_store(store_dir)
    r = _retriever(store, store_dir)
    r.INCREMENTAL_SHARE = -1.0  # every change rebuilt in full: the feed is never applied
    r.refresh()
    g = _retriever(store, tmp_path / "g")
    g.refresh()
    docs = [_add(store, tmp_path, n) for n in range(3)]
    store.remove_document(docs[1])
    store._conn.execute("DELETE FROM index_feed WHERE seq = (SELECT MAX(seq) FROM index_feed)")
    r.refresh()
    g.refresh()
    assert r.last_build == "full" and g.feed_fallback == "gap" and g.last_diff == "rows"
    assert _results(g) == _results(r)


def test_the_change_feed_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    """The lexical leg (a PostgreSQL store keeps the dense leg itself: pgvector, rebuilt)."""
    store = open_store(tmp_path / "pg", url=pg_url)
    ingest_paths(store, [shared_path("data", "laws", "청년기본법")], recursive=True, collection="laws")
    r = Retriever(store, tmp_path / "pg", RetrievalConfig(embedder=None, model=None))
    r.INCREMENTAL_SHARE = r.COMPACT_SHARE = 1.0
    r.refresh()
    assert r.last_build == "full" and r._feed is not None
    doc = _add(store, tmp_path, 1)
    r.refresh()
    assert (r.last_diff, r.last_build) == ("feed", "incremental")
    mine = {c.id for c in store.chunks_of(doc)}
    public = SearchFilter(max_level="공개")
    found = {r.chunk_id(row) for row, _, _ in r.rank("청년 정책 비상 연락망", k=200, flt=public, mode="lexical")}
    assert mine <= found
    store.set_document_level(doc, "민감")
    r.refresh()
    assert (r.last_diff, r.last_build) == ("feed", "access")
    found = {r.chunk_id(row) for row, _, _ in r.rank("청년 정책 비상 연락망", k=200, flt=public, mode="lexical")}
    assert not mine & found
    fresh = Retriever(store, tmp_path / "pg-fresh", RetrievalConfig(embedder=None, model=None))
    fresh.refresh()
    assert fresh._fp == r._fp
    for flt in FILTERS:
        a = [(round(s, 5), r.chunk_id(x)) for x, s, _ in r.rank("청년 고용 촉진", 10, flt, "lexical")]
        b = [(round(s, 5), fresh.chunk_id(x)) for x, s, _ in fresh.rank("청년 고용 촉진", 10, flt, "lexical")]
        assert _untied(a, 10) == _untied(b, 10)
    store.close()


def test_hnsw_rows_added_in_place_stay_unseen_until_published(store_dir: Path, tmp_path: Path) -> None:
    """A small append inserts into the graph the published state searches (no copy of the
    graph); that state never returns the new rows, and a state never published leaves the graph
    ahead of the index: the next update rebuilds in full."""
    store = open_store(store_dir)
    r = _retriever(store, store_dir, hnsw=True)
    r.refresh()
    graph, n0 = r.dense._hnsw, r.size
    _add(store, tmp_path, 1)
    built = r.build()
    assert r.last_build == "incremental" and built.dense._hnsw is graph and len(graph) > n0
    for q in QUERIES:
        assert all(row < n0 for row, _ in r.dense.search_vector(r.dense.embed_query(q), 50))
    r.publish(built)
    assert {row for q in QUERIES for row, _ in r.dense.search_vector(r.dense.embed_query(q), r.size)} >= \
        set(range(n0, r.size))
    _add(store, tmp_path, 2)
    r.build()  # built, never published: the graph holds rows the index does not
    r.refresh()
    assert r.last_build == "full" and len(r.dense._hnsw) == r.size
    _assert_same_as_full(r, store, tmp_path, "full", True)


def test_a_relevel_through_the_feed_with_the_stores_own_dense_leg(pg_url: str, tmp_path: Path) -> None:
    """pgvector takes no appends (changed chunks rebuild), but a re-level needs no rows changed:
    it comes from the feed all the same."""
    from dasan.index.pgvector import PgDenseIndex

    store = open_store(tmp_path / "pg", url=pg_url)
    ingest_paths(store, [shared_path("data", "laws", "청년기본법")], recursive=True, collection="laws")
    r = Retriever(store, tmp_path / "pg", RetrievalConfig(embedder="hash", model=None))
    r._dense = PgDenseIndex(store.db, tmp_path / "pg" / "index", HashEmbedder())
    r.refresh()
    doc = _add(store, tmp_path, 1)
    r.refresh()
    assert r.last_build == "full" and r.feed_fallback == "state"
    store.set_document_level(doc, "기밀")
    r.refresh()
    assert (r.last_diff, r.last_build) == ("feed", "access")
    mine = {c.id for c in store.chunks_of(doc)}
    assert not mine & _ids_found(r, SearchFilter(max_level="민감"))
    assert mine <= _ids_found(r, SearchFilter(max_level="기밀"))
    store.close()
