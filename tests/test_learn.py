"""Learning from an answered-question archive (dasan/learn): labels read from real official
answers, evaluation questions kept out, a tiny end-to-end training run on the real archive, the
model registry, and the learned stage's guarantees (hybrid order kept without evidence, access
filters applied before the cut)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import shared_path

from dasan.cli import cli
from dasan.errors import ConfigError, NotFoundError
from dasan.ingest.pipeline import ingest_paths
from dasan.learn import registry
from dasan.learn.archive import Record, read_archive
from dasan.learn.dedup import ShingleIndex
from dasan.learn.labels import cited_articles, cites_only_elsewhere, labels_for
from dasan.learn.memory import Evidence
from dasan.learn.mine import EvalQuestion, mine
from dasan.learn.ranker import FEATURES, Gate, features, fit
from dasan.learn.train import catalog_of, train
from dasan.rag.retrieve import RetrievalConfig, Retriever, SearchFilter
from dasan.store import open_store


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("learn-store")
    store = open_store(d)
    labour = shared_path("data", "laws", "_extra", "근로기준법")
    report = ingest_paths(store, [labour / "법률(법률).md", labour / "시행령.md"], collection="labour")
    assert not report.summary()["failed"]
    report = ingest_paths(store, [shared_path("data", "laws", "철도안전법", "법률.md")], collection="rail")
    assert not report.summary()["failed"]
    store.close()
    return d


@pytest.fixture(scope="module")
def archive() -> Path:
    return shared_path("data", "legal-qa")


def test_labels_read_the_citation_forms_of_real_answers(data: Path) -> None:
    store = open_store(data)
    cat = catalog_of(store)
    assert cat.lookup("근로기준법", "60조") is not None
    text = ("「근로기준법」(이하 '법') 제60조제1항에 따라 연차 유급휴가를 주어야 하며, 같은 법 시행령 제30조 및 "
            "법 제61조를 보면 … 근로기준법 제2조와 민법 제750조도 참고")
    keys = [a.key for a in cited_articles(text, cat)]
    assert keys[0] == "근로기준법 제60조"
    assert "근로기준법 시행령 제30조" in keys
    assert "근로기준법 제61조" in keys and "근로기준법 제2조" in keys
    assert not any(k.startswith("민법") for k in keys)
    # the title check: 제61조 (연차 유급휴가의 사용 촉진) shares "연차"; 제2조 (정의) has no word in the text
    kept, rejected = labels_for(text, cat)
    assert "근로기준법 제60조" in kept and "근로기준법 제2조" in rejected
    assert cites_only_elsewhere("「민법」 제750조에 따라 손해를 배상", cat)
    assert not cites_only_elsewhere("근로기준법 제60조에 따라 연차", cat)
    assert not cites_only_elsewhere("판례에 따르면 그렇습니다", cat)


def test_real_archive_records_give_labels(data: Path, archive: Path) -> None:
    store = open_store(data)
    cat = catalog_of(store)
    records = read_archive([archive / "moel_interpretations.jsonl"])
    assert len(records) > 3000
    labelled = [r for r in records[:600] if labels_for(r.answer, cat)[0]]
    assert len(labelled) >= 20  # 근로기준법 interpretations cite its articles


def test_bad_archive_lines_are_skipped_with_the_file_named(tmp_path: Path) -> None:
    f = tmp_path / "a.jsonl"
    f.write_text('{"id": "1", "question": "연차휴가는 며칠?", "answer": "근로기준법 제60조"}\nnot json\n'
                 '{"id": "2", "question": ""}\n', encoding="utf-8")
    warnings: list[str] = []
    recs = read_archive([f], warn=warnings.append)
    assert [r.id for r in recs] == ["1"]
    assert len(warnings) == 2 and all("a.jsonl:" in w for w in warnings)
    with pytest.raises(ConfigError):
        read_archive([tmp_path / "missing"])


def test_evaluation_questions_are_kept_out_by_id_and_near_duplicate(data: Path, archive: Path) -> None:
    store = open_store(data)
    cat = catalog_of(store)
    records = read_archive([archive / "moel_interpretations.jsonl"])[:400]
    a, b = records[10], records[20]
    reworded = EvalQuestion("other-id", a.question.replace(" ", "") + " 궁금합니다", "dev.jsonl")
    mined = mine(records, cat, [reworded, EvalQuestion(b.id, "전혀 다른 질문", "dev.jsonl")])
    assert mined.excluded[a.id].startswith("eval-near-duplicate:dev.jsonl:other-id")
    assert mined.excluded[b.id] == "eval-id:dev.jsonl"
    used = {r.id for r, _ in mined.positives} | {r.id for r in mined.negatives}
    assert a.id not in used and b.id not in used


def test_shingle_index_finds_near_copies_only() -> None:
    idx = ShingleIndex(["연차 유급휴가를 사용하지 못한 경우 수당을 받을 수 있나요", "퇴직금 계산 방법"])
    assert idx.similar("연차유급휴가를 사용하지 못한 경우 수당을 받을 수 있나요?")[0][0] == 0
    assert idx.similar("해고 예고 수당은 언제 지급하나요") == []


def test_learned_stage_keeps_the_hybrid_order_without_evidence() -> None:
    fused = [(7, 0.9, {}), (3, 0.5, {}), (5, 0.4, {}), (1, 0.1, {})]
    empty = Evidence({}, {}, {}, 0.0, 0.0)
    rows, _, x, _ = features(fused, lambda r: "", empty, lambda a: None, lambda r: True)
    assert rows == [7, 3, 5, 1]
    rng = np.random.default_rng(0)
    groups = [(rng.random((6, len(FEATURES))), np.eye(6)[0]) for _ in range(30)]
    model = fit(groups)
    assert all(model.weights[FEATURES.index(f)] >= 0 for f in ("hybrid_score", "hybrid_rr", "hybrid_in"))
    assert list(np.argsort(-model.logit(x), kind="stable")) == [0, 1, 2, 3]


def test_gate_from_the_archive_itself() -> None:
    gate = Gate.from_neighbour_cosines(np.linspace(0.85, 0.95, 101))
    assert gate.low < gate.high
    assert gate(0.80) == 0.0 and gate(0.99) == 1.0


def test_train_a_tiny_model_end_to_end(data: Path, archive: Path, tmp_path: Path) -> None:
    store = open_store(data)
    retriever = Retriever(store, data, RetrievalConfig(model=None))
    home = tmp_path / "home"
    excluded = tmp_path / "dev.jsonl"
    records = read_archive([archive])
    dev = next(r for r in records if "연차" in r.question)
    excluded.write_text(json.dumps({"id": dev.id, "question": dev.question, "gold": []}, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    manifest = train(store, retriever, home, [archive], exclude=[excluded], name="tiny", limit=25)
    path = home / "models" / "tiny"
    assert (path / "ranker.json").exists() and (path / "memory.jsonl").exists()
    tr = manifest["training"]
    assert tr["used_positives"] == 25 and tr["excluded"].get("eval-id") == 1
    assert tr["archive"][0]["sha256"] and tr["excluded_eval_files"][0]["questions"] == 1
    assert manifest["document_encoder"] is None  # the index is not re-embedded
    lines = [json.loads(x) for x in (path / "training.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {x["id"] for x in lines if x["role"] == "excluded"} >= {dev.id}
    assert dev.id not in {x["id"] for x in lines if x["role"] != "excluded"}
    # not used until chosen; then search picks it up through the selection file
    assert [m["name"] for m in registry.list_models(home)] == ["tiny"]
    assert registry.current_name(home) is None
    registry.use(home, "tiny")
    live = Retriever(store, data, RetrievalConfig(), models_home=home)  # model "current" of home
    assert live.ranker() is not None and live.ranker().name == "tiny"
    ranked = live.rank("회사가 연차휴가를 주지 않고 수당도 안 준다고 합니다. 연차 유급휴가는 며칠인가요?", k=5)
    assert ranked and 0.0 <= ranked[0][1] <= 1.0
    registry.use(home, None)
    registry.rollback(home)
    assert registry.current_name(home) == "tiny"
    with pytest.raises(NotFoundError):
        registry.use(home, "nope")
    with pytest.raises(ConfigError):
        registry.check_name("../evil")


def test_access_filter_applies_to_articles_the_archive_suggests(data: Path, archive: Path, tmp_path: Path) -> None:
    store = open_store(data)
    retriever = Retriever(store, data, RetrievalConfig(model=None))
    home = tmp_path / "home2"
    train(store, retriever, home, [archive], name="acl", limit=25, exclude=[])
    retriever.ranker_override = registry.load_ranker(home, "acl")
    q = "회사에서 연차휴가를 쓰지 못하게 합니다. 연차 유급휴가 미사용 수당을 받을 수 있나요?"
    free = [retriever.article_of(r) for r, _, _ in retriever.rank(q, k=10)]
    assert any(a.startswith("근로기준법") for a in free)
    only_rail = retriever.rank(q, k=10, flt=SearchFilter(collection="rail"))
    assert only_rail and all(retriever.article_of(r).startswith("철도안전법") for r, _, _ in only_rail)


def test_models_cli(tmp_path: Path) -> None:
    run = CliRunner().invoke
    home = str(tmp_path / "cli-home")
    out = run(cli, ["--data-dir", home, "models", "list"])
    assert out.exit_code == 0 and "학습된 모델이 없습니다" in out.output
    out = run(cli, ["--data-dir", home, "models", "use", "missing"])
    assert out.exit_code != 0 and "dasan models list" in str(out.exception)
    out = run(cli, ["--data-dir", home, "models", "rollback"])
    assert out.exit_code != 0 and "되돌릴" in str(out.exception)


def test_models_use_none_clears_the_slot_asked_for(tmp_path: Path) -> None:
    """An adapter and a ranker each have their slot; `use none --kind lm-adapter` clears the
    adapter and leaves the ranker in use."""
    import json as _json

    from dasan.learn import registry

    home = tmp_path / "home"
    for name, kind in (("rank-a", "ranker"), ("adapter-a", registry.LM_KIND)):
        d = registry.models_dir(home) / name
        d.mkdir(parents=True)
        (d / "manifest.json").write_text(_json.dumps({"name": name, "kind": kind}), encoding="utf-8")
    run = CliRunner().invoke
    for name in ("rank-a", "adapter-a"):
        assert run(cli, ["--data-dir", str(home), "models", "use", name]).exit_code == 0
    out = run(cli, ["--data-dir", str(home), "models", "use", "none", "--kind", "lm-adapter"])
    assert out.exit_code == 0 and "기본 모델만" in out.output, out.output
    sel = _json.loads((registry.models_dir(home) / "selection.json").read_text(encoding="utf-8"))
    assert _json.dumps(sel).count("rank-a") >= 1
    assert registry.use(home, "rank-a")["current"] == "rank-a"  # still the ranker in use: no change
    assert registry.use(home, None, registry.LM_KIND)["current"] is None


def test_record_search_text_uses_the_title() -> None:
    assert Record("1", "질문", "답", "제목").search_text == "제목\n질문"
