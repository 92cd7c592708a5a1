"""``dasan records query``."""

from __future__ import annotations

import json

import click


@click.group("records")
def records() -> None:
    """사고 기록(표) 질의 — 조건·건수·묶음을 구조화 질의로 계산합니다 (모델이 세지 않음)."""


@records.command("query")
@click.argument("question")
@click.option("--collection", "-c", default=None, help="이 컬렉션의 기록만")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def records_query(ctx, question: str, collection: str | None, as_json: bool) -> None:
    """질문을 조건·집계로 바꿔 기록을 세고, 근거 기록 번호를 보여 줍니다."""
    from dasan.apps.field.records import answer, load_tables
    from dasan.security.access import require

    require(ctx.principal, "search")
    ans = answer(question, load_tables(ctx.store, ctx.principal, collection))
    if as_json:
        click.echo(json.dumps(ans.as_dict() if ans else None, ensure_ascii=False, indent=2))
        return
    click.echo(ans.text() if ans else "볼 수 있는 기록(표)이 없습니다. CSV/XLSX 기록을 먼저 수집하세요.")


@records.command("similar")
@click.argument("description")
@click.option("--k", "k", default=5, show_default=True, type=click.IntRange(1, 50), help="보여 줄 기록 수")
@click.option("--collection", "-c", default=None, help="이 컬렉션의 기록만")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def records_similar(ctx, description: str, k: int, collection: str | None, as_json: bool) -> None:
    """지금 상황과 비슷한 과거 사고 기록 (원인·조치·재발방지대책과 함께)."""
    from dasan.apps.field.records import load_tables, similar, similar_text
    from dasan.security.access import require

    require(ctx.principal, "search")
    results = [(t, similar(description, t, k)) for t in load_tables(ctx.store, ctx.principal, collection)]
    results = [(t, items) for t, items in results if items]
    if as_json:
        click.echo(json.dumps([{"table": t.title, "document_id": t.document_id, "records": [
            {"record_id": it.record.record_id, "citation": it.record.label, "score": round(it.score, 3),
             "matched": it.reasons, "fields": it.record.fields} for it in items]} for t, items in results],
            ensure_ascii=False, indent=2))
        return
    if not results:
        click.echo("비슷한 과거 기록을 찾지 못했습니다.")
    for t, items in results:
        click.echo(similar_text(items, t))


@click.group("field")
def field() -> None:
    """현장 안전 도우미: 매뉴얼·국민행동요령의 절차."""


@field.command("steps")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def field_steps(ctx, question: str, as_json: bool) -> None:
    """상황에 맞는 절차를 순서대로: 운영기관 매뉴얼 먼저, 국민행동요령 다음 (각 단계 출처 표시)."""
    from dasan.apps.field.procedures import checklist_text, checklists
    from dasan.rag.retrieve import Retriever
    from dasan.security.access import require
    from dasan.security.guard import search_filter

    require(ctx.principal, "search")
    retriever = Retriever(ctx.store, ctx.data_dir)
    items = checklists(question, retriever, search_filter(ctx.store, ctx.principal))
    if as_json:
        click.echo(json.dumps([{"source": c.source, "document_id": c.document_id, "section": c.section,
                                "steps": [{"n": s.n, "text": s.text, "citation": c.citation(s)} for s in c.steps]}
                               for c in items], ensure_ascii=False, indent=2))
        return
    click.echo(checklist_text(items))
