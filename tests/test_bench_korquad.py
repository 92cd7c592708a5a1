"""`dasan bench korquad`: KorQuAD articles become documents, sampled questions get their stem as gold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import shared_path

from dasan.bench.korquad import build_korquad, load_korquad, sample_questions
from dasan.bench.retrieval import bench_retrieval
from dasan.cli import cli
from dasan.errors import ConfigError
from dasan.rag.retrieve import RetrievalConfig

TINY = {
    "version": "test",
    "data": [
        {"title": "한강_(하천)", "paragraphs": [
            {"context": "한강은 대한민국의 중부를 흐르는 강이다. 길이는 494 킬로미터이다.",
             "qas": [{"id": "a-0", "question": "한강의 길이는?", "answers": [{"text": "494 킬로미터", "answer_start": 27}]}]},
            {"context": "한강에는 서른 개가 넘는 다리가 놓여 있다.",
             "qas": [{"id": "a-1", "question": "한강에 놓인 다리는 몇 개가 넘는가?", "answers": [{"text": "서른 개", "answer_start": 5}]}]},
        ]},
        {"title": "백두산", "paragraphs": [
            {"context": "백두산은 높이 2,744미터의 화산으로 정상에 천지라는 칼데라 호수가 있다.",
             "qas": [{"id": "b-0", "question": "백두산 정상의 칼데라 호수 이름은?", "answers": [{"text": "천지", "answer_start": 27}]},
                     {"id": "b-1", "question": "백두산의 높이는?", "answers": [{"text": "2,744미터", "answer_start": 7}]}]},
        ]},
    ],
}


def _tiny(tmp_path: Path) -> Path:
    src = tmp_path / "tiny.json"
    src.write_text(json.dumps(TINY, ensure_ascii=False), encoding="utf-8")
    return src


def test_build_writes_one_document_per_article_and_gold_stems(tmp_path: Path) -> None:
    docs, qpath = build_korquad(_tiny(tmp_path), tmp_path / "out", n_questions=3, seed=1)
    files = sorted(p.name for p in docs.glob("*.md"))
    assert files == ["000-한강_하천.md", "001-백두산.md"]
    text = (docs / "000-한강_하천.md").read_text(encoding="utf-8")
    assert text.startswith("# 한강 (하천)\n\n한강은 대한민국의") and "서른 개가 넘는 다리" in text
    qs = [json.loads(line) for line in qpath.read_text(encoding="utf-8").splitlines()]
    assert len(qs) == 3
    stems = {p.stem for p in docs.glob("*.md")}
    assert all(len(q["gold"]) == 1 and q["gold"][0] in stems for q in qs)
    by_id = {q["id"]: q for q in qs}
    for qid, q in by_id.items():
        assert q["gold"] == (["001-백두산"] if qid.startswith("b") else ["000-한강_하천"])
    # same seed, same draw; the files are left untouched when nothing changed
    mtime = qpath.stat().st_mtime_ns
    build_korquad(_tiny(tmp_path), tmp_path / "out", n_questions=3, seed=1)
    assert qpath.stat().st_mtime_ns == mtime


def test_paragraph_unit_and_sample_independent_of_unit(tmp_path: Path) -> None:
    src = _tiny(tmp_path)
    docs, qpath = build_korquad(src, tmp_path / "out", n_questions=4, seed=1, unit="paragraph")
    assert sorted(p.stem for p in docs.glob("*.md")) == ["000-한강_하천-p00", "000-한강_하천-p01", "001-백두산-p00"]
    gold = {json.loads(line)["id"]: json.loads(line)["gold"] for line in qpath.read_text(encoding="utf-8").splitlines()}
    assert gold["a-1"] == ["000-한강_하천-p01"]
    arts = load_korquad(src)
    assert [q["id"] for q in sample_questions(arts, 2, 7)] == [q["id"] for q in sample_questions(arts, 2, 7, "paragraph")]
    with pytest.raises(ConfigError):
        build_korquad(src, tmp_path / "out", unit="sentence")  # type: ignore[arg-type]


def test_bad_file_names_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1}', encoding="utf-8")
    with pytest.raises(ConfigError, match="KorQuAD"):
        load_korquad(bad)


def test_tiny_corpus_benchmark_finds_the_articles(tmp_path: Path) -> None:
    docs, qpath = build_korquad(_tiny(tmp_path), tmp_path / "out", n_questions=4, seed=1)
    res = bench_retrieval([str(docs)], qpath, data_dir=tmp_path / "data", systems=("dasan", "bm25-kiwi"),
                          retrieval=RetrievalConfig(embedder=None))
    assert res["n"] == 4
    assert res["systems"]["bm25-kiwi"]["recall@1"] == 1.0
    assert res["systems"]["dasan"]["recall@1"] == 1.0


def test_real_korquad_entries(tmp_path: Path) -> None:
    src = shared_path("data", "korquad", "KorQuAD_v1.0_dev.json")
    arts = load_korquad(src)
    assert len(arts) == 140
    few = {"version": "slice", "data": arts[:3]}
    small = tmp_path / "slice.json"
    small.write_text(json.dumps(few, ensure_ascii=False), encoding="utf-8")
    docs, qpath = build_korquad(small, tmp_path / "out", n_questions=12, seed=13)
    assert sorted(p.stem for p in docs.glob("*.md")) == ["000-임종석", "001-알렉산더_헤이그", "002-노아의_방주"]
    first = arts[0]["paragraphs"][0]["context"].strip()
    assert first in (docs / "000-임종석.md").read_text(encoding="utf-8")  # text kept as published
    res = bench_retrieval([str(docs)], qpath, data_dir=tmp_path / "data", systems=("dasan", "bm25-kiwi"),
                          retrieval=RetrievalConfig(embedder=None))
    assert res["n"] == 12
    assert res["systems"]["dasan"]["recall@5"] == 1.0  # three documents: every gold is in the top five
    assert res["systems"]["dasan"]["recall@1"] >= 0.75


def test_cli_json(tmp_path: Path) -> None:
    src = _tiny(tmp_path)
    out = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "bench", "korquad", "--source", str(src),
                                   "--questions", "3", "--embedder", "none", "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.stdout[out.stdout.index("{"):])
    assert body["n"] == 3 and body["documents"] == 2 and body["unit"] == "article"
    assert "dasan" in body["systems"]


def test_bench_store_follows_a_renamed_file(tmp_path: Path) -> None:
    """A corpus file renamed with its content unchanged stays in the bench store (under its new path)."""
    from dasan.bench.retrieval import ingest_corpus
    from dasan.store import open_store

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "old.md").write_text("# 제목\n\n본문 문장입니다.\n", encoding="utf-8")
    store = open_store(tmp_path / "data")
    ingest_corpus(store, [str(corpus)])
    (corpus / "old.md").rename(corpus / "new.md")
    ingest_corpus(store, [str(corpus)])
    assert [Path(d.source_path).name for d in store.list_documents("bench")] == ["new.md"]
    store.close()


def test_pad_questions_for_latency() -> None:
    from dasan.bench.retrieval import pad_questions

    qs = [{"question": "가" * 50, "gold": ["x"]}, {"question": "나" * 300, "gold": ["y"]}, {"question": "다" * 1200, "gold": []}]
    padded = pad_questions(qs, 1000)
    assert [len(q["question"]) for q in padded] == [1000, 1000, 1200]  # a longer question stays as it is
    assert padded[0]["question"].endswith("가" * 50) and padded[0]["gold"] == ["x"]
    assert pad_questions(qs, 1000) == padded  # a fixed draw
