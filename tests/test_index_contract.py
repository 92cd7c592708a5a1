"""The contract every search-leg implementation keeps (dasan/index/legs.py): the embedded BM25
index, the embedded dense index (int8 scan and HNSW) and the pgvector dense index each find a
chunk by its own text, apply a filter before the top-k cut, and after chunks are added and
removed (an append where the leg takes one, else a new build) search exactly like a full build
over the chunks that are left."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_index_incremental import HashEmbedder

from dasan.index.dense import DenseIndex
from dasan.index.legs import AppendableDenseLeg, DenseLeg, LexicalLeg
from dasan.index.lexical import LexicalIndex, top_k
from dasan.store import DocumentRecord, open_store
from dasan.store.ids import PIPELINE_VERSION
from dasan.types import Chunk, Citation

WORDS = ["청년", "정책", "위원회", "구성", "철도", "안전", "점검", "기록", "보관", "절차", "임기", "고용", "촉진", "연락망"]
QUERIES = ["청년 정책 위원회", "철도 안전 점검 기록", "보관 절차 임기", "고용 촉진 연락망 청년"]


def _cid(i: int) -> str:
    return hashlib.md5(f"chunk-{i}".encode()).hexdigest()


def _text(i: int) -> str:
    words = [WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(3 + i % 5)]
    return " ".join(words) + f" 표식{i}호"


CHUNKS = [(_cid(i), _text(i)) for i in range(60)]


def _split(text: str) -> list[str]:
    return text.split()


@dataclass
class Leg:
    """One implementation: how to make an instance and search it (rows → chunk ids kept here)."""

    name: str
    make: Any
    kind: str  # "lexical" or "dense"
    instances: list[Any] = field(default_factory=list)

    def new(self) -> Any:
        inst = self.make(len(self.instances))
        self.instances.append(inst)
        return inst

    def search(self, inst: Any, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        if self.kind == "lexical":
            return top_k(inst.scores_tokens(_split(query)), k, mask)
        return inst.search_vector(inst.embed_query(query), k, mask)


@pytest.fixture(params=["lexical", "dense-scan", "dense-hnsw", "dense-pgvector"])
def leg(request: pytest.FixtureRequest, tmp_path: Path):
    name = request.param
    if name == "lexical":
        out = Leg(name, lambda i: LexicalIndex(tmp_path / f"lex{i}", tokenizer=_split,
                                               batch_tokenizer=lambda texts: [_split(t) for t in texts]), "lexical")
    elif name.startswith("dense-") and name != "dense-pgvector":
        threshold = 0 if name == "dense-hnsw" else 1 << 40
        out = Leg(name, lambda i: DenseIndex(tmp_path / f"dense{i}", HashEmbedder(), hnsw_threshold=threshold), "dense")
    else:
        from dasan.index.pgvector import PgDenseIndex

        store = open_store(tmp_path / "pg", url=request.getfixturevalue("pg_url"))
        doc = DocumentRecord(id="doc", collection="c", source_path="/x", content_hash="h", pipeline_version=PIPELINE_VERSION,
                             format="txt", kind="generic", title=None, pages=None, size_bytes=1, n_chunks=0)
        store.put_document(doc, [Chunk(id=cid, document_id="doc", ordinal=i, text=t, citation=Citation(label=f"c{i}"))
                                 for i, (cid, t) in enumerate(CHUNKS)])  # vectors reference stored chunks
        out = Leg(name, lambda i: PgDenseIndex(store.db, tmp_path / f"pg{i}", HashEmbedder()), "dense")
    yield out
    for inst in out.instances:
        if hasattr(inst, "close") and out.kind == "dense" and name != "dense-pgvector":
            inst.close()
    if name == "dense-pgvector":
        store.close()


def _build(leg: Leg, chunks: list[tuple[str, str]]) -> Any:
    inst = leg.new()
    inst.publish(inst.prepare(chunks))
    return inst


def _ids(pairs: list[tuple[int, float]], rows: list[str]) -> list[tuple[str, float]]:
    return [(rows[r], round(s, 5)) for r, s in pairs]


def _assert_same_ranking(got: list[tuple[str, float]], want: list[tuple[str, float]]) -> None:
    """The same scores, and the same chunks above the last score: chunks tied at the cut (equal
    texts score equally) may be either."""
    assert sorted(s for _, s in got) == sorted(s for _, s in want)
    if want:
        cut = min(s for _, s in want)
        assert sorted(x for x in got if x[1] > cut) == sorted(x for x in want if x[1] > cut)


def test_implements_its_protocol(leg: Leg) -> None:
    inst = _build(leg, CHUNKS)
    assert isinstance(inst, LexicalLeg if leg.kind == "lexical" else DenseLeg)


def test_finds_each_chunk_by_its_own_text(leg: Leg) -> None:
    inst = _build(leg, CHUNKS)
    for i in (0, 17, 42, 59):
        query = f"표식{i}호" if leg.kind == "lexical" else CHUNKS[i][1]
        if leg.name == "dense-hnsw":
            # approximate, its graph built by several threads: chunk i's near-twins (i ± 10 have
            # the same words, only the marker differs) may come first, but i is among the top 3
            found = leg.search(inst, query, 3)
            assert i in [row for row, _ in found] and all(score > 0 for _, score in found)
            continue
        [(row, score)] = leg.search(inst, query, 1)
        assert row == i and score > 0


def test_a_filter_applies_before_the_top_k_cut(leg: Leg, tmp_path: Path) -> None:
    inst = _build(leg, CHUNKS)
    # the oracle is exact: an approximate leg (HNSW) asked for every row may itself miss one
    exact = inst if leg.kind == "lexical" else DenseIndex(tmp_path / "exact", HashEmbedder(), hnsw_threshold=1 << 40)
    if exact is not inst:
        exact.publish(exact.prepare(CHUNKS))
    everything = [r for q in QUERIES for r, _ in leg.search(inst, q, 5)]
    mask = np.ones(len(CHUNKS), dtype=bool)
    mask[everything] = False  # the best rows of every query are filtered out
    mask[::2] = False
    allowed = set(np.flatnonzero(mask).tolist())
    for q in QUERIES:
        got = leg.search(inst, q, 5, mask)
        assert got and {r for r, _ in got} <= allowed
        # the best permitted rows, as many as asked for: never cut before the filter
        full = dict(leg.search(exact, q, len(CHUNKS)))
        best = sorted((s for r, s in full.items() if r in allowed), reverse=True)[: len(got)]
        assert [round(s, 5) for _, s in got] == [round(s, 5) for s in best]
        assert len(got) == min(5, sum(1 for r in allowed if full.get(r, 0) > 0))
    if exact is not inst:
        exact.close()


def test_added_and_removed_chunks_search_like_a_full_build(leg: Leg) -> None:
    first, added = CHUNKS[:40], CHUNKS[40:52]
    gone = [3, 17, 25]
    inst = _build(leg, first)
    rows = [cid for cid, _ in first]
    appendable = leg.kind == "lexical" or isinstance(inst, AppendableDenseLeg)
    if appendable:
        new = inst.append(added, gone, "next")
        assert new is not None
        inst.publish(new)
        rows += [cid for cid, _ in added]
    else:  # a leg without incremental updates is built again over what is left
        left = [c for i, c in enumerate(first) if i not in gone] + added
        inst.publish(inst.prepare(left))
        rows = [cid for cid, _ in left]
    kept = [c for i, c in enumerate(first) if i not in gone] + added
    fresh = _build(leg, kept)
    fresh_rows = [cid for cid, _ in kept]
    removed = {first[i][0] for i in gone}
    permitted = {cid for j, (cid, _) in enumerate(CHUNKS) if j % 3}
    for q in [*QUERIES, *(f"표식{i}호" if leg.kind == "lexical" else CHUNKS[i][1] for i in (3, 41, 50))]:
        for allow in (None, permitted):
            mask = None if allow is None else np.array([cid in allow for cid in rows])
            fresh_mask = None if allow is None else np.array([cid in allow for cid in fresh_rows])
            got = _ids(leg.search(inst, q, 8, mask), rows)
            want = _ids(leg.search(fresh, q, 8, fresh_mask), fresh_rows)
            assert not {cid for cid, _ in got} & removed
            _assert_same_ranking(got, want)
