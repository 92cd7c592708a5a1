"""Dense index: int8 storage with exact rescoring, forced HNSW, filters, compact per-row columns."""

from __future__ import annotations

import hashlib
import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_path

from dasan.index.columns import NO_DATE, IdList, date_key, release_free_memory
from dasan.index.dense import DenseIndex
from dasan.ingest.pipeline import ingest_paths
from dasan.rag.retrieve import RetrievalConfig, Retriever, SearchFilter
from dasan.store import open_store
from dasan.types import article_key

DIM = 384
_COMMON = np.random.default_rng(7).standard_normal(DIM)
_TOPICS = np.random.default_rng(8).standard_normal((12, DIM))


class FakeEmbedder:
    """Deterministic unit vectors shaped like e5's: a strong shared direction, a topic, noise."""

    name = "fake-e5"
    dim = DIM

    def __init__(self, thread_safe: bool = False) -> None:
        self.thread_safe = thread_safe
        self.embedded = 0

    def vec(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        v = 4 * _COMMON + _TOPICS[seed % 12] * 1.5 + np.random.default_rng(seed).standard_normal(DIM)
        return (v / np.linalg.norm(v)).astype(np.float32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.embedded += len(texts)
        return np.stack([self.vec(t) for t in texts])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)


def corpus(n: int, start: int = 0) -> list[tuple[str, str]]:
    return [(f"{i:032x}", f"문서 {i} 철도 안전 " * (1 + i % 5)) for i in range(start, start + n)]


def exact_scores(emb: FakeEmbedder, pairs, q: np.ndarray, mask=None) -> np.ndarray:
    s = np.stack([emb.vec(t) for _, t in pairs]).astype(np.float64) @ q.astype(np.float64)
    return s if mask is None else np.where(mask, s, -np.inf)


def exact_top(emb: FakeEmbedder, pairs, q: np.ndarray, k: int, mask=None) -> list[int]:
    s = exact_scores(emb, pairs, q, mask)
    return [int(i) for i in np.lexsort((np.arange(len(s)), -s))[:k] if np.isfinite(s[i])]


def assert_exact_top(got: list[tuple[int, float]], emb: FakeEmbedder, pairs, q: np.ndarray, k: int,
                     mask=None) -> None:
    """``got`` is a float32 scan's top-k: exact scores, descending, nothing better left out
    (orders may differ only between scores equal to float32 rounding)."""
    s = exact_scores(emb, pairs, q, mask)
    truth = exact_top(emb, pairs, q, k, mask)
    assert len(got) == len(truth)
    np.testing.assert_allclose([v for _, v in got], s[[r for r, _ in got]], atol=1e-6)
    assert all(a[1] >= b[1] for a, b in itertools.pairwise(got))
    np.testing.assert_allclose(sorted((v for _, v in got), reverse=True), s[truth], atol=1e-6)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    emb = FakeEmbedder()
    pairs = corpus(3000)
    d = DenseIndex(tmp_path_factory.mktemp("dense"), emb)
    d.sync(pairs)
    return d, emb, pairs


def test_int8_scan_plus_rescoring_equals_float32_scan(built) -> None:
    d, emb, pairs = built
    rng = np.random.default_rng(0)
    mask = rng.random(len(pairs)) < 0.3
    for j in range(15):
        q = emb.vec(f"질문 {j}")
        for k in (10, 120):
            assert_exact_top(d.search_vector(q, k), emb, pairs, q, k)
        assert_exact_top(d.search_vector(q, 10, mask), emb, pairs, q, 10, mask)
    assert d.search_vector(q, 10, np.zeros(len(pairs), dtype=bool)) == []


def test_vectors_are_stored_compactly(built) -> None:
    d, emb, pairs = built
    assert d.codes.dtype == np.int8 and d.codes.shape == (3000, DIM)
    assert d.nbytes() / d.size < 450  # 384 codes + scale + packed id, vs 1,536 bytes of float32
    q = emb.vec("질문")
    exact = np.stack([emb.vec(t) for _, t in pairs]) @ q
    assert np.abs(d.approx_scores(q) - exact).max() < 0.003
    np.testing.assert_array_equal(d.vectors([5, 0, 5]), np.stack([emb.vec(pairs[i][1]) for i in (5, 0, 5)]))


def test_forced_hnsw_filters_and_switching(tmp_path: Path) -> None:
    emb = FakeEmbedder()
    pairs = corpus(2500)
    d = DenseIndex(tmp_path, emb, hnsw_threshold=0)
    d.sync(pairs)
    assert d.hnsw_active and len(list(tmp_path.glob("dense-*.usearch"))) == 1
    recall = []
    half = np.arange(len(pairs)) % 2 == 0
    for j in range(10):
        q = emb.vec(f"질문 {j}")
        truth = set(exact_top(emb, pairs, q, 10))
        got = d.search_vector(q, 10)
        recall.append(len(truth & {r for r, _ in got}) / 10)
        # results are exact cosines, whatever found the candidates
        np.testing.assert_allclose([s for _, s in got], [float(emb.vec(pairs[r][1]) @ q) for r, _ in got], atol=1e-6)
        assert all(half[r] for r, _ in d.search_vector(q, 10, half))  # filter applied before the cut
        assert len(d.search_vector(q, 10, half)) == 10
    assert np.mean(recall) >= 0.9
    d.set_hnsw_threshold(10**9)
    assert not d.hnsw_active
    assert_exact_top(d.search_vector(q, 10), emb, pairs, q, 10)
    d.close()
    # a new process reuses the saved graph and vector file
    again = DenseIndex(tmp_path, emb, hnsw_threshold=0)
    before = emb.embedded
    again.sync(pairs)
    assert again.hnsw_active and emb.embedded == before


def test_resync_embeds_only_new_chunks_and_forgets_removed(tmp_path: Path) -> None:
    emb = FakeEmbedder(thread_safe=True)  # pipelined embedding calls
    d = DenseIndex(tmp_path, emb, batch=16)
    d.sync(corpus(400))
    assert emb.embedded == 400
    pairs = corpus(300) + corpus(50, start=1000)
    d.sync(pairs)
    assert emb.embedded == 450
    assert d.size == 350 and d.ids[300] == f"{1000:032x}"
    q = emb.vec("질문")
    assert_exact_top(d.search_vector(q, 20), emb, pairs, q, 20)
    assert len(list(tmp_path.glob("dense-*.f32"))) == 1  # the previous chunk set's file is gone


def test_pipelined_e5_embedding_is_identical(tmp_path: Path) -> None:
    from dasan.index.embed.e5 import E5Embedder

    e5 = E5Embedder()
    pairs = [(f"{i:032x}", f"제{i}조 철도운영자는 안전관리체계를 유지하여야 한다. " * (1 + i % 3)) for i in range(24)]
    out = []
    for safe in (False, True):
        e5.thread_safe = safe
        d = DenseIndex(tmp_path / str(safe), e5, batch=4)
        d.sync(pairs)
        out.append(d.vectors(np.arange(len(pairs))))
    np.testing.assert_array_equal(out[0], out[1])


def test_empty_index(tmp_path: Path) -> None:
    d = DenseIndex(tmp_path, FakeEmbedder())
    assert d.search_vector(np.ones(DIM, dtype=np.float32), 10) == []
    assert d.vectors([]).shape == (0, DIM)
    d.sync([])
    assert d.size == 0 and d.search_vector(np.ones(DIM, dtype=np.float32), 10) == []


def test_idlist_and_date_keys() -> None:
    ids = IdList([f"{i:032x}" for i in range(100)])
    assert len(ids) == 100 and ids[7] == f"{7:032x}" and ids[-1] == f"{99:032x}"
    assert ids[2:4] == [f"{2:032x}", f"{3:032x}"] and list(ids)[50] == f"{50:032x}"
    assert ids.nbytes() == 3200
    mixed = IdList(["a", "가나다", "bc"])
    assert list(mixed) == ["a", "가나다", "bc"] and mixed[1] == "가나다"
    with pytest.raises(IndexError):
        mixed[3]
    assert date_key("2026-04-14") == 20260414 and date_key("2026.4.1") == 20260401 == date_key("20260401")
    assert date_key("2026-13-01") == NO_DATE and date_key("어제") == NO_DATE
    assert date_key("2026") == 20260000 and date_key("2026", high=True) == 20269999
    assert date_key("") == NO_DATE and date_key("2026-06") == 20260600
    release_free_memory()  # never fails, even where malloc_trim is missing


def test_usearch_import_before_onnxruntime_is_safe() -> None:
    code = "from dasan.index.dense import _import_usearch; _import_usearch(); import onnxruntime; print('ok')"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr


def test_retriever_columns_are_compact(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    ingest_paths(store, [shared_path("data", "laws", "청년기본법")], recursive=True, collection="laws")
    r = Retriever(store, tmp_path, RetrievalConfig(embedder=None))
    r.refresh()
    rows = store.index_rows()
    assert isinstance(r._ids, IdList) and [r.chunk_id(i) for i in range(r.size)] == [x.id for x in rows]
    assert r._group.dtype == np.int32 and r._dates.dtype == np.int32
    assert len({id(f) for f in r._family}) == len(set(r._family))  # one str object per family
    # chunks of one article share a group; different articles do not
    keys = [(x.document_id, article_key(x.citation)) for x in rows]
    assert len(set(keys)) == len(set(r._group.tolist())) > 20
    assert all((keys[i] == keys[j]) == (r._group[i] == r._group[j]) for i in range(len(keys)) for j in (0, i - 1))
    hits = r.search("청년정책", k=5, flt=SearchFilter(date_from="2000", date_to="2999"))
    assert hits and r.search("청년정책", k=5, flt=SearchFilter(date_to="1999")) == []
    assert r.search("청년정책", k=5, flt=SearchFilter(date_from="어제")) == []
