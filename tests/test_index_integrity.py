"""Index integrity under failure and concurrent use: a refresh is all-or-nothing (a failing leg
leaves the previous index serving, the error reported), and restricted readers never receive a
민감 chunk while documents are uploaded, re-leveled and deleted around them."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from dasan.ingest.pipeline import ingest_paths
from dasan.rag.answer import Answerer
from dasan.rag.retrieve import RetrievalConfig, Retriever, SearchFilter
from dasan.server.state import GuardedRetriever
from dasan.store import open_store

MARKER = "비상연락망암호표식"


def _secret(tmp_path: Path, n: int) -> Path:
    p = tmp_path / f"secret-{n}.txt"
    p.write_text(f"청년 정책 비상 연락망 {MARKER} 제{n}호\n청년정책조정위원회 위원 연락처와 {MARKER} 보관 절차.\n",
                 encoding="utf-8")
    return p


@pytest.mark.parametrize("leg", ["lexical", "dense"])
def test_a_failing_sync_keeps_the_previous_index_serving(store_dir: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch, leg: str) -> None:
    store = open_store(store_dir)
    r = Retriever(store, store_dir, RetrievalConfig(embedder="e5" if leg == "dense" else None, model=None))
    r.REFRESH_RETRY_S = 0.0
    before = r.rank("청년정책조정위원회의 구성", k=5)
    size = r.size
    bm25 = r.lexical.bm25
    target = r.dense if leg == "dense" else r.lexical

    def broken(*_a, **_k):
        raise RuntimeError("embedding server down")

    monkeypatch.setattr(target, "sync", broken)  # a full rebuild
    monkeypatch.setattr(target, "append", broken)  # an incremental update
    ingest_paths(store, [_secret(tmp_path, 1)], collection="secret", classification="민감")
    after = r.rank("청년정책조정위원회의 구성", k=5)  # refresh fails inside; search goes on
    assert r.last_refresh_error and "embedding server down" in r.last_refresh_error
    assert r.size == size and r.lexical.bm25 is bm25
    assert [x[0] for x in after] == [x[0] for x in before]
    assert len(r._levels) == len(r._group) == r.size  # columns of one state, not a mix
    monkeypatch.undo()
    hits = r.search(f"{MARKER} 보관 절차", k=3)
    assert r.last_refresh_error is None and r.size > size
    assert any(MARKER in h.chunk.text for h in hits)


def test_restricted_readers_never_see_sensitive_text_under_churn(store_dir: Path, tmp_path: Path) -> None:
    store = open_store(store_dir)
    r = GuardedRetriever(store, store_dir, RetrievalConfig(embedder=None, model=None))
    r.update()
    public = SearchFilter(max_level="공개")
    errors: list[BaseException] = []
    leaks: list[str] = []
    stop = time.monotonic() + 4.0

    def writer() -> None:
        w = open_store(store_dir)
        n = 0
        try:
            while time.monotonic() < stop:
                n += 1
                rep = ingest_paths(w, [_secret(tmp_path, n)], collection="secret", classification="민감")
                ids = [f.document_id for f in rep.results if f.document_id]
                for doc_id in ids:
                    w.set_document_level(doc_id, "기밀" if n % 2 else "민감")
                if n % 3 == 0:
                    for d in w.list_documents("secret")[:2]:
                        w.remove_document(d.id)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    def reader() -> None:
        try:
            while time.monotonic() < stop:
                for h in r.search(f"청년 {MARKER} 연락망 보관 절차", k=5, flt=public):
                    if MARKER in h.chunk.text:
                        leaks.append(h.chunk.id)
                ids = [h.chunk.id for h in r.search("청년정책조정위원회 위원", k=3, flt=public)]
                for chunks in r.article_chunks(ids, public).values():
                    leaks.extend(c.id for c in chunks if MARKER in c.text)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    answerer = Answerer(r)
    answers = []

    def asker() -> None:  # whole answers (search, article expansion, routing) as the 공개 reader
        try:
            while time.monotonic() < stop:
                ans = answerer.ask(f"청년 정책 {MARKER} 연락망 보관 절차는 어떻게 되나요?", flt=public)
                answers.append(ans)
                if MARKER in ans.text or any(MARKER in c.quote or MARKER in c.chunk.text for c in ans.citations):
                    leaks.append(ans.text[:80])
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = ([threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(3)]
               + [threading.Thread(target=asker) for _ in range(2)])
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors[:3]
    assert not leaks
    assert answers  # the askers did answer (or refuse) meanwhile
    # the admin (no filter) finds what is left
    r.update()
    assert r.last_refresh_error is None


def test_searches_go_on_while_a_new_index_is_built(store_dir: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The build runs off the request path; only the swap takes the write lock."""
    store = open_store(store_dir)
    r = GuardedRetriever(store, store_dir, RetrievalConfig(embedder=None, model=None))
    r.update()
    size = r.size
    started = threading.Event()

    def slow(original):
        def slowed(*a, **k):
            started.set()
            time.sleep(1.5)
            return original(*a, **k)
        return slowed

    monkeypatch.setattr(r.lexical, "prepare", slow(r.lexical.prepare))  # a full rebuild
    monkeypatch.setattr(r.lexical, "append", slow(r.lexical.append))  # an incremental update
    ingest_paths(store, [_secret(tmp_path, 7)], collection="secret", classification="민감")
    builder = threading.Thread(target=r.update)
    builder.start()
    assert started.wait(10)
    t0 = time.monotonic()
    hits = r.search("청년정책조정위원회의 구성", k=3)  # served by the old state, not waiting
    assert time.monotonic() - t0 < 1.0 and hits and r.size == size
    builder.join(30)
    assert r.size > size and any(MARKER in h.chunk.text for h in r.search(f"{MARKER} 보관 절차", k=3))


