"""Helper processes for tests/test_kill_refresh.py (not a test module).

``python tests/kill_refresh_child.py build DATA LAWS EXTRA STAGE READY EMBEDDER``: ingests the
statute folder LAWS, builds a complete index (its caches written to DATA/index), ingests the
text files of EXTRA and refreshes again — stopping at STAGE inside that refresh: it writes READY
(the stage's name) and sleeps until the test kills it with SIGKILL. Stages:

* ``ingest``: a refresh is tokenising in one thread while another thread is inside a document's
  write transaction (its row written, its chunks not yet);
* ``tokens``: while the new passages' tokens are written to the token cache;
* ``bm25-tmp``: half-way through writing the BM25 matrix file (its temporary name);
* ``bm25-pair``: after the new BM25 matrix file replaced the old one, before its vocabulary and
  fingerprint file did; ``bm25-pair-shrink`` the same, the first build holding the EXTRA
  documents and the killed refresh being that of their removal;
* ``dense-flat``: half-way through writing the row-ordered vector file (its temporary name);
* ``hnsw``: half-way through writing the HNSW graph file (set ``DASAN_HNSW_THRESHOLD`` low).

``python tests/kill_refresh_child.py check DATA EMBEDDER QUERIES_JSON [revert | restore EXTRA]``: a fresh
process on DATA: store consistency, an index refresh, searches, and the same searches on a
copy of DATA whose index caches were removed (built from scratch); with REVERT the EXTRA
documents are removed first (the store goes back to the chunk set of the first build), with
restore they are ingested again (likewise, for ``bm25-pair-shrink``). Prints
one JSON object.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

EXTRA_COLLECTION = "extra"


def _hold(ready: Path, stage: str) -> None:
    tmp = ready.with_name(ready.name + ".tmp")
    tmp.write_text(stage, encoding="utf-8")
    os.replace(tmp, ready)
    while True:
        time.sleep(60)


def _config(embedder: str) -> Any:
    from dasan.rag.retrieve import RetrievalConfig

    return RetrievalConfig(embedder=None if embedder == "none" else embedder, model=None)


def build(data: Path, laws: Path, extra: Path, stage: str, ready: Path, embedder: str) -> None:
    import numpy as np

    from dasan.ingest.pipeline import ingest_paths
    from dasan.rag.retrieve import Retriever
    from dasan.store import open_store

    store = open_store(data)
    ingest_paths(store, [laws], recursive=True, collection="laws")
    files = sorted(extra.iterdir())
    shrink = stage == "bm25-pair-shrink"
    if shrink:  # the first build has the extra documents, the killed refresh is of their removal
        ingest_paths(store, files, collection=EXTRA_COLLECTION)
    r = Retriever(store, data, _config(embedder))
    r.INCREMENTAL_SHARE = 0.0  # every refresh a full rebuild: the cache files are written again
    r.refresh()
    assert r.last_refresh_error is None and r.size > 0
    if shrink:
        for d in store.list_documents(EXTRA_COLLECTION):
            store.remove_document(d.id)
        stage = "bm25-pair"

    if stage == "ingest":
        ingest_paths(store, files[:-1], collection=EXTRA_COLLECTION)
        tokenising = threading.Event()
        tok = r.lexical.batch_tokenizer

        def slow_tokens(texts: Any) -> Any:
            out = tok(texts)
            tokenising.set()
            time.sleep(3600)
            return out

        r.lexical.batch_tokenizer = slow_tokens
        threading.Thread(target=r.refresh, daemon=True).start()
        assert tokenising.wait(120)
        from dasan.store.sqlite import SqliteStore

        bump = SqliteStore._bump

        def held_bump(self: SqliteStore) -> None:  # called inside put_document's transaction
            bump(self)
            _hold(ready, stage)

        SqliteStore._bump = held_bump  # type: ignore[method-assign]
        ingest_paths(store, files[-1:], collection=EXTRA_COLLECTION)
        raise SystemExit("not held")

    if not shrink:
        ingest_paths(store, files, collection=EXTRA_COLLECTION)
    if stage == "tokens":
        tok = r.lexical.batch_tokenizer

        def held_tokens(texts: Any) -> Any:
            out = tok(texts)
            _hold(ready, stage)
            return out

        r.lexical.batch_tokenizer = held_tokens
    elif stage == "bm25-tmp":
        savez = np.savez

        def half_savez(path: Any, **arrays: Any) -> None:
            import io

            buf = io.BytesIO()
            savez(buf, **arrays)
            raw = buf.getvalue()
            with open(path, "wb") as f:
                f.write(raw[: len(raw) // 2])
            _hold(ready, stage)

        np.savez = half_savez
    elif stage == "bm25-pair":
        write_text = Path.write_text

        def held_write_text(self: Path, *a: Any, **k: Any) -> int:
            if "-bm25." in self.name and self.name.endswith(".tmp"):  # the matrix file is in place already
                _hold(ready, "bm25-pair-shrink" if shrink else stage)
            return write_text(self, *a, **k)

        Path.write_text = held_write_text  # type: ignore[method-assign]
    elif stage == "dense-flat":
        replace = os.replace

        def half_replace(src: Any, dst: Any, *a: Any, **k: Any) -> None:
            name = os.fspath(src)
            if ".f32." in name and name.endswith(".tmp"):
                size = os.path.getsize(name)
                os.truncate(name, size // 2)
                _hold(ready, stage)
            replace(src, dst, *a, **k)

        os.replace = half_replace
    elif stage == "hnsw":
        from usearch.index import Index

        save = Index.save

        def half_save(self: Any, path: Any, *a: Any, **k: Any) -> Any:
            out = save(self, path, *a, **k)
            os.truncate(path, os.path.getsize(path) // 2)
            _hold(ready, stage)
            return out

        Index.save = half_save  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown stage {stage}")
    r.refresh()
    raise SystemExit(f"refresh finished without reaching stage {stage}: {r.last_refresh_error}")


def check(data: Path, embedder: str, queries: list[str], revert: bool, restore: Path | None) -> dict[str, Any]:
    from dasan.ingest.pipeline import ingest_paths
    from dasan.rag.retrieve import Retriever
    from dasan.store import open_store

    out: dict[str, Any] = {}
    # a copy without the index caches, made before anything opens DATA: the reference index
    clean = Path(tempfile.mkdtemp(prefix="dasan-clean-"))
    try:
        shutil.copytree(data, clean / "data", ignore=shutil.ignore_patterns("index"))
        store = open_store(data)
        out["problems"] = store.check_consistency()
        docs = store.list_documents()
        out["documents"] = {d.id: [d.collection, d.n_chunks, len(store.chunks_of(d.id))] for d in docs}
        r = Retriever(store, data, _config(embedder))
        if revert:
            for d in docs:
                if d.collection == EXTRA_COLLECTION:
                    store.remove_document(d.id)
        if restore is not None:
            ingest_paths(store, sorted(restore.iterdir()), collection=EXTRA_COLLECTION)
        r.refresh()
        out["refresh_error"] = r.last_refresh_error
        out["size"] = r.size
        out["chunks"] = sum(d.n_chunks for d in store.list_documents())
        out["hits"] = {q: [[h.chunk.document_id, round(h.score, 5)] for h in r.search(q, k=5)] for q in queries}
        out["index_files"] = sorted(p.name for p in (data / "index").iterdir())
        store.close()

        ref_store = open_store(clean / "data")
        if revert:
            for d in ref_store.list_documents(EXTRA_COLLECTION):
                ref_store.remove_document(d.id)
        if restore is not None:
            ingest_paths(ref_store, sorted(restore.iterdir()), collection=EXTRA_COLLECTION)
        ref = Retriever(ref_store, clean / "data", _config(embedder))
        ref.refresh()
        out["reference"] = {q: [[h.chunk.document_id, round(h.score, 5)] for h in ref.search(q, k=5)]
                            for q in queries}
        ref_store.close()
    finally:
        shutil.rmtree(clean, ignore_errors=True)
    return out


def main(argv: list[str]) -> None:
    if argv[0] == "build":
        data, laws, extra, stage, ready, embedder = argv[1:7]
        build(Path(data), Path(laws), Path(extra), stage, Path(ready), embedder)
    elif argv[0] == "check":
        data, embedder, queries = argv[1:4]
        revert = len(argv) > 4 and argv[4] == "revert"
        restore = Path(argv[5]) if len(argv) > 5 and argv[4] == "restore" else None
        print(json.dumps(check(Path(data), embedder, json.loads(queries), revert, restore), ensure_ascii=False))
    else:
        raise SystemExit(f"unknown command {argv[0]}")


if __name__ == "__main__":
    main(sys.argv[1:])
