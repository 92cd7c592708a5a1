"""``dasan bench lm``: per-token perplexity of the served models on documents they did not train on.

Each model is what the llama-cpp backend serves: ``base`` is the base GGUF alone, a model name
(or ``current``) is the base GGUF with that ``dasan train llm`` adapter. The corpus folders are
ingested into a bench store and every document is rendered as training renders one (header,
headline, sections; :func:`dasan.learn.llm.data.document_texts`), then scored in windows of
``window`` tokens (each window starts with BOS; every token after it is predicted and counted).
Perplexity is ``exp(total negative log-likelihood / tokens)`` over all documents. Documents an
adapter was trained on (by id or source stem, from its ``documents.jsonl``) are left out for
every model, so all models are scored on the same unseen text; how many were left out is reported."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dasan.errors import ConfigError, LLMError


def _trained_ids(data_dir: Path, name: str) -> set[str]:
    from dasan.learn import registry

    path = registry.model_path(data_dir, name) / "documents.jsonl"
    out: set[str] = set()
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.update(x for x in (row.get("id"), row.get("source")) if x)
    return out


def score_texts(gguf: Path, adapter: Path | None, texts: list[str], *, window: int = 512,
                max_doc_tokens: int | None = None, n_threads: int | None = None,
                log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Total negative log-likelihood and token count of ``texts`` under llama.cpp (+ adapter)."""
    import llama_cpp
    import numpy as np

    from dasan.llm.llamacpp import default_threads

    threads = n_threads or default_threads()
    kwargs: dict[str, Any] = {"model_path": str(gguf), "n_ctx": window, "n_batch": window, "logits_all": True,
                              "verbose": False, "seed": 0, "n_threads": threads, "n_threads_batch": threads}
    if adapter is not None:
        kwargs["lora_path"] = str(adapter)
    try:
        llm = llama_cpp.Llama(**kwargs)
    except (ValueError, RuntimeError, OSError) as e:
        raise LLMError(f"llama.cpp가 모델을 불러오지 못했습니다: {gguf} ({e}). 어댑터가 이 기본 모델용인지 확인하세요.") from e
    nll, count = 0.0, 0
    t0 = time.perf_counter()
    try:
        bos = llm.token_bos()
        for text in texts:
            ids = list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))[:max_doc_tokens]
            for start in range(0, len(ids), window - 1):
                seq = [bos, *ids[start:start + window - 1]]
                if len(seq) < 2:
                    continue
                llm.reset()
                llm.eval(seq)
                logits = np.asarray(llm.scores[: len(seq) - 1], dtype=np.float32)
                m = logits.max(axis=1, keepdims=True)
                lse = m[:, 0].astype(np.float64) + np.log(np.exp(logits - m).sum(axis=1, dtype=np.float64))
                target = np.asarray(seq[1:])
                nll += float((lse - logits[np.arange(len(target)), target]).sum())
                count += len(target)
    finally:
        llm.close()
    return {"nll": nll, "tokens": count, "seconds": round(time.perf_counter() - t0, 1)}


