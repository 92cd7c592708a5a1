"""``dasan train llm`` (and the ``dasan train`` group that keeps ``dasan train --archive …`` working)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from dasan.cli import Ctx

pass_ctx = click.pass_obj


def _parse_duration(value: str | None) -> float | None:
    """``90`` (seconds), ``25m``, ``1.5h`` → seconds."""
    if value is None:
        return None
    v = value.strip().lower()
    mult = {"s": 1, "m": 60, "h": 3600}.get(v[-1:])
    try:
        return float(v[:-1]) * mult if mult else float(v)
    except ValueError:
        raise click.BadParameter(f"시간 형식이 아닙니다: {value!r} (예: 1800, 25m, 1.5h)") from None


@click.command("llm")
@click.option("--collection", "collections", multiple=True, required=True, help="학습에 쓸 컬렉션 (여러 번 지정 가능)")
@click.option("--max-level", default="공개", show_default=True, help="이 등급 이하의 문서만 학습 (공개·민감·기밀)")
@click.option("--max-tokens", type=click.IntRange(1), default=None, help="학습할 토큰 수 상한 (기본: 텍스트 한 바퀴)")
@click.option("--steps", type=click.IntRange(1), default=None, help="학습 단계 수 (--max-tokens보다 우선)")
@click.option("--time-limit", default=None, help="학습 시간 상한 (초 또는 25m, 1.5h): 넘으면 체크포인트를 남기고 멈춤")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--name", default=None, help="모델 이름 (기본: lm-날짜-시각); 같은 이름으로 다시 실행하면 이어서 학습")
@click.option("--holdout", "holdout", multiple=True, type=click.Path(exists=True),
              help="평가용으로 남길 문서 (파일·폴더): id와 거의 같은 본문으로 학습에서 제외하고 왕복 확인에 씀")
@click.option("--exclude", "exclude", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="평가 질문 JSONL: 질문과 정답 문서를 학습에서 제외 (기본: 프로젝트 평가 세트)")
@click.option("--keep-gold", is_flag=True, help="평가 질문의 정답 문서는 학습에 남김 (질문만 제외)")
@click.option("--no-instructions", is_flag=True, help="질문-답변 쌍 없이 문서 본문만 학습")
@click.option("--base", default=None, type=click.Path(exists=True, file_okay=False),
              help="기본 모델 HF 폴더 (GPU용, 예: Apache-2.0 한국어 모델); 없으면 내장 Gemma 3 270M")
@click.option("--base-gguf", default=None, type=click.Path(exists=True, dir_okay=False),
              help="--base 모델을 GGUF로 변환한 파일 (어댑터 왕복 확인·llama.cpp 서비스용)")
@click.option("--device", default="cpu", show_default=True, help="cpu 또는 cuda")
@click.option("--dtype", default=None, help="float32(기본, CPU) 또는 bfloat16(기본, cuda)")
@click.option("--seq-len", type=click.IntRange(16), default=256, show_default=True)
@click.option("--batch", type=click.IntRange(1), default=2, show_default=True)
@click.option("--rank", type=click.IntRange(1), default=None, help="LoRA 랭크 (기본: CPU 8, cuda 16)")
@click.option("--lr", type=float, default=5e-4, show_default=True)
@click.option("--targets", default=None, help="LoRA 대상 모듈 (쉼표 구분; all-linear; 기본: all-linear)")
@click.option("--use/--no-use", "use_it", default=False, help="학습 후 바로 이 어댑터를 사용")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def llm_cmd(ctx: Ctx, collections: tuple[str, ...], max_level: str, max_tokens: int | None, steps: int | None,
            time_limit: str | None, seed: int, name: str | None, holdout: tuple[str, ...], exclude: tuple[str, ...],
            keep_gold: bool, no_instructions: bool, base: str | None, base_gguf: str | None, device: str,
            dtype: str | None, seq_len: int, batch: int, rank: int | None, lr: float, targets: str | None,
            use_it: bool, as_json: bool) -> None:
    """기관 문서로 언어 모델(LoRA 어댑터)을 학습합니다 (학습용 추가 패키지 필요)."""
    from dasan.learn import registry
    from dasan.learn.cli import _default_excludes
    from dasan.learn.llm.pipeline import train_llm
    from dasan.security.access import require

    require(ctx.principal, "manage")
    excludes = [Path(p) for p in exclude] or _default_excludes()
    log = lambda m: click.echo(m, err=True)  # noqa: E731
    log("평가 질문 제외: " + (", ".join(p.name for p in excludes) or "없음"))
    tgt: list[str] | str | None = None
    if targets:
        tgt = "all-linear" if targets.strip() == "all-linear" else [t.strip() for t in targets.split(",") if t.strip()]
    with ctx.audited("model.train", name or "", kind="lm-adapter", collections=list(collections),
                     max_level=max_level, excluded=[str(p) for p in excludes]) as out:
        manifest = train_llm(ctx.store, ctx.data_dir, list(collections), name=name, max_level=max_level,
                             holdout=list(holdout), exclude=excludes, exclude_gold=not keep_gold,
                             max_tokens=max_tokens, steps=steps, seed=seed, time_limit_s=_parse_duration(time_limit),
                             base=base, base_gguf=base_gguf, device=device, dtype=dtype, seq_len=seq_len,
                             batch=batch, rank=rank, lr=lr, targets=tgt, instructions=not no_instructions, log=log)
        out["model"] = manifest["name"]
        if use_it:
            registry.use(ctx.data_dir, manifest["name"])
            out["used"] = True
    if as_json:
        click.echo(json.dumps(manifest, ensure_ascii=False, indent=2, default=str))
        return
    r = manifest["training"]["result"]
    click.echo(f"어댑터 '{manifest['name']}' 저장 ({manifest['seconds']}초): {ctx.data_dir / 'models' / manifest['name']}")
    click.echo(f"학습 {r['steps']}/{r['planned_steps']}단계, {r['tokens']:,}토큰, {r['tokens_per_s']} 토큰/초, "
               f"손실 {r['loss_first']} → {r['loss_last']}" + (" (시간 제한으로 멈춤)" if r["stopped_by"] == "time" else ""))
    rt = manifest.get("roundtrip")
    if rt:
        click.echo(f"왕복 확인: 다음 토큰 일치율 {rt['top1_agreement']} → {'통과' if rt['passed'] else '실패'}")
    click.echo("사용 중" if use_it else f"사용하려면: dasan models use {manifest['name']}")


def train_group() -> click.Group:
    """``dasan train``: the retrieval-ranker command as before (``--archive …``) plus ``llm``."""
    from dasan.learn.cli import train_cmd

    params = [copy.copy(p) for p in train_cmd.params]
    for p in params:
        if p.name == "archive":
            p.required = False

    @click.pass_context
    def callback(cctx: click.Context, **kwargs: Any) -> None:
        if cctx.invoked_subcommand is not None:
            return
        if not kwargs.get("archive"):
            raise click.UsageError("--archive 기록폴더(검색 순위 모델) 또는 `dasan train llm --collection 이름`"
                                   "(언어 모델)을 지정하세요.", ctx=cctx)
        cctx.invoke(train_cmd, **kwargs)

    group = click.Group("train", params=params, callback=callback, invoke_without_command=True,
                        help=(train_cmd.help or "") + "\n\n`dasan train llm`: 기관 문서로 언어 모델(LoRA 어댑터)을 학습합니다.")
    group.add_command(llm_cmd)
    return group
