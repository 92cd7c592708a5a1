"""``dasan serve``: run the API and the web UI.

On first start it creates user ``admin`` (role admin, clearance 기밀) and prints an API key for
it once — only when no user has any key yet — and ingests the sample corpus (``examples/``) into
collection ``examples`` when the store is empty (in the background: ``/readyz`` says when the
index is ready). Register with ``cli.add_command(serve)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dasan import config

FIRST_ADMIN = "admin"


def _data_dir() -> Path:
    root = click.get_current_context().find_root().obj
    explicit = getattr(root, "data_dir", None)
    return Path(explicit) if explicit else config.data_dir()


def first_admin_key(data_dir: Path) -> str | None:
    """A new key for user ``admin`` when no user has a key yet (the user is created if needed)."""
    from dasan.security.access import check_key_scopes
    from dasan.security.audit import AuditLog, audited, cli_actor
    from dasan.security.principals import SCOPES, Directory
    from dasan.store import open_store

    store = open_store(data_dir)
    try:
        d = Directory.from_store(store)
        if d.list_keys():
            return None
        with audited(AuditLog(data_dir), "permission.change", cli_actor(), "serve first-admin-key",
                     user=FIRST_ADMIN) as rec:
            user = d.find_user(FIRST_ADMIN) or d.add_user(FIRST_ADMIN, clearance="기밀", role="admin")
            new = d.create_key(user.name, check_key_scopes(user.role, SCOPES if user.role == "admin" else ()))
            rec["prefix"] = new.record.prefix
        return new.key
    finally:
        store.close()


def _backends(names: tuple[str, ...]) -> dict[str, Any]:
    from dasan.llm import get_backend

    return {b.name: b for b in (get_backend(n) for n in names)}


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="들을 주소 (다른 컴퓨터에서 접속하게 하려면 0.0.0.0)")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="포트")
@click.option("--backend", "backends", multiple=True, type=click.Choice(["llama-cpp", "openai"]),
              help="함께 켤 답변 모델 (여러 번 지정 가능; 모델 이름 dasan-<이름>으로 선택)")
@click.option("--no-samples", is_flag=True, help="저장소가 비어 있어도 예제 문서를 넣지 않음")
def serve(host: str, port: int, backends: tuple[str, ...], no_samples: bool) -> None:
    """웹 화면과 API 서버(OpenAI 호환)를 실행합니다."""
    import uvicorn

    from dasan.server.app import create_app

    data_dir = _data_dir()
    click.echo(f"데이터 디렉터리: {data_dir}")
    key = first_admin_key(data_dir)
    if key:
        click.echo(f"\n처음 실행: 관리자 사용자 '{FIRST_ADMIN}'의 API 키를 만들었습니다. 이 키는 다시 볼 수 없으니 지금 보관하세요.")
        click.echo(f"  {key}\n")
    app = create_app(data_dir, backends=_backends(backends), ingest_samples=not no_samples)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"다산 서버: http://{shown}:{port}/   (API: http://{shown}:{port}/v1, 명세: /openapi.json)")
    click.echo("색인을 준비하는 동안 /readyz는 503을 돌려줍니다. 멈추려면 Ctrl+C.")
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
