"""Search in PostgreSQL: the pgvector dense leg, filtered searches that do not lose results."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from dasan.store import open_store
from dasan.store.base import DocumentRecord
from dasan.store.ids import PIPELINE_VERSION
from dasan.types import Chunk, Citation


class FakeEmbedder:
    """Deterministic unit vectors with a shared component per topic (clustered, not isotropic)."""

    name = "fake-16"
    dim = 16

    def _vec(self, text: str) -> np.ndarray:
        h = hashlib.sha256(text.encode()).digest()
        v = np.frombuffer(h[:16], dtype=np.uint8).astype(np.float32) - 127.5
        topic = np.zeros(16, dtype=np.float32)
        topic[len(text) % 4] = 300.0
        v = v + topic
        return v / np.linalg.norm(v)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)


@pytest.fixture
def filled(pg_url: str, tmp_path: Path):
    store = open_store(tmp_path, url=pg_url)
    for d in range(30):
        coll = ["a", "b", "c"][d % 3]
        doc = f"doc{d:02d}"
        rec = DocumentRecord(id=doc, collection=coll, source_path=f"/{doc}", content_hash=doc,
                             pipeline_version=PIPELINE_VERSION, format="md", kind="generic", title=doc, pages=None,
                             size_bytes=1, n_chunks=0)
        store.put_document(rec, [Chunk(id=f"{doc}-{i}", document_id=doc, ordinal=i, text=f"{coll} 본문 {d} {i}" + "x" * i,
                                       citation=Citation(label=f"{doc} {i}")) for i in range(12)])
    yield store
    store.close()


def _exact(index, emb: FakeEmbedder, pairs, q: np.ndarray, k: int, mask: np.ndarray | None) -> list[int]:
    m = emb.embed_passages([t for _, t in pairs]) @ q
    if mask is not None:
        m = np.where(mask, m, -np.inf)
    return [int(i) for i in np.argsort(-m, kind="stable")[:k] if np.isfinite(m[i])]


def test_dense_leg_in_the_database_matches_an_exact_search(filled, tmp_path: Path) -> None:
    emb = FakeEmbedder()
    index = filled.dense_index(tmp_path / "index", emb)
    index.hnsw_threshold, index.exact_max = 50, 20  # force every plan on a small table
    pairs = [(r.id, r.text) for r in filled.index_rows()]
    index.publish(index.prepare(pairs))
    assert index.size == 360 and index.missing([cid for cid, _ in pairs]) == set()
    colls = np.array([cid and pairs[i][1][0] for i, (cid, _) in enumerate(pairs)])
    rng = np.random.default_rng(1)
    plans = set()
    for trial in range(12):
        q = emb.embed_queries([f"질문 {trial}" + "y" * trial])[0]
        for mask in (None, colls == "a", (colls == "b") & (np.arange(360) % 10 == 0),
                     rng.random(360) < 0.03):
            got = index.search_vector(q, 10, mask)
            plans.add(index.last_plan)
            want = _exact(index, emb, pairs, q, 10, mask)
            assert [r for r, _ in got] == want or {r for r, _ in got} == set(want)
            if mask is not None:
                assert all(mask[r] for r, _ in got)
                assert len(got) == min(10, int(mask.sum()))  # never silently short
    assert {"hnsw", "filtered-exact", "iterative"} <= plans
    index.hnsw_threshold = 1000  # a small table: exact scans, most rows permitted → scan and check
    for trial in range(5):
        q = emb.embed_queries([f"질문 {trial}"])[0]
        mask = colls != "c"
        got = index.search_vector(q, 10, mask)
        assert index.last_plan == "exact-overfetch"
        assert [r for r, _ in got] == _exact(index, emb, pairs, q, 10, mask)
    # the vectors are shared: a second index (another replica) embeds nothing
    other = filled.dense_index(tmp_path / "index2", emb)
    assert other.missing([cid for cid, _ in pairs]) == set()
    # deleting a document deletes its vectors (foreign key)
    filled.remove_document("doc00")
    assert len(other.missing([cid for cid, _ in pairs])) == 12


def test_retriever_uses_the_store_dense_index(filled, tmp_path: Path) -> None:
    from dasan.index.pgvector import PgDenseIndex
    from dasan.rag.retrieve import RetrievalConfig, Retriever, SearchFilter

    r = Retriever(filled, tmp_path, RetrievalConfig(embedder="e5"))
    r._dense = filled.dense_index(tmp_path / "index", FakeEmbedder())  # no model download in tests
    assert isinstance(r.dense, PgDenseIndex)
    r.refresh()
    assert r.size == 360
    hits = r.search("a 본문 3", k=5, flt=SearchFilter(collections=frozenset({"b"})))
    assert hits and all(h.chunk.id.startswith(("doc01", "doc04", "doc07", "doc10", "doc13", "doc16", "doc19",
                                                 "doc22", "doc25", "doc28")) for h in hits)


def test_bulk_load_of_vectors_equals_row_inserts(filled, pg_server, tmp_path: Path) -> None:
    """An empty vector table is filled with binary COPY and its HNSW index built once: the same
    vectors (to the bit) and search results as row-by-row inserts into the indexed table."""
    from dasan.index.pgvector import PgDenseIndex

    emb = FakeEmbedder()
    pairs = [(r.id, r.text) for r in filled.index_rows()]
    bulk_store = open_store(tmp_path / "b", url=pg_server.fresh_database(f"bulkvec_{abs(hash(str(tmp_path))) % 10**8}"))
    try:
        bulk_store.put_documents([(d, filled.chunks_of(d.id)) for d in filled.list_documents()])
        rows = filled.dense_index(tmp_path / "i1", emb)
        rows.bulk_min = 1000  # more than there are rows: batches
        rows.sync(pairs)
        assert rows.last_load == {}
        bulk = bulk_store.dense_index(tmp_path / "i2", emb)
        assert isinstance(bulk, PgDenseIndex) and bulk.bulk_min is None  # opt-in
        bulk.bulk_min = 100
        bulk.sync(pairs)
        assert bulk.last_load["rows"] == 360 and bulk.last_load["hnsw_build_s"] >= 0
        with bulk_store.db.tx() as c:  # the HNSW index is back, with the requested parameters
            ddl = c.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", (f"{bulk.table}_hnsw",)).fetchone()
        assert ddl and "hnsw" in ddl[0] and "m='16'" in ddl[0] and "ef_construction='64'" in ddl[0]
        assert np.array_equal(bulk.vectors(np.arange(360)), rows.vectors(np.arange(360)))
        assert np.array_equal(bulk.vectors(np.arange(360)), emb.embed_passages([t for _, t in pairs]))
        colls = np.array([t[0] for _, t in pairs])
        for index in (rows, bulk):
            index.hnsw_threshold, index.exact_max = 50, 20
        for trial in range(8):
            q = emb.embed_queries([f"질문 {trial}" + "y" * trial])[0]
            for mask in (None, colls == "a", (colls == "b") & (np.arange(360) % 10 == 0)):
                a, b = rows.search_vector(q, 10, mask), bulk.search_vector(q, 10, mask)
                assert rows.last_plan == bulk.last_plan
                assert [r for r, _ in b] == [r for r, _ in a] or {r for r, _ in b} == set(_exact(
                    bulk, emb, pairs, q, 10, mask))
        # a table that already holds vectors is never bulk loaded (the rows are added one by one)
        assert bulk.bulk_load(pairs[:5]) is False
    finally:
        bulk_store.close()
