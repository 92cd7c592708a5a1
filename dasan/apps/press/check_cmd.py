"""`dasan press check FILE…`: the 보도자료 house-style check (rules in :mod:`dasan.apps.press.style`)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from dasan.errors import DasanError


def _summary(counts: Counter[str]) -> str:
    from dasan.apps.press.style import RULE_LABELS

    parts = [f"{RULE_LABELS.get(rule, rule)} {n}건" for rule, n in counts.most_common()]
    return f"요약: {', '.join(parts)} (모두 {sum(counts.values())}건)"


@click.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="결과를 JSON으로 출력합니다.")
def check(files: tuple[Path, ...], as_json: bool) -> None:
    """보도자료 문체 점검: 개조식 끝맺음, 긴 문장, 외래어·약어, 날짜 표기, 보도시점·연락처.

    기관별 용어 목록은 DASAN_STYLE_TERMS(단어<탭>권장 표현<탭>비고 형식의 TSV)로 더합니다.
    읽지 못한 파일이 있으면 나머지를 점검한 뒤 종료 코드 1로 끝납니다.
    """
    from dasan.apps.press.style import check_release, load_terms
    from dasan.ingest.readers import read_file, safe_text

    try:
        terms = load_terms()
    except DasanError as e:
        raise click.ClickException(str(e)) from e
    results: list[dict[str, Any]] = []
    total: Counter[str] = Counter()
    failed = False
    for path in files:
        shown = safe_text(str(path), limit=300)
        try:
            findings = check_release(read_file(path), terms=terms)
        except DasanError as e:
            failed = True
            message = e.message if e.path else str(e)
            click.echo(f"오류: {shown} 파일을 읽지 못했습니다: {safe_text(message)}", err=True)
            results.append({"file": str(path), "error": message, "findings": []})
            continue
        results.append({"file": str(path), "findings": [asdict(f) for f in findings]})
        counts = Counter(f.rule for f in findings)
        total.update(counts)
        if as_json:
            continue
        click.echo(f"== {shown} ==")
        for f in findings:
            click.echo(safe_text(f.summary(), limit=400))
        click.echo(_summary(counts) if findings else "지적 사항이 없습니다.")
        click.echo()
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    elif len(files) > 1:
        click.echo(f"전체 {len(files)}개 파일 — " + (_summary(total) if total else "지적 사항이 없습니다."))
    if failed:
        raise SystemExit(1)
