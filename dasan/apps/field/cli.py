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
    """현장 안전 도우미: 세 부분 답변(ask), 사고 보고 초안(report), 절차(steps)."""


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


@field.command("ask")
@click.argument("question")
@click.option("--collection", "-c", default=None, help="이 컬렉션의 기록(표)만")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def field_ask(ctx, question: str, collection: str | None, as_json: bool) -> None:
    """현장 질문 하나에 세 부분으로: 지금 할 일(매뉴얼·국민행동요령), 법적 의무(조문·시행일·보고 기한), 과거 사례(비슷한 기록·건수)."""
    from dasan.apps.field.answer import field_answer
    from dasan.rag.retrieve import Retriever
    from dasan.security.access import require
    from dasan.security.guard import search_filter

    require(ctx.principal, "ask")
    retriever = Retriever(ctx.store, ctx.data_dir)
    with ctx.audited("answer", question[:500], profile="field"):
        ans = field_answer(question, retriever, ctx.store, ctx.principal, search_filter(ctx.store, ctx.principal),
                           collection)
    if as_json:
        click.echo(json.dumps(ans.as_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(ans.text())


@field.command("report")
@click.argument("description")
@click.option("--collection", "-c", default=None, help="이 컬렉션의 사고대장 양식으로")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def field_report(ctx, description: str, collection: str | None, as_json: bool) -> None:
    """짧은 사고 설명으로 사고 보고 초안을 만듭니다 (사고대장 항목, 법령상 보고와 기한). 제출은 사람이 합니다."""
    from dasan.apps.field.records import load_tables
    from dasan.apps.field.report import draft_report
    from dasan.rag.retrieve import Retriever
    from dasan.security.access import require
    from dasan.security.guard import search_filter

    require(ctx.principal, "ask")
    retriever = Retriever(ctx.store, ctx.data_dir)
    with ctx.audited("field.report", description[:500]):
        draft = draft_report(description, load_tables(ctx.store, ctx.principal, collection), retriever,
                             search_filter(ctx.store, ctx.principal))
    if as_json:
        click.echo(json.dumps(draft.as_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(draft.text())
