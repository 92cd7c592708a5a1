"""`dasan train llm` (issue 20): governed training text, LoRA on the bundled model, the adapter
served by llama.cpp, registered for `dasan models`, and `dasan bench lm`.

The data tests need no torch. The training tests need the optional extra
(`requirements-train.txt`): they skip without it here and fail under CI (CI installs it). They
run the real path on a tiny slice: the bundled Gemma 3 270M (its float copy made once per
session), two LoRA steps on short blocks, the adapter GGUF loaded by llama.cpp, the round trip."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dasan.cli import cli
from dasan.learn import registry
from dasan.learn.llm.data import Holdout, build_training_set, read_eval_questions
from dasan.store import open_store

TRAIN_MODULES = ("torch", "transformers", "peft", "safetensors", "gguf")
MISSING = [m for m in TRAIN_MODULES if importlib.util.find_spec(m) is None]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
needs_train = pytest.mark.skipif(bool(MISSING), reason=f"training extra missing: {MISSING} "
                                                        "(pip install -r requirements-train.txt)")

PII_DOC = """학교 안전 점검 결과
교육부는 올해 전국 학교 안전 점검 결과를 발표하였다. 점검 대상은 초등학교 6천여 곳이며, 노후 시설 보수가 필요한 곳은 120곳이었다.
점검에 협조한 학부모 홍길동(연락처 010-1234-5678, 주민등록번호 900101-1234568)에게 감사장을 전달하였다.
"""
SECRET_DOC = "민감 문서\n이 문서는 민감 등급이라 공개 상한의 학습에 들어가면 안 된다. 예산 세부 내역과 협상 전략이 들어 있다.\n"
HELD_DOC = ("교육부는 2026학년도 늘봄학교 운영 방안을 발표하였다. 모든 초등학교 1학년과 2학년 학생이 방과후 프로그램에 "
            "참여할 수 있도록 지원하고, 지역 대학과 연계한 맞춤형 프로그램을 확대한다. 교육부 장관은 현장의 목소리를 "
            "반영하여 제도를 개선하겠다고 밝혔다.\n")


def _ingest(home: Path, path: Path, collection: str, level: str = "공개") -> None:
    out = CliRunner().invoke(cli, ["--data-dir", str(home), "ingest", str(path), "-c", collection, "--level", level])
    assert out.exit_code == 0, out.output


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A data dir with a public collection (a PII document, a near-copy of a held-out document,
    a document the eval questions name as gold), a 민감 document, and the held-out folder."""
    root = tmp_path_factory.mktemp("llm")
    home = root / "home"
    src, secret, held = root / "src", root / "secret", root / "held"
    for d in (src, secret, held):
        d.mkdir()
    (src / "pii-release.txt").write_text(PII_DOC, encoding="utf-8")
    (src / "copy-of-held.txt").write_text(HELD_DOC.replace("발표하였다", "발표했다"), encoding="utf-8")
    (src / "gold-777.txt").write_text("평가 질문의 정답 문서다. 교육부는 31개 기관으로부터 업무보고를 받았다고 밝혔다.\n"
                                      * 2, encoding="utf-8")
    (secret / "secret.txt").write_text(SECRET_DOC, encoding="utf-8")
    (held / "held-1.txt").write_text(HELD_DOC, encoding="utf-8")
    evalq = root / "eval.jsonl"
    evalq.write_text(json.dumps({"id": "q1", "question": "pii-release의 주요 내용은 무엇인가요",
                                 "gold": ["gold-777"]}, ensure_ascii=False) + "\n", encoding="utf-8")
    _ingest(home, src, "pub")
    _ingest(home, secret, "pub", level="민감")
    return {"root": root, "home": home, "held": held, "eval": evalq}


def _holdout(held: Path) -> Holdout:
    text = held.joinpath("held-1.txt").read_text(encoding="utf-8")
    return Holdout(ids={"held-1"}, doc_texts=[text], chunk_texts=[text])


