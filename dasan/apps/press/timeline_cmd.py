"""`dasan press timeline "주제" [--from --to] [--json]`: releases on a topic in date order."""

from __future__ import annotations

import json
import re
from typing import Any

import click


@click.command("timeline")
@click.argument("topic")
@click.option("--from", "date_from", default=None, help="이 보도일 이후 (YYYY-MM-DD)")
@click.option("--to", "date_to", default=None, help="이 보도일 이전 (YYYY-MM-DD)")
@click.option("--collection", "-c", default=None, help="이 컬렉션에서만 찾기")
@click.option("--limit", default=50, show_default=True, help="최대 건수")
@click.option("--json", "as_json", is_flag=True, help="결과를 JSON으로 출력합니다.")
@click.pass_obj
def timeline(obj: Any, topic: str, date_from: str | None, date_to: str | None, collection: str | None,
             limit: int, as_json: bool) -> None:
    """주제에 관한 보도자료를 보도일 순서로 보여 줍니다 (제목, 보도일, 부처, 담당 부서).

    검색은 실행하는 사용자의 권한(등급, 컬렉션, 보도시점 전 비공개)으로 걸러집니다.
    """
    from dasan.apps.press.qa import ko_date
    from dasan.apps.press.timeline import timeline as find_timeline
    from dasan.rag.retrieve import Retriever, SearchFilter
    from dasan.security.access import require
    from dasan.security.guard import search_filter

    if not topic.strip():
        raise click.UsageError("주제가 비어 있습니다.")
    for name, value in (("--from", date_from), ("--to", date_to)):
        if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise click.UsageError(f"{name} 날짜 형식이 잘못되었습니다: {value} (예: 2026-01-31)")
    if obj is None:  # run outside the `dasan` group (tests invoking the command alone)
        from dasan.cli import Ctx

        obj = Ctx(None)
    require(obj.principal, "search")
    flt = search_filter(obj.store, obj.principal, SearchFilter(
        collection=collection, kinds=("press",), date_from=date_from, date_to=date_to))
    with obj.audited("search", topic[:500], command="press timeline", collection=collection) as rec:
        entries = find_timeline(Retriever(obj.store, obj.data_dir), topic, flt, limit=limit)
        rec["chunk_ids"] = [e.chunk.id for e in entries]
    if as_json:
        click.echo(json.dumps({"topic": topic, "from": date_from, "to": date_to,
                               "releases": [e.as_dict() for e in entries]}, ensure_ascii=False, indent=2))
        return
    if not entries:
        click.echo("주제에 맞는 보도자료를 찾지 못했습니다.")
        return
    click.echo(f"‘{topic}’ 보도자료 {len(entries)}건 (보도일 순)")
    for e in entries:
        who = ", ".join(e.departments) or e.ministry
        click.echo(f"  {ko_date(e.release_date) or '(보도일 없음)'}  {e.title}" + (f"  [{who}]" if who else ""))