def bench_lm(corpus: list[str], models: list[str], *, data_dir: Path, gguf: Path | None = None,
             window: int = 512, limit: int | None = None, max_doc_tokens: int | None = None,
             log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    from dasan.learn.llm.data import document_texts
    from dasan.learn.llm.pipeline import holdout_store
    from dasan.llm.llamacpp import bundled_gguf_path, resolve_adapter

    if not models:
        raise ConfigError("--models에 비교할 모델을 주세요 (예: base,lm-20260101-000000).")
    base = Path(gguf).expanduser() if gguf else bundled_gguf_path()
    store = holdout_store(corpus)
    try:
        docs = document_texts(store)
    finally:
        store.close()
    if not docs:
        raise ConfigError("말뭉치에서 읽은 문서가 없습니다. --corpus 폴더를 확인하세요.")
    resolved: list[tuple[str, Path | None]] = []
    trained: set[str] = set()
    for spec in models:
        if spec in ("base", "none"):
            resolved.append(("base", None))
            continue
        got = resolve_adapter(base, spec, data_dir)
        if got is None:
            raise ConfigError(f"'{spec}': 사용 중인 언어 모델 어댑터가 없습니다. `dasan models list`로 이름을 확인하세요.")
        resolved.append((spec, got[1]))
        trained |= _trained_ids(data_dir, got[0])
    kept = [(i, t) for i, t in docs if i not in trained]
    if limit is not None:
        kept = kept[:limit]
    if not kept:
        raise ConfigError("모든 평가 문서가 어댑터의 학습 문서와 겹칩니다. 학습에 쓰지 않은 문서로 재세요.")
    log(f"평가 문서 {len(kept)}개 (학습에 쓴 문서 {len(docs) - len(kept)}개 제외)")
    out: dict[str, Any] = {}
    for label, adapter in resolved:
        r = score_texts(base, adapter, [t for _, t in kept], window=window, max_doc_tokens=max_doc_tokens, log=log)
        ppl = math.exp(r["nll"] / r["tokens"]) if r["tokens"] else None
        out[label] = {"perplexity": round(ppl, 4) if ppl else None, "tokens": r["tokens"],
                      "nll_per_token": round(r["nll"] / r["tokens"], 5) if r["tokens"] else None,
                      "seconds": r["seconds"]}
        log(f"{label}: 퍼플렉서티 {out[label]['perplexity']} ({r['tokens']}토큰, {r['seconds']}초)")
    result: dict[str, Any] = {"models": out, "documents": len(kept), "left_out_trained": len(docs) - len(kept),
                              "document_ids": [i for i, _ in kept], "window": window,
                              "max_doc_tokens": max_doc_tokens, "base_gguf": base.name}
    if "base" in out and out["base"]["perplexity"]:
        result["ratio_to_base"] = {k: round(v["perplexity"] / out["base"]["perplexity"], 4)
                                   for k, v in out.items() if k != "base" and v["perplexity"]}
    return result


def _cli() -> Any:
    import click

    @click.command("lm")
    @click.option("--corpus", "corpus", multiple=True, required=True, type=click.Path(exists=True),
                  help="학습에 쓰지 않은 문서 폴더·파일 (여러 번 지정 가능)")
    @click.option("--models", "models", default="base,current", show_default=True,
                  help="쉼표로 구분한 모델: base(기본 모델만), 어댑터 이름, current(사용 중인 어댑터)")
    @click.option("--gguf", default=None, type=click.Path(exists=True, dir_okay=False),
                  help="기본 GGUF (기본: 내장 Gemma 3 270M)")
    @click.option("--window", type=click.IntRange(32), default=512, show_default=True, help="한 번에 재는 토큰 수")
    @click.option("--limit", type=click.IntRange(1), default=None, help="앞에서부터 이 개수의 문서만")
    @click.option("--max-doc-tokens", type=click.IntRange(2), default=None,
                  help="문서마다 앞에서부터 이 토큰 수만 (CPU에서는 모든 위치의 로짓 계산이 느림: 512토큰에 수십 초)")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_obj
    def lm_cmd(ctx: Any, corpus: tuple[str, ...], models: str, gguf: str | None, window: int, limit: int | None,
               max_doc_tokens: int | None, as_json: bool) -> None:
        """언어 모델의 토큰당 퍼플렉서티를 학습하지 않은 문서로 잽니다 (기본 모델 대 학습 어댑터)."""
        result = bench_lm(list(corpus), [m.strip() for m in models.split(",") if m.strip()], data_dir=ctx.data_dir,
                          gguf=Path(gguf) if gguf else None, window=window, limit=limit,
                          max_doc_tokens=max_doc_tokens,
                          log=lambda m: click.echo(m, err=True))
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False, indent=2))
            return
        click.echo(f"documents: {result['documents']} (trained-on left out: {result['left_out_trained']})")
        click.echo(f"{'model':<28}{'perplexity':>12}{'tokens':>10}{'ratio':>8}")
        for name, m in result["models"].items():
            ratio = (result.get("ratio_to_base") or {}).get(name, 1.0 if name == "base" else "-")
            click.echo(f"{name:<28}{m['perplexity']!s:>12}{m['tokens']:>10}{ratio!s:>8}")

    return lm_cmd


lm_cmd = _cli()
