"""``dasan train llm`` end to end: governed text → LoRA → adapter (GGUF + safetensors) → round trip → registry.

The published model folder ``<data dir>/models/<name>/`` holds:

- ``manifest.json``: ``kind`` ``lm-adapter``, the base model (GGUF name and SHA-256, or the HF
  folder), the training settings and result (steps, tokens, tokens/s, loss, seconds), the
  governance summary (collections, level cap, counts kept out and why) and the round-trip check;
- ``adapter.gguf`` (llama.cpp, loaded by the llama-cpp backend) and ``safetensors/``
  (``adapter_model.safetensors`` + ``adapter_config.json``: peft, vLLM, transformers);
- ``documents.jsonl``: every document used with its chunks (ids, SHA-256 of the text, levels);
  ``excluded.jsonl``: what was kept out and why; ``pieces.jsonl``: each training piece's kind,
  document, chunks and SHA-256 (the text itself is not kept beside the model).

Work in progress (checkpoints) lives in ``<data dir>/models/.work/<name>/`` until the model is
published; running the same command again resumes there."""

from __future__ import annotations

import json
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dasan.errors import ConfigError
from dasan.learn import registry
from dasan.learn.llm.data import (
    Holdout,
    TrainingSet,
    build_training_set,
    document_texts,
    holdout_from_store,
    read_eval_questions,
    sha256_text,
)
from dasan.learn.llm.trainer import ALL_LINEAR, TrainConfig, cpu_bf16_supported

FORMAT = 1


def default_name() -> str:
    return time.strftime("lm-%Y%m%d-%H%M%S")


def work_dir(data_dir: Path, name: str) -> Path:
    return registry.models_dir(data_dir) / ".work" / name


def holdout_store(paths: list[str]) -> Any:
    """A bench store holding the held-out documents (ingested once, cached like other benches)."""
    from dasan.bench.retrieval import bench_data_dir, ingest_corpus
    from dasan.store import open_store

    store = open_store(bench_data_dir(paths))
    ingest_corpus(store, paths)
    return store


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def prepare(store: Any, collections: list[str], *, max_level: str, holdout: list[str], exclude: list[Path],
            exclude_gold: bool = True, instructions: bool = True) -> tuple[TrainingSet, list[str]]:
    """The governed training set and held-out texts (for the round trip)."""
    held = Holdout()
    held_texts: list[str] = []
    if holdout:
        hs = holdout_store(holdout)
        try:
            held = holdout_from_store(hs)
            held_texts = [t for _, t in document_texts(hs)]
        finally:
            hs.close()
    evalq = read_eval_questions(exclude)
    ts = build_training_set(store, collections, max_level=max_level, holdout=held, eval_questions=evalq,
                            exclude_gold=exclude_gold, instructions=instructions)
    return ts, held_texts


