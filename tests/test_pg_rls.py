"""Row-level security: the database itself shows a principal only what they may read."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from dasan.store import open_store
from dasan.store.base import DocumentRecord
from dasan.store.ids import PIPELINE_VERSION
from dasan.store.postgres import AccessScope
from dasan.types import Chunk, Citation, Principal


def _put(store, doc_id: str, collection: str, level: str) -> None:
    rec = DocumentRecord(id=doc_id, collection=collection, source_path=f"/{doc_id}.md", content_hash=doc_id,
                         pipeline_version=PIPELINE_VERSION, format="md", kind="generic", title=doc_id, pages=None,
                         size_bytes=1, n_chunks=0, classification=level)
    store.put_document(rec, [Chunk(id=f"{doc_id}-0", document_id=doc_id, ordinal=0, text=f"{collection} {level}",
                                   citation=Citation(label=doc_id), classification=level)])


@pytest.fixture
def world(pg_url: str, tmp_path: Path):
    store = open_store(tmp_path, url=pg_url)
    d = store.directory()
    d.add_department("감사실")
    for coll, owner in (("공용", None), ("감사", "감사실")):
        if owner:
            d.assign_collection(coll, owner)
        for lvl in ("공개", "민감", "기밀"):
            _put(store, f"{coll}{lvl}", coll, lvl)
    store.set_collection_level("감사", "민감")
    yield store
    store.close()


def test_a_connection_that_sets_nothing_sees_no_rows(world, pg_url: str) -> None:
    with psycopg.connect(pg_url) as c:  # the application's own role, the tables' owner
        assert c.execute("SELECT COUNT(*) FROM chunks").fetchone()[0] == 0
        assert c.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 0
        # set and reset: current_setting(..., true) then returns '' (NULLIF keeps it closed)
        c.execute("SET dasan.level = '2'")
        c.execute("RESET dasan.level")
        c.execute("SET dasan.collections = ''")
        assert c.execute("SELECT COUNT(*) FROM chunks").fetchone()[0] == 0
        # nor can it write
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("INSERT INTO documents(id, collection, source_path, content_hash, pipeline_version, format,"
                      " kind, size_bytes, n_chunks, ingested_at) VALUES ('x','공용','/x','h',1,'md','g',1,0,'t')")


def test_local_settings_do_not_leak_to_the_next_transaction(world, pg_url: str) -> None:
    with psycopg.connect(pg_url) as c:
        c.execute("SELECT set_config('dasan.level', '2', true), set_config('dasan.collections', '*', true)")
        assert c.execute("SELECT COUNT(*) FROM chunks").fetchone()[0] == 6
        c.commit()  # the pooled connection goes to the next request
        assert c.execute("SELECT COUNT(*) FROM chunks").fetchone()[0] == 0


def test_a_query_without_the_application_filter_returns_only_permitted_rows(world) -> None:
    public = AccessScope.for_principal(world, Principal(name="u", clearance="공개", departments=()))
    assert public == AccessScope(0, frozenset({"공용"}))
    with world.scoped(public):
        # iter_chunks, list_documents, get_chunks have no access filter of their own
        assert {c.id for c in world.iter_chunks()} == {"공용공개-0"}
        assert world.chunk_texts(["공용공개-0", "공용기밀-0", "감사공개-0"]) == {"공용공개-0": "공용 공개"}
        assert [d.id for d in world.list_documents()] == ["공용공개"]
        assert world.get_document("감사공개") is None and world.get_chunks(["공용기밀-0"]) == []
    auditor = AccessScope.for_principal(world, Principal(name="a", clearance="민감", departments=("감사실",)))
    with world.scoped(auditor):
        assert {c.id for c in world.iter_chunks()} == {"공용공개-0", "공용민감-0", "감사공개-0", "감사민감-0"}
    outsider = AccessScope.for_principal(world, Principal(name="o", clearance="기밀", departments=()))
    with world.scoped(outsider):
        assert {d.collection for d in world.list_documents()} == {"공용"}
    admin = AccessScope.for_principal(world, Principal(name="r", clearance="기밀", roles=("admin",)))
    with world.scoped(admin):
        assert len(list(world.iter_chunks())) == 6
    with world.scoped(None):  # no principal at all: nothing
        assert list(world.iter_chunks()) == [] and world.list_documents() == []
        # search indexes are built in the application's own scope, never a request's
        assert len(world.index_rows()) == 6
    # a collection's level is checked by the database too, whatever the permitted list says
    with world.scoped(AccessScope(0, frozenset({"공용", "감사"}))):
        assert {d.collection for d in world.list_documents()} == {"공용"}
    # and the application's own work sees everything again
    assert len(world.index_rows()) == 6


def test_a_transaction_never_changes_its_scope(world) -> None:
    from dasan.errors import StoreError
    from dasan.store.postgres import SYSTEM

    public = AccessScope(0, frozenset({"공용"}))
    with world.db.tx(public) as c:
        assert c.execute("SELECT COUNT(*) FROM chunks").fetchone()[0] == 1
        with pytest.raises(StoreError), world.db.tx(SYSTEM):
            pass  # joining the open transaction with a wider scope is refused, never widened