def test_a_change_is_hidden_from_searches_until_its_state_is_published(store_dir: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Between a commit and the publication of the state that includes it, searches are served by
    the previous state: the rows of the documents the change feed names since then are hidden
    from them, so a re-levelled document is never served at its old level, nor a removed one."""
    store = open_store(store_dir)
    r = GuardedRetriever(store, store_dir, RetrievalConfig(embedder=None, model=None))
    r.update()
    rep = ingest_paths(store, [_secret(tmp_path, 1)], collection="secret", classification="공개")
    [doc] = [f.document_id for f in rep.results if f.document_id]
    r.update()
    public = SearchFilter(max_level="공개")
    query = f"청년 {MARKER} 연락망 보관 절차"
    assert any(MARKER in h.chunk.text for h in r.search(query, k=5, flt=public))
    monkeypatch.setattr(r, "try_build", lambda *_a, **_k: None)  # no new state gets published
    store.set_document_level(doc, "민감")
    assert not any(MARKER in h.chunk.text for h in r.search(query, k=5, flt=public))
    assert not any(MARKER in h.chunk.text for h in r.search(query, k=5))  # hidden from everybody meanwhile
    mine = [c.id for c in store.chunks_of(doc)]
    assert r.level_of(mine[0]) == 2 and not r.document_chunks(mine)[mine[0]]
    law = store.list_documents("laws")[0]
    law_chunk = store.chunks_of(law.id)[0].id
    assert r.document_chunks([law_chunk])[law_chunk]
    store.remove_document(law.id)
    assert not r.document_chunks([law_chunk])[law_chunk]
    monkeypatch.undo()
    r.update()  # published: the document at its new level
    assert not any(MARKER in h.chunk.text for h in r.search(query, k=5, flt=public))
    assert any(MARKER in h.chunk.text for h in r.search(query, k=5, flt=SearchFilter(max_level="민감")))
    assert r.level_of(mine[0]) == 1
