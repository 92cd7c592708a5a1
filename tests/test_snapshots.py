"""One index snapshot per request (issue 14 item 1): a publication replaces the retriever's
state in one reference; a search or an answer pinned to a snapshot reads that one to its end
(search, article expansion, level checks), however many are published meanwhile; an old state's
vector file stays readable while a search holds it."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from test_index_incremental import HashEmbedder
from test_index_integrity import MARKER
from test_index_integrity import _secret as _doc

from dasan.index.dense import DenseIndex
from dasan.ingest.pipeline import ingest_paths
from dasan.rag.answer import Answerer
from dasan.rag.retrieve import RetrievalConfig, Retriever, SearchFilter
from dasan.server.state import GuardedRetriever
from dasan.store import open_store
from dasan.types import LEVELS


def _in_thread(fn) -> None:
    """Run ``fn`` in another (unpinned) thread and wait for it; its exception is re-raised."""
    err: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as e:  # pragma: no cover - re-raised below
            err.append(e)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if err:
        raise err[0]


def _dense_retriever(store, d: Path, cls=Retriever) -> Retriever:
    r = cls(store, d, RetrievalConfig(embedder="hash", model=None))
    r._dense = DenseIndex(d / "index", HashEmbedder(), hnsw_threshold=1 << 40)
    r.REFRESH_RETRY_S = 0.0
    return r


def test_publication_is_one_reference_and_a_pinned_search_keeps_its_snapshot(store_dir: Path, tmp_path: Path) -> None:
    store = open_store(store_dir)
    r = _dense_retriever(store, store_dir)
    r.refresh()
    first = r.snapshot
    assert first.gen == store.generation() and len(first.ids) == r.size > 0
    with pytest.raises(AttributeError):
        r._levels = np.zeros(0, dtype=np.int8)  # no column is assigned outside a publication
    with r.pinned() as snap:
        assert snap is first
        rows_before = [row for row, _, _ in r.rank("청년정책조정위원회의 구성", k=5)]

        def upload_and_publish() -> None:
            w = open_store(store_dir)
            ingest_paths(w, [_doc(tmp_path, 1)], collection="notices")
            w.close()
            r.refresh()  # another thread: builds and publishes a new snapshot

        _in_thread(upload_and_publish)
        assert r.snapshot is not first and len(r.snapshot.ids) > len(first.ids)
        # still pinned: every column, leg and lookup reads the first snapshot
        assert r._ids is first.ids and r.size == len(first.ids) and r.lexical is first.lexical
        assert [row for row, _, _ in r.rank("청년정책조정위원회의 구성", k=5)] == rows_before
        assert not any(MARKER in h.chunk.text for h in r.search(f"{MARKER} 보관 절차", k=5))
        new_ids = [c.id for d in store.list_documents() if d.collection == "notices" for c in store.chunks_of(d.id)]
        assert new_ids and all(r.level_of(cid) == len(LEVELS) - 1 for cid in new_ids)  # unknown here: highest
        assert r.article_chunks(new_ids) == {}
        # vectors of the pinned state are still readable (its file is closed only when no state holds it)
        assert r.dense.vectors([0]).shape == (1, HashEmbedder.dim)
    assert r._ids is r.snapshot.ids
    assert any(MARKER in h.chunk.text for h in r.search(f"{MARKER} 보관 절차", k=5))


def test_an_old_states_vector_file_stays_open_while_a_search_holds_it(store_dir: Path, tmp_path: Path) -> None:
    store = open_store(store_dir)
    r = _dense_retriever(store, store_dir)
    r.INCREMENTAL_SHARE = 0.0  # every change is a full rebuild: a new vector file
    r.refresh()
    old = r.snapshot
    expected = old.dense.vectors(np.arange(3))
    for n in range(3):  # several full rebuilds; each releases its predecessor's file
        ingest_paths(store, [_doc(tmp_path, 10 + n)], collection="notices")
        r.refresh()
        assert r.last_build == "full"
    assert old.dense._flat_file != r.snapshot.dense._flat_file
    np.testing.assert_array_equal(old.dense.vectors(np.arange(3)), expected)


def test_an_answer_reads_one_snapshot_while_another_is_published(store_dir: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A publication between the answer's search and its article expansion (an upload and a
    re-level in another thread) does not reach the answer: the expansion, the level routing
    and the quotes come from the snapshot the search used."""
    store = open_store(store_dir)
    r = GuardedRetriever(store, store_dir, RetrievalConfig(embedder=None, model=None))
    r.update()
    answerer = Answerer(r)
    seen: list[object] = []
    search, articles = r.search, r.article_chunks

    def spy_search(*a, **k):
        seen.append(r._cur())
        return search(*a, **k)

    def racing_articles(ids, flt=None):
        def change() -> None:
            w = open_store(store_dir)
            ingest_paths(w, [_doc(tmp_path, 2)], collection="notices")
            for d in w.list_documents():
                if d.collection == "laws":
                    w.set_document_level(d.id, "기밀")
            w.close()
            assert r.update()  # published while the answer is between its search and its expansion

        _in_thread(change)
        seen.append(r._cur())
        return articles(ids, flt)

    monkeypatch.setattr(r, "search", spy_search)
    monkeypatch.setattr(r, "article_chunks", racing_articles)
    ans = answerer.ask("청년정책조정위원회는 어떻게 구성되나요?", flt=SearchFilter(max_level="공개"))
    assert len(seen) == 2 and seen[0] is seen[1] and seen[0] is not r.snapshot
    assert not ans.refused and ans.citations
    assert ans.routing["sources_level"] == "공개"  # judged on the pinned rows, as quoted
    monkeypatch.undo()
    # the next answer pins the new snapshot: the statutes are 기밀 now, nothing for a 공개 reader
    again = answerer.ask("청년정책조정위원회는 어떻게 구성되나요?", flt=SearchFilter(max_level="공개"))
    laws = {d.id for d in store.list_documents("laws")}
    assert again.refused or not {c.chunk.document_id for c in again.citations} & laws
