"""``dasan migrate --to postgresql://…`` and ``dasan worker`` (issue 19).

Registered in :func:`dasan.cli._register_security` with ``register(cli)``.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from dasan import config


def _data_dir(ctx: click.Context) -> Path:
    root = ctx.find_root().obj
    return Path(getattr(root, "data_dir", None) or config.data_dir())


@click.command("migrate")
@click.option("--to", "url", required=True, help="옮겨 갈 PostgreSQL 주소 (postgresql://역할:암호@호스트:5432/dasan)")
@click.option("--json", "as_json", is_flag=True, help="결과를 JSON으로 출력")
@click.pass_context
def migrate_cmd(ctx: click.Context, url: str, as_json: bool) -> None:
    """내장(SQLite) 저장소를 PostgreSQL로 옮기고 검증합니다 (개수, 검색 표본, 감사 체인). 임베딩은 다시 계산하지 않습니다."""
    from dasan.errors import ConfigError
    from dasan.store.postgres import PostgresStore, is_postgres_url
    from dasan.store.postgres.migrate import copy_installation

    if not is_postgres_url(url):
        raise ConfigError("--to에는 postgresql://로 시작하는 주소를 주세요.")
    data_dir = _data_dir(ctx)
    target = PostgresStore(url, data_dir)
    try:
        report = copy_installation(data_dir, target, log=lambda s: click.echo(s, err=True))
    finally:
        target.close()
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        for table, (a, b) in report.counts.items():
            click.echo(f"{table:24s} SQLite {a:>8d}  PostgreSQL {b:>8d}")
        for model, n in report.vectors.items():
            click.echo(f"임베딩 {model}: {n}개 복사 (다시 계산하지 않음)")
        q, same = report.search_sample
        click.echo(f"검색 표본: {same}/{q} 같은 결과, 감사 체인: {report.audit}")
        for p in report.problems:
            click.echo(f"문제: {p}", err=True)
        click.echo("검증 통과. 이제 DASAN_DATABASE_URL을 설정하고 서버를 다시 시작하세요." if report.ok
                   else "검증 실패: 위 문제를 확인하세요.")
    if not report.ok:
        sys.exit(1)


@click.command("worker")
@click.option("--lease", "lease_s", type=float, default=60.0, show_default=True, help="작업 임대 시간(초)")
@click.option("--poll", "poll_s", type=float, default=1.0, show_default=True, help="빈 대기열을 다시 볼 간격(초)")
@click.option("--once", is_flag=True, help="대기열이 빌 때까지만 실행")
@click.option("--name", default=None, help="작업자 이름 (기본: 호스트:프로세스 번호)")
@click.pass_context
def worker_cmd(ctx: click.Context, lease_s: float, poll_s: float, once: bool, name: str | None) -> None:
    """PostgreSQL의 수집 대기열에서 업로드 작업을 가져와 처리합니다 (DASAN_DATABASE_URL 필요)."""
    from dasan.errors import ConfigError
    from dasan.server.worker import Worker, serve_forever
    from dasan.store import database_url, open_store

    if not database_url():
        raise ConfigError("dasan worker에는 DASAN_DATABASE_URL(postgresql://…)이 필요합니다.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    data_dir = _data_dir(ctx)
    store = open_store(data_dir)
    try:
        w = Worker(store, data_dir, name=name, lease_s=lease_s, poll_s=poll_s)
        if once:
            click.echo(f"{w.run(once=True)}개 작업 처리")
        else:
            serve_forever(w)
    finally:
        store.close()


def register(cli: click.Group) -> None:
    cli.add_command(migrate_cmd)
    cli.add_command(worker_cmd)
