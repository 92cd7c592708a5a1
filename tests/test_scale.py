"""The scale bench on a tiny corpus: synthetic statutes, cache pre-filling, measured runs."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import shared_path

from dasan.bench.scale import scale
from dasan.bench.synthetic import compose_tokens, harvest, statute_markdown, synthetic_vectors
from dasan.ingest.pipeline import ingest_paths
from dasan.korean.tokenize import tokenize_many
from dasan.rag.retrieve import Retriever
from dasan.store import open_store


def test_synthetic_statutes_parse_like_real_ones(tmp_path: Path) -> None:
    mat = harvest(sorted(shared_path("data", "laws", "철도안전법").glob("*.md")), max_sentences=500)
    assert len(mat.sentences) == 500 and len(mat.titles) > 100 and mat.chapters
    assert all(s.endswith("다.") for s in mat.sentences)
    src = tmp_path / "src" / "해양안전법"
    src.mkdir(parents=True)
    (src / "시행령.md").write_text(statute_markdown("해양안전법", 1, 30, mat, random.Random(1)), encoding="utf-8")
    store = open_store(tmp_path / "store")
    ingest_paths(store, [src], recursive=True, collection="synthetic")
    rows = store.index_rows()
    assert len(rows) >= 31 and all(r.kind == "law" and r.title == "해양안전법 시행령" for r in rows)
    assert rows[0].citation == "해양안전법 시행령 제1조"
    assert any(json.loads(r.meta).get("addendum") for r in rows)  # the 부칙 article
    texts = [Retriever.index_text(r) for r in rows]
    composed = compose_tokens(texts, tokenize_many, {})
    same = sum(sorted(a) == sorted(b) for a, b in zip(composed, tokenize_many(texts), strict=True))
    assert same >= 0.8 * len(texts)


def test_synthetic_vectors_are_unit_mixes() -> None:
    rng = np.random.default_rng(0)
    pool = rng.standard_normal((20, 384)).astype(np.float32)
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    v = synthetic_vectors(pool, 500, rng, 0.01)
    assert v.shape == (500, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert (v @ pool.T).max(axis=1).min() > 0.5  # each one close to a pool vector it mixes


def test_scale_cli_small_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASAN_HOME", str(tmp_path / "home"))
    corpus = shared_path("data", "laws", "청년기본법")
    questions = shared_path("bench", "law_qa_dev.jsonl")
    res = CliRunner().invoke(scale, ["--corpus", str(corpus), "--questions", str(questions), "--chunks", "400",
                                     "--pool", "20", "--limit", "4", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output[res.output.index("{"):])
    small, large = out["runs"]
    assert small["chunks"] < 400 <= large["chunks"] < 440
    assert large["store"]["vectors"]["synthetic"] > 0 and large["store"]["token_check"]["mean_jaccard"] > 0.9
    for run in (small, large):
        assert run["exact"]["queries"] == 4 and run["exact"]["p95_ms"] > 0
        assert run["dense_recall_vs_float32"]["int8_scan+rescore"]["recall@10"] == 1.0
    assert "hnsw" in large and large["dense_recall_vs_float32"]["hnsw+rescore"]["recall@10"] >= 0.9
    assert {"bytes_per_chunk_exact", "index_1m_gb", "process_1m_gb"} <= set(out["memory"])
    assert "synthetic" in out["notes"][0]


@pytest.mark.parametrize("args", [["--chunks", "0"], ["--chunks", "100", "--small", "200"], ["--pool", "1"]])
def test_scale_cli_rejects_bad_sizes(args: list[str]) -> None:
    res = CliRunner().invoke(scale, args)
    assert res.exit_code != 0 and ("이상" in res.output or "작은" in res.output)


def test_scale_cli_insert_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--insert N``: documents ingested while a thread searches become searchable through
    incremental updates; the last one is rebuilt in full for comparison; the store is left as it was."""
    monkeypatch.setenv("DASAN_HOME", str(tmp_path / "home"))
    corpus = shared_path("data", "laws", "청년기본법")
    questions = shared_path("bench", "law_qa_dev.jsonl")
    args = ["--corpus", str(corpus), "--questions", str(questions), "--chunks", "400", "--pool", "20", "--limit", "4"]
    res = CliRunner().invoke(scale, [*args, "--insert", "2", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output[res.output.index("{"):])
    inc = out["incremental"]
    assert inc["count"] == 2 and inc["all_indexed"] and inc["all_found"]
    assert inc["searchable_p95_s"] > 0 and inc["max_swap_ms"] >= 0
    assert out["full_rebuild"]["build"] == "full" and out["full_rebuild"]["indexed"]
    assert out["queries_outside_inserts"]["count"] > 0
    store = open_store(Path(out["store"]["data_dir"]))
    assert not store.list_documents("insert-bench")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_scale_cli_backend_bulk_run(backend: str, request: pytest.FixtureRequest, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """``--backend … --bulk`` on a small store: bulk ingest, then every search measured with
    recall against the exact search (above the HNSW threshold also the int8 scan and wider
    HNSW searches on SQLite; the bulk load's build timings on PostgreSQL)."""
    monkeypatch.setenv("DASAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DASAN_HNSW_THRESHOLD", "5000")
    if backend == "postgresql":
        monkeypatch.setenv("DASAN_DATABASE_URL", request.getfixturevalue("pg_url"))
    else:
        monkeypatch.delenv("DASAN_DATABASE_URL", raising=False)
    res = CliRunner().invoke(scale, ["--backend", backend, "--chunks", "12000", "--bulk", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output[res.output.index("{\n"):])  # after the progress lines
    assert out["chunks"] == 12000 and out["ingest_path"] == "bulk" and out["ingest_total_chunks_per_s"] > 0
    search = out["search"]
    for name in ("1 collection, 공개 (~1.5%)", "1 collection (2.5%)", "2 collections (5%)"):
        assert search[name]["recall@10"] == 1.0  # small permitted sets: exact scans
    if backend == "postgresql":
        assert out["pg_bulk_load"]["rows"] == 12000 and out["database_mb"]["hnsw_index"] > 0
        assert search["none"]["recall@10"] >= 0.8
    else:
        assert out["hnsw_build_s"] is not None
        assert all(v["recall@10"] == 1.0 for v in out["search_int8_scan"].values())
        assert search["none, HNSW expansion_search 2048"]["recall@10"] >= 0.95
