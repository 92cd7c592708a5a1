"""``dasan press draft BRIEF.yaml --out draft.hwpx``: draft a press release from a brief.

Background from past releases comes from the main CLI's store (``--data-dir``/``DASAN_HOME``)
when one exists there, searched with the access of the user running the command (``--as``);
without a store the draft is made from the brief alone. The search is written to the audit log.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from dasan.errors import DasanError

BACKENDS = ("extractive", "llama-cpp", "openai")
PREVIEW_SUFFIXES = (".md", ".html", ".htm")


def _set_as(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    # Imported here: dasan.cli registers this command while it is being imported.
    from dasan.cli import _set_as as set_as

    return set_as(ctx, param, value)


def _main_ctx(cctx: click.Context) -> Any:
    """The main CLI's context object (:class:`dasan.cli.Ctx`), or ``None`` when run standalone."""
    from dasan.cli import Ctx

    return cctx.find_object(Ctx)


def _has_store(data_dir: Path) -> bool:
    from dasan.store.sqlite import DB_NAME

    return (data_dir / DB_NAME).is_file()


@click.command("draft")
@click.argument("brief_path", metavar="BRIEF", type=click.Path(dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="저장할 보도자료 파일 (.hwpx)")
@click.option("--preview", "preview", default=None, type=click.Path(dir_okay=False),
              help="미리보기 파일 (.md 또는 .html)")
@click.option("--backend", type=click.Choice(BACKENDS), default="extractive", show_default=True,
              help="첫 문단 작성 방식: extractive(모델 없이 요지만), llama-cpp(내장 모델), openai(호환 서버)")
@click.option("--background/--no-background", default=True, show_default=True,
              help="저장소의 과거 보도자료로 '추진 경과'를 덧붙입니다 (저장소가 있을 때)")
@click.option("--collection", "-c", default=None, help="과거 보도자료를 이 컬렉션에서만 찾기")
@click.option("--sources", "max_sources", default=3, show_default=True, type=click.IntRange(1, 10),
              help="인용할 과거 보도자료 최대 개수")
@click.option("--json", "as_json", is_flag=True, help="구조화한 초안을 JSON으로 출력")
@click.option("--as", "as_user", default=None, expose_value=False, callback=_set_as, is_eager=True,
              help="이 사용자의 권한으로 과거 보도자료 검색 (기본: 로컬 운영자)")
@click.pass_context
def draft(cctx: click.Context, brief_path: str, out: str, preview: str | None, backend: str, background: bool,
          collection: str | None, max_sources: int, as_json: bool) -> None:
    """요지(YAML)로 보도자료 초안(HWPX)을 만듭니다.

    요지에 없는 사실은 쓰지 않습니다. 저장소가 있으면 주제와 관련된 과거 보도자료를 찾아
    '추진 경과'로 인용합니다 (실행하는 사용자가 볼 수 있는 자료만).
    """
    from dasan.apps.press.draft import Brief, draft_release, render_html, render_markdown

    out_path = Path(out)
    if out_path.suffix.lower() != ".hwpx":
        raise click.UsageError(f"--out은 .hwpx 파일이어야 합니다: {out}")
    if not out_path.parent.is_dir():
        raise click.UsageError(f"--out의 폴더가 없습니다: {out_path.parent}")
    preview_path = Path(preview) if preview else None
    if preview_path is not None:
        if preview_path.suffix.lower() not in PREVIEW_SUFFIXES:
            raise click.UsageError(f"--preview는 .md 또는 .html 파일이어야 합니다: {preview}")
        if not preview_path.parent.is_dir():
            raise click.UsageError(f"--preview의 폴더가 없습니다: {preview_path.parent}")
    llm: Any = None
    try:
        brief = Brief.load(brief_path)
        if backend != "extractive":
            from dasan.llm import get_backend

            llm = get_backend(backend)
        ctx = _main_ctx(cctx)
        if background and ctx is not None and _has_store(ctx.data_dir):
            from dasan.rag.retrieve import Retriever

            query = brief.topic or brief.title or ""
            with ctx.audited("search", query[:500], purpose="press.draft", collection=collection,
                             backend=backend) as rec:
                result = draft_release(brief, store=ctx.store, principal=ctx.principal, backend=llm,
                                       retriever=Retriever(ctx.store, ctx.data_dir), max_sources=max_sources,
                                       collection=collection)
                rec["chunk_ids"] = [s.chunk_id for s in result.sources]
                rec["generated_by"] = result.generated_by
        else:
            result = draft_release(brief, backend=llm)
            if background:
                result.notes.append("저장소가 없어 과거 보도자료 없이 요지만으로 작성했습니다.")
        result.write_hwpx(out_path)
        if preview_path is not None:
            text = render_markdown(result) if preview_path.suffix.lower() == ".md" else render_html(result)
            preview_path.write_text(text, encoding="utf-8")
    except DasanError as e:
        raise click.ClickException(str(e)) from e
    except OSError as e:
        raise click.ClickException(f"파일을 쓸 수 없습니다: {e.filename} ({e.strerror})") from e
    finally:
        close = getattr(llm, "close", None)
        if callable(close):
            close()
    # every draft goes through the house-style check, read back from the file it wrote
    from dasan.apps.press.style import check_release
    from dasan.ingest.readers import read_file

    findings = check_release(read_file(out_path))
    if as_json:
        body = result.to_dict() | {"style": [asdict(f) for f in findings]}
        click.echo(json.dumps(body, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(f"보도자료 초안을 저장했습니다: {out_path}")
    click.echo(f"  제목: {result.headline}")
    click.echo(f"  보안 등급: {result.level} · 작성: {result.generated_by}")
    if preview_path is not None:
        click.echo(f"  미리보기: {preview_path}")
    for s in result.sources:
        click.echo(f"  참고 [{s.n}] {s.citation}")
    for n in result.notes:
        click.echo(f"  ※ {n}")
    click.echo(f"  문체 점검: {len(findings)}건" + (" (`dasan press check`로 자세히)" if findings else ""))
    for f in findings[:10]:
        click.echo(f"    {f.line}행 [{f.rule}] {f.message}")
