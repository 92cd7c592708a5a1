"""``dasan audit``: verify, export, tail and re-anchor the tamper-evident audit log.

Register with ``cli.add_command(audit)`` in :mod:`dasan.cli`. The data directory comes from the
root ``Ctx`` (``--data-dir``) when present, else ``DASAN_HOME``/the user data dir.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

import click

from dasan import config
from dasan.security.audit import AuditError, AuditLog, cli_actor, parse_since
from dasan.security.audit_verify import KIND_KO


def _log(ctx: click.Context) -> AuditLog:
    root = ctx.find_root().obj
    data_dir = getattr(root, "data_dir", None) or config.data_dir()
    from dasan.store.postgres.audit import open_audit

    return open_audit(Path(data_dir))  # PostgreSQL when DASAN_DATABASE_URL is set


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


@click.group("audit")
def audit() -> None:
    """감사 로그(변조 탐지 기록)를 검증하거나 내보냅니다."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="결과를 JSON으로 출력")
@click.pass_context
def verify_cmd(ctx: click.Context, as_json: bool) -> None:
    """모든 항목의 해시 연결을 검사해 수정·삭제·순서 바뀜·끝부분 잘림을 찾습니다 (문제가 있으면 종료 코드 1)."""
    report = _log(ctx).verify()
    if as_json:
        out = {
            "ok": report.ok, "checked": report.checked, "head": report.head, "omitted": report.omitted,
            "problems": [{"seq": p.seq, "kind": p.kind, "kind_ko": KIND_KO.get(p.kind, p.kind),
                          "message": p.message_ko} for p in report.problems],
        }
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    elif report.ok:
        click.echo(f"감사 로그 정상: 항목 {report.checked}건을 검사했고 문제가 없습니다.")
    else:
        click.echo(f"감사 로그 이상: 항목 {report.checked}건 중 문제 {len(report.problems) + report.omitted}건")
        for p in report.problems:
            where = f"{p.seq}번" if p.seq else "전체"
            click.echo(f"  [{where}] {KIND_KO.get(p.kind, p.kind)}: {p.message_ko}")
        if report.omitted:
            click.echo(f"  … 문제 {report.omitted}건 더 (--json으로도 앞의 것만 나옵니다)")
    ctx.exit(0 if report.ok else 1)


@audit.command("export")
@click.option("--since", default=None, metavar="DATE|DATETIME",
              help="이 시각 이후 항목만 (예: 2026-01-31, 2026-01-31T09:00:00+09:00; 시간대가 없으면 UTC)")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True,
              help="출력 형식 (한 줄에 항목 하나, 해시 포함)")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="파일로 저장 (기본: 표준 출력)")
@click.pass_context
def export_cmd(ctx: click.Context, since: str | None, fmt: str, output: str | None) -> None:
    """감사 로그를 내보냅니다. 내보내기 자체도 먼저 기록됩니다."""
    if since:
        try:
            parse_since(since)
        except AuditError as e:
            raise click.BadParameter(e.message, param_hint="--since") from e
    log = _log(ctx)
    log.append("audit.export", cli_actor(), output or "-", since=since, format=fmt)
    out: TextIO = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    try:
        n = 0
        for entry in log.export(since):
            out.write(_dump(entry) + "\n")
            n += 1
    finally:
        if output:
            out.close()
    if output:
        click.echo(f"항목 {n}건을 내보냈습니다: {output}", err=True)


@audit.command("tail")
@click.option("-n", "n", default=20, show_default=True, help="최근 항목 개수")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def tail_cmd(ctx: click.Context, n: int, as_json: bool) -> None:
    """최근 감사 항목을 보여 줍니다."""
    entries = _log(ctx).tail(n)
    if as_json:
        click.echo(json.dumps([e.to_dict() for e in entries], ensure_ascii=False, indent=2))
        return
    if not entries:
        click.echo("감사 기록이 없습니다.")
    for e in entries:
        click.echo(f"{e.seq:>6}  {e.ts}  {e.actor:<16} {e.action:<18} {e.target}  {_dump(e.details)}")


@audit.command("reanchor")
@click.option("--reason", required=True, help="재기준 사유 (감사 로그에 남습니다)")
@click.option("--yes", is_flag=True, help="확인 없이 진행")
@click.pass_context
def reanchor_cmd(ctx: click.Context, reason: str, yes: bool) -> None:
    """끝부분 불일치를 감사 로그에 기록하고 기준 파일을 새로 씁니다 (관리자용; 증거는 남습니다)."""
    if not yes:
        click.confirm("기준 파일을 다시 쓰면 이전 불일치는 검증에서 더 이상 보이지 않습니다. 계속할까요?", abort=True)
    entry = _log(ctx).reanchor(cli_actor(), reason)
    click.echo(f"재기준 완료: {entry.seq}번 항목에 기록했습니다.")
