"""Hybrid search on real statutes and the sample corpus: filters inside each leg, CLI output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import shared_path

from dasan import config
from dasan.cli import cli
from dasan.ingest.pipeline import ingest_paths
from dasan.rag.retrieve import RetrievalConfig, Retriever, SearchFilter
from dasan.store import open_store


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("search-store")
    store = open_store(d)
    ingest_paths(store, [shared_path("data", "laws", "청년기본법"), shared_path("data", "laws", "철도안전법", "법률.md")],
                 recursive=True, collection="laws")
    ingest_paths(store, [config.examples_dir() / "manuals", config.examples_dir() / "press"], recursive=True,
                 collection="examples")
    store.close()
    return d


@pytest.mark.parametrize("embedder", [None, "e5"])
def test_finds_the_article_for_a_plain_question(data: Path, embedder: str | None) -> None:
    store = open_store(data)
    r = Retriever(store, data, RetrievalConfig(embedder=embedder))
    hits = r.search("기관사가 술을 마셨는지 확인하는 혈중 알코올농도 기준", k=5)
    assert any(h.chunk.citation.label.startswith("철도안전법 제41조") for h in hits)
    assert all(h.snippet for h in hits)
    assert len({(h.chunk.document_id, h.chunk.citation.article) for h in hits}) == len(hits)  # one per article


@pytest.mark.parametrize("embedder", [None, "e5"])
def test_collection_filter_is_applied_before_the_cut(data: Path, embedder: str | None) -> None:
    store = open_store(data)
    r = Retriever(store, data, RetrievalConfig(embedder=embedder))
    q = "철도 안전"  # matches hundreds of statute chunks and a few manual chunks
    hits = r.search(q, k=5, flt=SearchFilter(collection="examples"))
    assert hits and all(store.get_document(h.chunk.document_id).collection == "examples" for h in hits)
    assert len(hits) == 5  # not 5 statute hits filtered down to nothing
    laws = r.search(q, k=5, flt=SearchFilter(kinds=("press",)))
    assert laws and all(h.chunk.meta.get("kind") == "press" for h in laws)


def test_date_and_in_force_filters(data: Path) -> None:
    store = open_store(data)
    r = Retriever(store, data, RetrievalConfig(embedder=None))
    hits = r.search("안전 점검", k=10, flt=SearchFilter(kinds=("press",), date_from="2026-06-01", date_to="2026-06-30"))
    assert hits and all(h.chunk.meta["release_date"].startswith("2026-06") for h in hits)
    assert r.search("안전 점검", k=10, flt=SearchFilter(date_from="2999-01-01")) == []
    forced = r.search("청년정책", k=10, flt=SearchFilter(in_force=True, kinds=("law",)))
    assert forced and all(h.chunk.meta["in_force"] for h in forced)


def test_index_follows_additions_and_removals(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    f = tmp_path / "공지.md"
    f.write_text("# 공지\n\n승강장 스크린도어 고장 시 역무실에 즉시 알린다.\n", encoding="utf-8")
    r = Retriever(store, tmp_path, RetrievalConfig(embedder=None))
    assert r.search("스크린도어 고장") == []
    ingest_paths(store, [f])
    assert r.search("스크린도어 고장")[0].chunk.text.endswith("알린다.")
    store.remove_document(store.list_documents()[0].id)
    assert r.search("스크린도어 고장") == []


def test_search_cli_json(data: Path) -> None:
    res = CliRunner().invoke(cli, ["--data-dir", str(data), "search", "청년의 날은 언제인가요", "--k", "3", "--json"])
    assert res.exit_code == 0, res.output
    hits = json.loads(res.output)
    assert 1 <= len(hits) <= 3
    assert {"citation", "document_id", "chunk_id", "score", "text"} <= set(hits[0])
    bad = CliRunner().invoke(cli, ["--data-dir", str(data), "search", "청년", "--from", "어제"])
    assert bad.exit_code != 0 and "날짜 형식" in bad.output


def test_lexical_prewarm_moves_tokenising_out_of_sync(tmp_path: Path) -> None:
    from dasan.index.lexical import LexicalIndex
    from dasan.korean.tokenize import tokenize_many

    calls: list[int] = []

    def counting(texts: list[str]) -> list[list[str]]:
        calls.append(len(texts))
        return tokenize_many(texts)

    idx = LexicalIndex(tmp_path, batch_tokenizer=counting)
    chunks = [("a", "기관사의 혈중 알코올농도 기준"), ("b", "선로 작업 중 대피 요령")]
    assert idx.prewarm(chunks) == 2 and calls == [2]
    assert idx.prewarm(chunks) == 0  # already cached
    idx.sync(chunks)
    assert calls == [2]  # the sync tokenised nothing
    assert idx.search("알코올농도", k=1)[0][0] == "a"
    idx.close()


def test_dasan_embedder_variable_chooses_the_dense_leg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DASAN_EMBEDDER", raising=False)
    assert RetrievalConfig().embedder == "e5"
    monkeypatch.setenv("DASAN_EMBEDDER", "none")
    assert RetrievalConfig().embedder is None
    monkeypatch.setenv("DASAN_EMBEDDER", "USE")
    assert RetrievalConfig().embedder == "use"
    assert RetrievalConfig(embedder="e5").embedder == "e5"  # an explicit choice wins
