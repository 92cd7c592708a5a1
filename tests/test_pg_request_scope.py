"""Server requests read PostgreSQL in the principal's scope: the database enforces access (levels,
collections and embargoes) as well as the application's filters; the application's own work
inside a request (index builds, originals cleanup) still sees every row."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dasan.rag.retrieve import RetrievalConfig
from dasan.server.app import create_app
from dasan.store import open_store
from dasan.store.base import DocumentRecord
from dasan.store.ids import PIPELINE_VERSION
from dasan.store.postgres import AccessScope
from dasan.types import Chunk, Citation

FUTURE = "2999-01-01T09:00:00+09:00"


def _put(store, doc_id: str, level: str, text: str, *, kind: str = "generic", meta: dict | None = None,
         chunk_meta: dict | None = None, collection: str = "안내") -> None:
    rec = DocumentRecord(id=doc_id, collection=collection, source_path=f"/{doc_id}.txt", content_hash=doc_id * 4,
                         pipeline_version=PIPELINE_VERSION, format="txt", kind=kind, title=doc_id, pages=None,
                         size_bytes=len(text), n_chunks=0, classification=level, metadata=meta or {})
    store.put_document(rec, [Chunk(id=f"{doc_id}-0", document_id=doc_id, ordinal=0, text=text,
                                   citation=Citation(label=doc_id), classification=level, meta=chunk_meta or {})])


def _world(store) -> None:
    _put(store, "open", "공개", "해오름 다리 공개 안내: 통행 시간 변경.")
    _put(store, "secret", "민감", "해오름 다리 민감 보고: 균열 조사 결과.")
    _put(store, "embargoed", "공개", "해오름 다리 보도자료: 재개통 발표.", kind="press",
         meta={"embargo": FUTURE}, chunk_meta={"embargo": FUTURE})
    _put(store, "held", "공개", "해오름 다리 보도자료: 보수 예산 확정.", kind="press",
         meta={"embargo_hold": True}, chunk_meta={"embargo_hold": True})
    # stored before 보도시점 was kept on the document: only its chunks say so
    _put(store, "oldpress", "공개", "해오름 다리 보도자료: 점검 일정.", kind="press", chunk_meta={"embargo": FUTURE})
    _put(store, "naive", "공개", "해오름 다리 보도자료: 지난 행사.", kind="press",
         meta={"embargo": "2020-01-01T09:00:00"}, chunk_meta={"embargo": "2020-01-01T09:00:00"})
    _put(store, "garbled", "공개", "해오름 다리 보도자료: 읽을 수 없는 시점.", kind="press",
         meta={"embargo": "다음 주"}, chunk_meta={"embargo": "다음 주"})


def test_row_level_security_hides_embargoed_rows_below_the_embargo_level(pg_url: str, tmp_path: Path) -> None:
    store = open_store(tmp_path, url=pg_url)
    try:
        _world(store)
        with store.scoped(AccessScope(0)):
            assert sorted(d.id for d in store.list_documents()) == ["naive", "open"]
            assert sorted(c.document_id for c in store.iter_chunks()) == ["naive", "open"]
        with store.scoped(AccessScope(1)):  # 민감 and up: embargoed releases are within clearance
            assert len(store.list_documents()) == 7
        with store.scoped(AccessScope(0)):
            with store.system_scope():  # the application's own work inside a request
                assert len(store.list_documents()) == 7
            assert len(store.list_documents()) == 2
        store.set_document_embargo("embargoed", None, by="admin")  # released: visible to all
        with store.scoped(AccessScope(0)):
            assert sorted(d.id for d in store.list_documents()) == ["embargoed", "naive", "open"]
    finally:
        store.close()


@pytest.fixture
def app(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DASAN_DATABASE_URL", pg_url)
    monkeypatch.setenv("DASAN_AUDIT_SYNC", "normal")
    app = create_app(tmp_path / "data", retrieval=RetrievalConfig(embedder=None))
    _world(app.state.dasan.store)
    return app


def _wide_open(store, principal, base=None):
    """The application's access filter, broken: everything permitted."""
    from dasan.rag.retrieve import SearchFilter

    return replace(base or SearchFilter(), max_level="기밀", collections=None)


