"""LoRA training loop (transformers + peft): token/step/time caps, resumable checkpoints, progress.

The pieces are tokenised (BOS … EOS each), shuffled with the seed, concatenated and cut into
blocks of ``seq_len`` tokens; a step trains on ``batch`` blocks. Without ``steps`` the run makes
as many steps as ``max_tokens`` allows (default: one pass over the text). Every
``checkpoint_every`` steps, and when the time cap stops it, the adapter weights, the optimizer,
the step and the random state are written to the work folder; a run started again with the same
data and settings continues from there (the settings' hash must match, else it starts over).
Progress (a bar on a terminal, a line every few steps otherwise) shows tokens/s and the ETA."""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dasan.errors import ConfigError

CPU_TARGETS = ("q_proj", "v_proj")
ALL_LINEAR = "all-linear"


@dataclass
class TrainConfig:
    seq_len: int = 256
    batch: int = 4
    steps: int | None = None
    max_tokens: int | None = None
    epochs_cap: float = 8.0  # never more passes than this over the text when steps/max_tokens ask more
    lr: float = 3e-4
    warmup: int = 10
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.0
    targets: list[str] | str = field(default_factory=lambda: list(CPU_TARGETS))
    seed: int = 0
    time_limit_s: float | None = None
    stop_after: int | None = None  # stop (with a checkpoint) after this many steps of this run
    checkpoint_every: int = 25
    device: str = "cpu"
    autocast_bf16: bool = False  # CPU: bf16 matmuls (AMX/AVX512-BF16), float32 master weights

    def fingerprint(self, data_sha: str) -> str:
        keep = {k: v for k, v in asdict(self).items() if k not in ("time_limit_s", "stop_after", "checkpoint_every")}
        return hashlib.sha256(json.dumps([keep, data_sha], sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class TrainResult:
    steps: int
    planned_steps: int
    tokens: int
    blocks: int
    text_tokens: int
    seconds: float
    tokens_per_s: float
    loss_first: float | None
    loss_last: float | None
    resumed_from: int
    stopped_by: str  # "done" | "time" | "steps"


def cpu_bf16_supported() -> bool:
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def blocks_of(tokenizer: Any, texts: list[str], seq_len: int, seed: int) -> tuple[list[list[int]], int]:
    """Token blocks of ``seq_len`` from the texts (each BOS … EOS), shuffled by ``seed``."""
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    stream: list[int] = []
    for i in order:
        ids = tokenizer(texts[i], add_special_tokens=False)["input_ids"]
        stream.extend(([bos] if bos is not None else []) + list(ids) + ([eos] if eos is not None else []))
    n = len(stream) // seq_len
    if n == 0 and stream:
        return [stream], len(stream)
    return [stream[k * seq_len:(k + 1) * seq_len] for k in range(n)], len(stream)


def wrap_lora(model: Any, cfg: TrainConfig) -> Any:
    from peft import LoraConfig, get_peft_model

    lcfg = LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout, bias="none",
                      target_modules=cfg.targets, task_type="CAUSAL_LM")
    return get_peft_model(model, lcfg)


def _lora_state(model: Any) -> dict[str, Any]:
    from peft import get_peft_model_state_dict

    return {k: v.detach().cpu().contiguous() for k, v in get_peft_model_state_dict(model).items()}


class _Progress:
    def __init__(self, total: int, done: int, log: Callable[[str], None]) -> None:
        self.log = log
        self.total = total
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit="step", desc="LoRA 학습", file=sys.stderr)

    def update(self, step: int, tok_s: float, loss: float, eta_s: float) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"{tok_s:.0f} tok/s loss {loss:.3f}")
        elif step == 1 or step % 5 == 0 or step == self.total:
            self.log(f"  단계 {step}/{self.total}  {tok_s:.0f} 토큰/초  손실 {loss:.3f}  남은 시간 약 {eta_s / 60:.1f}분")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def train_lora(model: Any, tokenizer: Any, texts: list[str], cfg: TrainConfig, work: Path, *,
               log: Callable[[str], None] = lambda s: None) -> tuple[Any, TrainResult]:
    """Train a LoRA on ``texts``; returns the peft model (adapter attached) and what happened."""
    import torch

    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    blocks, text_tokens = blocks_of(tokenizer, texts, cfg.seq_len, cfg.seed)
    if not blocks:
        raise ConfigError("학습 텍스트가 비어 있습니다. 수집된 문서와 --collection을 확인하세요.")
    tokens_per_step = cfg.batch * len(blocks[0])
    per_epoch = math.ceil(len(blocks) / cfg.batch)
    if cfg.steps is not None:
        planned = cfg.steps
    elif cfg.max_tokens is not None:
        planned = max(1, cfg.max_tokens // tokens_per_step)
    else:
        planned = per_epoch
    planned = max(1, min(planned, math.ceil(per_epoch * cfg.epochs_cap)) if cfg.steps is None else planned)
    data_sha = hashlib.sha256(json.dumps([*blocks[:1], [len(blocks), text_tokens]]).encode()).hexdigest()
    data_sha = hashlib.sha256((data_sha + "".join(hashlib.sha256(t.encode()).hexdigest() for t in texts)).encode()).hexdigest()
    fp = cfg.fingerprint(data_sha)
    peft_model = wrap_lora(model, cfg)
    peft_model.to(cfg.device)
    params = [p for p in peft_model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)

    def lr_at(step: int) -> float:  # linear warm-up, then cosine to 10 %
        if step < cfg.warmup:
            return cfg.lr * (step + 1) / cfg.warmup
        p = (step - cfg.warmup) / max(1, planned - cfg.warmup)
        return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))

    ckpt = work / "checkpoint"
    start = 0
    losses: list[float] = []
    if (ckpt / "state.json").is_file():
        state = json.loads((ckpt / "state.json").read_text(encoding="utf-8"))
        if state.get("fingerprint") == fp and state.get("planned") == planned:
            from peft import set_peft_model_state_dict
            from safetensors.torch import load_file

            set_peft_model_state_dict(peft_model, load_file(str(ckpt / "adapter.safetensors")))
            opt.load_state_dict(torch.load(ckpt / "optimizer.pt", weights_only=True))
            torch.set_rng_state(torch.load(ckpt / "rng.pt", weights_only=True))
            start = int(state["step"])
            losses = list(state.get("losses") or [])
            log(f"체크포인트에서 이어서 학습합니다: 단계 {start}/{planned}")
        else:
            log("설정이나 데이터가 바뀌어 이전 체크포인트를 쓰지 않고 처음부터 학습합니다.")
            shutil.rmtree(ckpt, ignore_errors=True)

    def save_checkpoint(step: int) -> None:
        from safetensors.torch import save_file

        tmp = work / ".checkpoint.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        save_file(_lora_state(peft_model), str(tmp / "adapter.safetensors"))
        torch.save(opt.state_dict(), tmp / "optimizer.pt")
        torch.save(torch.get_rng_state(), tmp / "rng.pt")
        (tmp / "state.json").write_text(json.dumps({"fingerprint": fp, "planned": planned, "step": step,
                                                    "losses": losses}), encoding="utf-8")
        shutil.rmtree(ckpt, ignore_errors=True)
        tmp.rename(ckpt)

    log(f"학습 텍스트 {text_tokens:,}토큰 → {len(blocks)}개 블록({cfg.seq_len}토큰), 단계 {planned}개 × "
        f"{tokens_per_step}토큰 = {planned * tokens_per_step:,}토큰 (LoRA r={cfg.rank}, 대상 {cfg.targets})")
    peft_model.train()
    t0 = time.perf_counter()
    trained = 0
    stopped_by = "done"
    progress = _Progress(planned, start, log)
    step = start
    try:
        for step in range(start, planned):
            if cfg.time_limit_s is not None and time.perf_counter() - t0 > cfg.time_limit_s:
                stopped_by = "time"
                break
            if cfg.stop_after is not None and step - start >= cfg.stop_after:
                stopped_by = "steps"
                break
            # the epoch's order of blocks depends on the seed and the epoch only (resumable)
            epoch, pos = divmod(step * cfg.batch, len(blocks))
            order = list(range(len(blocks)))
            random.Random(cfg.seed * 1000003 + epoch).shuffle(order)
            idx = [order[(pos + k) % len(blocks)] for k in range(cfg.batch)]
            batch = torch.tensor([blocks[i] for i in idx], dtype=torch.long, device=cfg.device)
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.autocast_bf16 and cfg.device == "cpu"):
                out = peft_model(input_ids=batch, labels=batch)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            losses.append(round(float(out.loss.detach()), 4))
            trained += batch.numel()
            elapsed = time.perf_counter() - t0
            tok_s = trained / elapsed if elapsed > 0 else 0.0
            eta = (planned - step - 1) * tokens_per_step / tok_s if tok_s else 0.0
            progress.update(step + 1, tok_s, losses[-1], eta)
            if (step + 1) % cfg.checkpoint_every == 0 and step + 1 < planned:
                save_checkpoint(step + 1)
        else:
            step = planned
    finally:
        progress.close()
    if stopped_by != "done":
        save_checkpoint(step)
        why = f"시간 제한({cfg.time_limit_s:.0f}초)" if stopped_by == "time" else f"이번 실행 단계 상한({cfg.stop_after})"
        log(f"{why}에 닿아 단계 {step}/{planned}에서 멈췄습니다 (체크포인트 저장; 같은 명령으로 이어서 학습).")
    seconds = time.perf_counter() - t0
    peft_model.eval()
    return peft_model, TrainResult(
        steps=step, planned_steps=planned, tokens=step * tokens_per_step, blocks=len(blocks), text_tokens=text_tokens,
        seconds=round(seconds, 1), tokens_per_s=round(trained / seconds, 1) if seconds > 0 else 0.0,
        loss_first=losses[0] if losses else None,
        loss_last=round(sum(losses[-10:]) / len(losses[-10:]), 4) if losses else None,
        resumed_from=start, stopped_by=stopped_by)