def test_training_set_is_governed(corpus: dict[str, Any]) -> None:
    store = open_store(corpus["home"])
    try:
        ts = build_training_set(store, ["pub"], max_level="공개", holdout=_holdout(corpus["held"]),
                                eval_questions=read_eval_questions([corpus["eval"]]))
    finally:
        store.close()
    text = "\n".join(p.text for p in ts.pieces)
    # PII masked (phone and resident number), the rest of the document kept with its structure
    assert "010-1234-5678" not in text and "900101-1234568" not in text
    assert "010-****-5678" in text and "학교 안전 점검 결과" in text and ts.pii_masked >= 2
    # level cap: the 민감 document is out, with the reason
    assert "협상 전략" not in text
    reasons = {e["source"]: e["reason"] for e in ts.excluded if "source" in e}
    assert reasons["secret"].startswith("level:민감>공개")
    # evaluation material: the near-copy of the held-out document and the gold document of the eval question
    assert reasons["copy-of-held"].startswith("eval-near-duplicate:document")
    assert reasons["gold-777"].startswith("eval-id:gold")
    assert "늘봄학교" not in text and "31개 기관" not in text
    # an instruction pair whose question is a near-duplicate of an eval question is kept out
    assert any(e["reason"].startswith("eval-near-duplicate:question") for e in ts.excluded)
    # manifest rows: every document used with its chunks' ids, hashes and levels
    [doc] = ts.documents
    assert doc["source"] == "pii-release" and doc["level"] == "공개" and len(doc["content_hash"]) == 64
    assert doc["chunks"] and all(len(c["sha256"]) == 64 and c["level"] == "공개" and c["id"] for c in doc["chunks"])
    # a higher cap admits the 민감 document
    store = open_store(corpus["home"])
    try:
        ts2 = build_training_set(store, ["pub"], max_level="민감", holdout=_holdout(corpus["held"]))
    finally:
        store.close()
    assert any("협상 전략" in p.text for p in ts2.pieces)


def test_unknown_collection_names_the_fix(corpus: dict[str, Any]) -> None:
    from dasan.errors import ConfigError

    store = open_store(corpus["home"])
    try:
        with pytest.raises(ConfigError, match="dasan ingest"):
            build_training_set(store, ["nope"])
    finally:
        store.close()


def test_registry_keeps_rankers_and_adapters_apart(tmp_path: Path) -> None:
    home = tmp_path
    for name, kind in (("r1", "archive-memory-ranker"), ("lm1", registry.LM_KIND)):
        d = registry.models_dir(home) / name
        d.mkdir(parents=True)
        (d / "manifest.json").write_text(json.dumps({"name": name, "kind": kind, "created": name}), encoding="utf-8")
    # an old selection file (before adapters) keeps working
    (registry.models_dir(home) / "selection.json").write_text(json.dumps({"current": "r1", "history": [None]}))
    assert registry.current_name(home) == "r1" and registry.current_lm(home) is None
    assert registry.use(home, "lm1")["kind"] == registry.LM_KIND
    assert registry.current_name(home) == "r1" and registry.current_lm(home) == "lm1"
    assert {m["name"] for m in registry.list_models(home) if m["current"]} == {"r1", "lm1"}
    registry.rollback(home)  # undoes the latest use: the adapter
    assert registry.current_lm(home) is None and registry.current_name(home) == "r1"
    registry.rollback(home)  # then the ranker's own history
    assert registry.current_name(home) is None
    with pytest.raises(Exception, match="언어 모델 어댑터"):
        registry.load_ranker(home, "lm1")


def test_train_extra_is_installed_in_ci() -> None:
    if MISSING and IN_CI:
        pytest.fail(f"CI must install the training extra (requirements-train.txt); missing: {MISSING}")
    if MISSING:
        pytest.skip(f"training extra missing: {MISSING}")


@pytest.fixture(scope="module")
def trained(corpus: dict[str, Any]) -> dict[str, Any]:
    if MISSING:
        pytest.skip(f"training extra missing: {MISSING}")
    home = corpus["home"]
    mp = pytest.MonkeyPatch()
    mp.setenv("DASAN_HOME", str(home))  # the held-out bench store goes under this test's data dir
    try:
        out = CliRunner().invoke(cli, [
            "--data-dir", str(home), "train", "llm", "--collection", "pub", "--holdout", str(corpus["held"]),
            "--exclude", str(corpus["eval"]), "--steps", "2", "--seq-len", "32", "--batch", "1",
            "--seed", "0", "--name", "tiny", "--json"])
    finally:
        mp.undo()
    assert out.exit_code == 0, (out.output, out.exception)
    manifest = json.loads(out.stdout[out.stdout.index("{"):])
    return {"home": home, "manifest": manifest, "dir": registry.models_dir(home) / "tiny"}