def test_a_public_user_gets_nothing_classified_even_with_the_application_filter_disabled(
        app, monkeypatch: pytest.MonkeyPatch) -> None:
    d = app.state.dasan.directory()
    d.add_user("kim", clearance="공개", role="user")
    public = {"Authorization": f"Bearer {d.create_key('kim', ['search']).key}"}
    monkeypatch.setattr("dasan.server.api.search_filter", _wide_open)
    with TestClient(app) as c:
        app.state.dasan.wait_ready(120)
        # searches never wait for a refresh: bring the index up to the rows written after startup
        with app.state.dasan.store.system_scope():
            app.state.dasan.retriever.update()
        r = c.post("/v1/search", json={"query": "해오름 다리", "k": 20}, headers=public)
        assert r.status_code == 200, r.text
        got = sorted(h["document_id"] for h in r.json()["results"])
        assert got == ["naive", "open"]
        assert "균열" not in r.text and "재개통" not in r.text and "예산" not in r.text and "점검" not in r.text
        assert "읽을 수 없는" not in r.text
        # the control: without the database's scope the broken filter would have shown them all
        from dasan.store.postgres.db import SYSTEM

        monkeypatch.setattr("dasan.server.auth.principal_scope", lambda state, principal: SYSTEM)
        r = c.post("/v1/search", json={"query": "해오름 다리", "k": 20}, headers=public)
        assert len(r.json()["results"]) == 7


def test_originals_cleanup_in_a_request_keeps_what_the_user_cannot_see(app) -> None:
    """keep_or_discard runs in the application's scope: an original of a 민감 document stays
    when a 공개 user's upload of the same bytes fails inside their request."""
    from dasan.server.jobs import Originals
    from dasan.store.postgres.store import narrow, request_scope

    state = app.state.dasan
    state.wait_ready(120)
    originals = Originals(state.data_dir)
    f = originals.save(io.BytesIO(b"secret bytes"), "a.txt")
    originals.unpin([f.sha256])
    doc = state.store.get_document("secret")
    state.store.put_document(replace(doc, content_hash=f.sha256), state.store.chunks_of("secret"))
    with request_scope():
        narrow(AccessScope(0))
        assert state.store.get_document("secret") is None  # the user cannot see it …
        originals.keep_or_discard(state.store, {f.sha256})
    assert originals.path(f.sha256) is not None  # … and its original is kept


@pytest.mark.parametrize("meta", [
    {}, {"embargo": None}, {"embargo": ""}, {"embargo": False}, {"embargo": 0}, {"embargo": 5}, {"embargo": [1]},
    {"embargo_hold": True}, {"embargo_hold": False}, {"embargo_hold": "false"}, {"embargo_hold": 0},
    {"embargo_hold": None, "embargo": "2000-01-01"}, {"embargo": "2999-01-01"}, {"embargo": "2000-01-01"},
    {"embargo": "2999-01-01T00:00:00Z"}, {"embargo": "2000-01-01T00:00:00+09:00"}, {"embargo": "2000-01-01 10:00"},
    {"embargo": "2999-12-31T23:59:59-05:00"}, {"embargo": "다음 주"}, {"embargo": True},
])
def test_the_database_reads_embargoes_as_the_application_does(pg_url: str, tmp_path: Path, meta: dict) -> None:
    import json

    import psycopg

    from dasan.security.levels import embargo_ts

    want = embargo_ts(meta) > time.time()
    open_store(tmp_path, url=pg_url).close()  # migrated
    with psycopg.connect(pg_url) as c:
        got = c.execute("SELECT dasan_embargoed(%s)", (json.dumps(meta, ensure_ascii=False),)).fetchone()[0]
    assert got is want
