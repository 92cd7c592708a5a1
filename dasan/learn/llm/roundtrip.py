"""The round-trip check run after every training: does the served GGUF behave as the trained model?

On held-out text: the token ids of the transformers tokenizer and of llama.cpp's (from the GGUF)
must be the same, and the top-1 next token of the trained transformers model (float weights +
LoRA) must agree with llama.cpp's (quantized base + adapter GGUF) at most positions. The same
text through llama.cpp *without* the adapter is measured too: the adapter must move llama.cpp
towards the trained model (else the adapter did not load, or was written wrongly)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dasan.errors import LLMError

MIN_AGREEMENT = 0.85  # top-1 next-token agreement (quantized base vs float: ~0.9–0.98 measured)


def _llama_top1(gguf: Path, adapter: Path | None, ids: list[int], n_threads: int | None) -> tuple[list[int], Any]:
    import llama_cpp
    import numpy as np

    kwargs: dict[str, Any] = {"model_path": str(gguf), "n_ctx": max(64, len(ids) + 8), "logits_all": True,
                              "verbose": False, "seed": 0, "n_batch": max(64, len(ids) + 8)}
    if n_threads:
        kwargs.update(n_threads=n_threads, n_threads_batch=n_threads)
    if adapter is not None:
        kwargs["lora_path"] = str(adapter)
    try:
        llm = llama_cpp.Llama(**kwargs)
    except (ValueError, RuntimeError, OSError) as e:
        raise LLMError(f"llama.cpp가 기본 모델과 어댑터를 불러오지 못했습니다 ({e}). 어댑터 GGUF가 이 기본 모델용인지 "
                       "확인하세요.") from e
    try:
        llm.eval(ids)
        scores = np.asarray(llm.scores[: len(ids)], dtype=np.float32)
        return [int(x) for x in scores.argmax(axis=1)], llm
    finally:
        llm.close()


def tokens_agree(tokenizer: Any, gguf: Path, text: str) -> dict[str, Any]:
    import llama_cpp

    hf = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    llm = llama_cpp.Llama(model_path=str(gguf), vocab_only=True, verbose=False)
    try:
        cpp = list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))
    finally:
        llm.close()
    first = next((i for i, (a, b) in enumerate(zip(hf, cpp, strict=False)) if a != b),
                 None if len(hf) == len(cpp) else min(len(hf), len(cpp)))
    return {"tokens": len(hf), "llama_cpp_tokens": len(cpp), "identical": hf == cpp, "first_difference": first}


def roundtrip(model: Any, tokenizer: Any, gguf: Path, adapter: Path, text: str, *, max_tokens: int = 256,
              n_threads: int | None = None) -> dict[str, Any]:
    """Compare the trained ``model`` (peft, eval mode) with llama.cpp + ``adapter`` on ``text``."""
    import torch

    tok = tokens_agree(tokenizer, gguf, text)
    ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])[: max_tokens - 1]
    bos = tokenizer.bos_token_id
    seq = ([bos] if bos is not None else []) + ids
    device = next(model.parameters()).device
    x = torch.tensor([seq], device=device)
    with torch.no_grad():
        hf_top = [int(t) for t in model(input_ids=x).logits[0].float().argmax(dim=-1)]
        with model.disable_adapter():
            hf_base = [int(t) for t in model(input_ids=x).logits[0].float().argmax(dim=-1)]
    with_adapter, _ = _llama_top1(gguf, adapter, seq, n_threads)
    without, _ = _llama_top1(gguf, None, seq, n_threads)
    n = len(seq)
    agree = sum(a == b for a, b in zip(hf_top, with_adapter, strict=True)) / n
    agree_base = sum(a == b for a, b in zip(hf_top, without, strict=True)) / n
    # where training changed the top-1 token: llama.cpp must follow the trained model there
    changed = [i for i in range(n) if hf_top[i] != hf_base[i]]
    follow = sum(hf_top[i] == with_adapter[i] for i in changed)
    follow_base = sum(hf_top[i] == without[i] for i in changed)
    passed = tok["identical"] and agree >= MIN_AGREEMENT and (not changed or follow > follow_base)
    return {"positions": n, "token_ids": tok, "top1_agreement": round(agree, 4),
            "top1_agreement_without_adapter": round(agree_base, 4),
            "trained_changed_top1": len(changed), "llama_cpp_followed_change": follow,
            "llama_cpp_without_adapter_followed_change": follow_base,
            "min_agreement": MIN_AGREEMENT, "passed": bool(passed)}