@needs_train
def test_training_writes_a_versioned_adapter_with_its_manifest(trained: dict[str, Any]) -> None:
    m, d = trained["manifest"], trained["dir"]
    assert m["kind"] == registry.LM_KIND and m["base"]["gguf_name"] == "gemma-3-270m-q4_k_m.gguf"
    assert (d / "adapter.gguf").read_bytes()[:4] == b"GGUF"
    assert (d / "safetensors" / "adapter_model.safetensors").is_file()
    r = m["training"]["result"]
    assert r["steps"] == 2 and r["tokens"] == 2 * 32 and r["stopped_by"] == "done"
    rows = [json.loads(x) for x in (d / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [x["source"] for x in rows] == ["pii-release"]
    excluded = [json.loads(x)["reason"] for x in (d / "excluded.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any(x.startswith("eval-near-duplicate:document") for x in excluded)
    assert any(x.startswith("level:") for x in excluded)
    # the round trip: same token ids, the served GGUF predicts what the trained model predicts
    rt = m["roundtrip"]
    assert rt["token_ids"]["identical"] and rt["passed"] and rt["top1_agreement"] >= rt["min_agreement"]
    assert rt["text"] == "held-out document"


@needs_train
def test_adapter_is_listed_chosen_and_served(trained: dict[str, Any]) -> None:
    from dasan.llm import GenerationParams
    from dasan.llm.llamacpp import LlamaCppBackend

    home = trained["home"]
    run = CliRunner().invoke
    out = run(cli, ["--data-dir", str(home), "models", "list", "--json"])
    assert out.exit_code == 0
    assert any(x["name"] == "tiny" and x["kind"] == registry.LM_KIND for x in json.loads(out.output))
    assert run(cli, ["--data-dir", str(home), "models", "use", "tiny"]).exit_code == 0
    assert registry.current_lm(home) == "tiny" and registry.current_name(home) is None
    llm = LlamaCppBackend(data_dir=home, n_ctx=256)
    assert llm.adapter == "tiny" and llm.model.endswith("+tiny")
    text = llm.chat([{"role": "user", "content": "학교 안전 점검 결과는?"}], GenerationParams(max_tokens=8))
    assert isinstance(text, str)
    assert LlamaCppBackend(data_dir=home, n_ctx=256, adapter=None).adapter is None
    assert run(cli, ["--data-dir", str(home), "models", "rollback"]).exit_code == 0
    assert registry.current_lm(home) is None


@needs_train
def test_bench_lm_scores_base_and_adapter_on_unseen_documents(trained: dict[str, Any], corpus: dict[str, Any],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASAN_HOME", str(trained["home"]))
    out = CliRunner().invoke(cli, ["--data-dir", str(trained["home"]), "bench", "lm", "--corpus", str(corpus["held"]),
                                   "--models", "base,tiny", "--window", "64", "--json"])
    assert out.exit_code == 0, (out.output, out.exception)
    res = json.loads(out.stdout[out.stdout.index("{"):])
    base, tiny = res["models"]["base"], res["models"]["tiny"]
    assert base["tokens"] == tiny["tokens"] > 20 and base["perplexity"] > 1 and tiny["perplexity"] > 1
    assert res["documents"] == 1 and "tiny" in res["ratio_to_base"]


@needs_train
def test_training_resumes_from_a_checkpoint_and_is_deterministic(trained: dict[str, Any], tmp_path: Path) -> None:
    """Interrupted after 1 of 3 steps and resumed = the same adapter as 3 steps in one go."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from dasan.learn.llm.model import float_cache_dir
    from dasan.learn.llm.trainer import TrainConfig, _lora_state, train_lora

    src = float_cache_dir(trained["home"], trained["manifest"]["base"]["gguf_sha256"])
    tok = AutoTokenizer.from_pretrained(src)
    texts = ["교육부는 학교 안전 점검 결과를 발표하였다. " * 6, "늘봄학교 운영 방안 " * 8]

    def fresh() -> Any:
        return AutoModelForCausalLM.from_pretrained(src, dtype=torch.float32)

    cfg = dict(steps=3, seq_len=16, batch=1, seed=7, checkpoint_every=100)
    m1, _ = train_lora(fresh(), tok, texts, TrainConfig(**cfg), tmp_path / "a")
    _, part = train_lora(fresh(), tok, texts, TrainConfig(**cfg, stop_after=1), tmp_path / "b")
    assert part.stopped_by == "steps" and part.steps == 1 and (tmp_path / "b" / "checkpoint" / "state.json").is_file()
    m2, r2 = train_lora(fresh(), tok, texts, TrainConfig(**cfg), tmp_path / "b")
    assert r2.resumed_from == 1 and r2.steps == 3
    s1, s2 = _lora_state(m1), _lora_state(m2)
    assert s1.keys() == s2.keys() and all(torch.allclose(s1[k], s2[k], atol=1e-6) for k in s1)