def train_llm(store: Any, data_dir: Path, collections: list[str], *, name: str | None = None,
              max_level: str = "공개", holdout: list[str] | None = None, exclude: list[Path] | None = None,
              exclude_gold: bool = True, max_tokens: int | None = None, steps: int | None = None,
              seed: int = 0, time_limit_s: float | None = None, base: str | None = None,
              base_gguf: str | None = None, device: str = "cpu", dtype: str | None = None,
              seq_len: int = 256, batch: int = 2, rank: int | None = None, lr: float = 5e-4,
              targets: list[str] | str | None = None, instructions: bool = True,
              roundtrip_tokens: int = 256, log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Train, convert, check and publish an adapter; returns its manifest."""
    from dasan.learn.llm.model import load_base, require_train_deps

    require_train_deps()
    t_start = time.perf_counter()
    name = registry.check_name(name or default_name())
    if (registry.models_dir(data_dir) / name).exists():
        raise ConfigError(f"모델 '{name}'이(가) 이미 있습니다. 다른 --name을 주세요.")
    exclude = list(exclude or [])
    ts, held_texts = prepare(store, collections, max_level=max_level, holdout=list(holdout or []),
                             exclude=exclude, exclude_gold=exclude_gold, instructions=instructions)
    counts = ts.counts()
    log(f"학습 데이터: 문서 {counts['documents']}개(청크 {counts['chunks']}개), 문서 본문 {counts['document_pieces']}개, "
        f"질문-답변 쌍 {counts['instruction_pairs']}개, 개인정보 가림 {counts['pii_masked']}건, 제외 {len(ts.excluded)}건")
    cuda = device.startswith("cuda")
    cfg = TrainConfig(seq_len=seq_len, batch=batch, steps=steps, max_tokens=max_tokens, lr=lr,
                      rank=rank or (16 if cuda else 8), alpha=2 * (rank or (16 if cuda else 8)),
                      targets=targets or ALL_LINEAR, seed=seed,
                      time_limit_s=time_limit_s, device=device,
                      autocast_bf16=(not cuda and (dtype or "float32") == "float32" and cpu_bf16_supported()))
    t_load = time.perf_counter()
    bm = load_base(data_dir, base, dtype=dtype or ("bfloat16" if cuda else "float32"), device=device, log=log)
    log(f"기본 모델 불러옴: {Path(bm.source).name} ({time.perf_counter() - t_load:.0f}초)")
    from dasan.learn.llm.trainer import _lora_state, train_lora

    work = work_dir(data_dir, name)
    work.mkdir(parents=True, exist_ok=True)
    peft_model, result = train_lora(bm.model, bm.tokenizer, [p.text for p in ts.pieces], cfg, work, log=log)
    if result.stopped_by == "time" and result.steps == 0:
        raise ConfigError("시간 제한 안에 한 단계도 학습하지 못했습니다. --time-limit을 늘리세요.")
    tmp = registry.staging_dir(data_dir, name)
    try:
        from dasan.learn.llm.convert import write_adapter_gguf

        peft_model.save_pretrained(str(tmp / "safetensors"))
        _fix_adapter_config(tmp / "safetensors" / "adapter_config.json", bm)
        state = _lora_state(peft_model)
        gguf_info = None
        try:
            gguf_info = write_adapter_gguf(state, model_type=bm.model.config.model_type,
                                           n_layers=int(bm.model.config.num_hidden_layers), alpha=float(cfg.alpha),
                                           out=tmp / "adapter.gguf", name=name)
        except ConfigError as e:
            log(f"어댑터 GGUF를 만들지 않았습니다: {e}")
        served_gguf = _served_gguf(bm, base_gguf)
        check: dict[str, Any] | None = None
        if gguf_info and served_gguf is not None:
            from dasan.learn.llm.roundtrip import roundtrip

            text = held_texts[0] if held_texts else ts.pieces[-1].text
            check = roundtrip(peft_model, bm.tokenizer, served_gguf, tmp / "adapter.gguf", text,
                              max_tokens=roundtrip_tokens)
            check["text"] = "held-out document" if held_texts else "training text (no --holdout given)"
            log(f"왕복 확인: 토큰 id {'일치' if check['token_ids']['identical'] else '불일치'}, 다음 토큰 일치율 "
                f"{check['top1_agreement']:.3f} (어댑터 없이 {check['top1_agreement_without_adapter']:.3f}) → "
                f"{'통과' if check['passed'] else '실패'}")
        _write_jsonl(tmp / "documents.jsonl", ts.documents)
        _write_jsonl(tmp / "excluded.jsonl", ts.excluded)
        _write_jsonl(tmp / "pieces.jsonl", [{"kind": p.kind, "document_id": p.document_id, "chunk_ids": p.chunk_ids,
                                             "sha256": sha256_text(p.text)} for p in ts.pieces])
        manifest = {
            "name": name,
            "kind": registry.LM_KIND,
            "format": FORMAT,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "base": {"kind": bm.kind, "source": bm.source,
                     "gguf_name": served_gguf.name if served_gguf else None,
                     "gguf_sha256": bm.sha256, "model_type": bm.model.config.model_type},
            "files": {"gguf": "adapter.gguf" if gguf_info else None, "safetensors": "safetensors",
                      "documents": "documents.jsonl", "excluded": "excluded.jsonl", "pieces": "pieces.jsonl"},
            "adapter": {"method": "lora", "rank": cfg.rank, "alpha": cfg.alpha, "targets": cfg.targets,
                        "gguf": gguf_info},
            "training": {
                # the keys `dasan models list` reads for every model
                "used_positives": counts["instruction_pairs"],
                "excluded": _excluded_counts(ts),
                "collections": ts.collections, "max_level": ts.max_level, "exclude_eval_files": [str(p) for p in exclude],
                "exclude_gold_documents": exclude_gold, "holdout": list(holdout or []),
                "near_duplicate_jaccard": 0.5, **counts,
                "settings": {k: v for k, v in asdict(cfg).items()},
                "result": asdict(result),
            },
            "roundtrip": check,
            "seconds": round(time.perf_counter() - t_start, 1),
            "machine": f"{platform.machine()} {platform.system()} ({device})",
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        registry.publish(data_dir, tmp, name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(work, ignore_errors=True)
    return manifest


def _excluded_counts(ts: TrainingSet) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in ts.excluded:
        key = e["reason"].split(":")[0]
        out[key] = out.get(key, 0) + 1
    return out


def _served_gguf(bm: Any, base_gguf: str | None) -> Path | None:
    if base_gguf:
        p = Path(base_gguf).expanduser()
        if not p.is_file():
            raise ConfigError(f"--base-gguf 파일이 없습니다: {p}.")
        return p
    return Path(bm.source) if bm.kind == "bundled-gguf" else None


def _fix_adapter_config(path: Path, bm: Any) -> None:
    """Name the base in adapter_config.json as the operator knows it (not the float cache path)."""
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return
    cfg["base_model_name_or_path"] = bm.source if bm.kind == "hf-dir" else Path(bm.source).name
    path.write_text(json.dumps(cfg, ensure_ascii=False, indent=2), encoding="utf-8")
