"""``dasan train`` and ``dasan models list|use|rollback``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from dasan.cli import Ctx

# The root command's context object (dasan.cli.Ctx); not imported from dasan.cli, which imports
# this module while it registers its commands (also when run as ``python -m dasan.cli``).
pass_ctx = click.pass_obj


def _emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def _stderr(message: str) -> None:
    click.echo(message, err=True)


def _default_excludes() -> list[Path]:
    """The project's evaluation question sets, where present (../shared/bench/*.jsonl and the
    repo's bench/*.jsonl): kept out of training unless --exclude names others."""
    from dasan import config

    found = sorted((config.shared_dir() / "bench").glob("*.jsonl"))
    found += sorted((config.REPO_ROOT / "bench").glob("*.jsonl"))
    return found


@click.command("train")
@click.option("--archive", "archive", multiple=True, required=True, type=click.Path(exists=True),
              help="질의응답 기록 (JSONL 파일 또는 폴더; ../shared/data/legal-qa 형식)")
@click.option("--exclude", "exclude", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="학습에서 뺄 평가 질문 JSONL (id와 거의 같은 문장으로 제외; 기본: 프로젝트 평가 세트)")
@click.option("--corpus", "corpus", multiple=True, type=click.Path(exists=True),
              help="이 말뭉치(벤치 색인)로 학습 (기본: 현재 데이터 디렉터리의 색인)")
@click.option("--name", default=None, help="모델 이름 (기본: ranker-날짜-시각)")
@click.option("--limit", type=click.IntRange(1), default=None, help="앞에서부터 이 개수의 학습 질문만 (시험용)")
@click.option("--use/--no-use", "use_it", default=False, help="학습 후 바로 이 모델을 사용")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def train_cmd(ctx: Ctx, archive: tuple[str, ...], exclude: tuple[str, ...], corpus: tuple[str, ...],
              name: str | None, limit: int | None, use_it: bool, as_json: bool) -> None:
    """기관의 질의응답 기록(질의회시·상담 사례)으로 검색 순위 모델을 학습합니다."""
    from dasan.learn import registry
    from dasan.learn.train import train
    from dasan.rag.retrieve import RetrievalConfig, Retriever
    from dasan.security.access import require

    require(ctx.principal, "manage")
    excludes = [Path(p) for p in exclude] or _default_excludes()
    log = _stderr
    if corpus:
        from dasan.bench.retrieval import bench_data_dir, ingest_corpus
        from dasan.store import open_store

        ddir = bench_data_dir(list(corpus))
        store = open_store(ddir)
        ingest_corpus(store, list(corpus))
    else:
        ddir, store = ctx.data_dir, ctx.store
    retriever = Retriever(store, ddir, RetrievalConfig(model=None))
    log("평가 질문 제외: " + (", ".join(p.name for p in excludes) or "없음"))
    with ctx.audited("model.train", name or "", archive=list(archive), excluded=[str(p) for p in excludes]) as out:
        manifest = train(store, retriever, ctx.data_dir, archive, exclude=excludes, name=name, limit=limit, log=log)
        out["model"] = manifest["name"]
        if use_it:
            registry.use(ctx.data_dir, manifest["name"])
            out["used"] = True
    if as_json:
        _emit_json(manifest)
        return
    click.echo(f"모델 '{manifest['name']}' 저장 ({manifest['seconds']}초): {ctx.data_dir / 'models' / manifest['name']}")
    cv = manifest.get("cross_validation")
    if cv:
        click.echo(f"교차검증 {cv['questions']}문항: 하이브리드 R@5 {cv['hybrid']['recall@5']} MRR@10 {cv['hybrid']['mrr@10']}"
                   f" → 학습 모델 R@5 {cv['learned']['recall@5']} MRR@10 {cv['learned']['mrr@10']}")
    click.echo("사용 중" if use_it else f"사용하려면: dasan models use {manifest['name']}")


@click.group("models")
def models() -> None:
    """학습된 검색 순위 모델 (목록·선택·되돌리기)."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def models_list(ctx: Ctx, as_json: bool) -> None:
    from dasan.learn import registry

    items = registry.list_models(ctx.data_dir)
    if as_json:
        _emit_json(items)
        return
    if not items:
        click.echo("학습된 모델이 없습니다. `dasan train --archive 기록폴더`로 학습하세요.")
        return
    for m in items:
        tr = m.get("training", {})
        cv = (m.get("cross_validation") or {}).get("learned", {})
        click.echo(f"{'*' if m['current'] else ' '} {m['name']:<28} {m.get('created', '')[:19]}  "
                   f"학습 질문 {tr.get('used_positives', '?')} · 제외 {sum((tr.get('excluded') or {}).values())}"
                   f" · 교차검증 R@5 {cv.get('recall@5', '-')}")
    if not any(m["current"] for m in items):
        click.echo("(사용 중인 모델 없음: 하이브리드 검색만 씁니다)")


@models.command("use")
@click.argument("name")
@click.option("--kind", type=click.Choice(["ranker", "lm-adapter"]), default="ranker", show_default=True,
              help="NAME이 none일 때 비울 자리: 검색 순위 모델(ranker) 또는 언어 모델 어댑터(lm-adapter)")
@pass_ctx
def models_use(ctx: Ctx, name: str, kind: str) -> None:
    """NAME 모델을 씁니다 (종류는 모델이 정함). none: --kind 자리의 학습 모델을 쓰지 않음."""
    from dasan.learn import registry
    from dasan.security.access import require

    require(ctx.principal, "manage")

    target = None if name in ("none", "base") else name
    with ctx.audited("model.use", name, kind=kind if target is None else None):
        sel = registry.use(ctx.data_dir, target, registry.LM_KIND if kind == "lm-adapter" else registry.RANKER)
    empty = "없음 (기본 모델만)" if sel["kind"] == registry.LM_KIND else "없음 (하이브리드 검색만)"
    click.echo(f"사용 모델: {sel['current'] or empty}")


@models.command("rollback")
@pass_ctx
def models_rollback(ctx: Ctx) -> None:
    """직전에 쓰던 모델로 되돌립니다."""
    from dasan.learn import registry
    from dasan.security.access import require

    require(ctx.principal, "manage")

    with ctx.audited("model.rollback"):
        sel = registry.rollback(ctx.data_dir)
    click.echo(f"사용 모델: {sel['current'] or '없음 (하이브리드 검색만)'}")
