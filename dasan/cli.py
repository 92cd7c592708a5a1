"""The ``dasan`` command line."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from dasan import __version__, config
from dasan.errors import DasanError
from dasan.ingest.readers import safe_text
from dasan.store import Store, open_store
from dasan.types import Principal


def _stderr(message: str) -> None:
    click.echo(message, err=True)


def _emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


class Ctx:
    def __init__(self, data_dir: str | None, as_user: str | None = None) -> None:
        self.data_dir = config.data_dir(data_dir)
        self._store: Store | None = None
        self._audit: Any = None
        self.as_user = as_user
        self._principal: Principal | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.data_dir)
        return self._store

    @property
    def principal(self) -> Principal:
        """Who runs the command: ``--as NAME`` (a registered user), else the local operator (admin)."""
        if self._principal is None:
            if self.as_user:
                from dasan.security.access import resolve_principal
                from dasan.security.principals import Directory

                self._principal = resolve_principal(Directory.from_store(self.store), self.as_user)
            else:
                self._principal = Principal.operator()
        return self._principal

    @principal.setter
    def principal(self, value: Principal) -> None:
        self._principal = value

    @property
    def actor(self) -> str:
        from dasan.security.audit import cli_actor

        return self.principal.name if self.as_user else cli_actor()

    @property
    def audit(self) -> Any:
        if self._audit is None:
            from dasan.store.postgres.audit import open_audit

            self._audit = open_audit(self.data_dir)  # PostgreSQL when DASAN_DATABASE_URL is set
        return self._audit

    def audited(self, action: str, target: str = "", **details: Any) -> Any:
        from dasan.security.audit import audited

        return audited(self.audit, action, self.actor, target, **details)


pass_ctx = click.make_pass_decorator(Ctx)


def _set_as(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        obj = ctx.find_object(Ctx)
        if obj is not None:
            obj.as_user, obj._principal = value, None
    return value


as_option = click.option("--as", "as_user", default=None, expose_value=False, callback=_set_as,
                         is_eager=True, help="이 사용자의 권한으로 실행 (기본: 로컬 운영자)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", envvar="DASAN_HOME", type=click.Path(file_okay=False),
              help="데이터 디렉터리 (기본: DASAN_HOME 또는 사용자 데이터 폴더)")
@click.option("--as", "as_user", envvar="DASAN_USER", default=None, help="이 사용자의 권한으로 실행 (기본: 로컬 운영자)")
@click.version_option(__version__, prog_name="dasan")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, as_user: str | None) -> None:
    """다산(Dasan): 공공기관 문서를 위한 자체 설치형 AI 비서."""
    ctx.obj = Ctx(data_dir, as_user)


# -- ingest ----------------------------------------------------------------------
@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--collection", "-c", default="default", show_default=True, help="넣을 컬렉션 이름")
@click.option("--recursive", "-r", is_flag=True, help="하위 폴더까지 포함")
@click.option("--level", default="공개", show_default=True,
              help="문서 보안 등급: 공개(O)·민감(S)·기밀(C)")
@click.option("--department", "departments", multiple=True,
              help="컬렉션을 소유할 부서 (여러 번 지정 가능, 관리자만)")
@click.option("--disclosure", default=None,
              help="정보공개 구분: 공개, 부분공개:N, 비공개:N (N = 정보공개법 제9조제1항 사유 번호)")
@click.option("--json", "as_json", is_flag=True, help="결과를 JSON 한 개로 출력")
@as_option
@pass_ctx
def ingest(ctx: Ctx, paths: tuple[str, ...], collection: str, recursive: bool, level: str,
           departments: tuple[str, ...], disclosure: str | None, as_json: bool) -> None:
    """문서(HWP, HWPX, PDF, DOCX, HTML, TXT, MD, CSV, XLSX, JSONL)를 저장소에 넣습니다."""
    from dasan.ingest.pipeline import FileResult, ingest_paths
    from dasan.security.disclosure import level_for, parse_disclosure
    from dasan.security.guard import check_ingest
    from dasan.security.principals import parse_level

    disc = parse_disclosure(disclosure) if disclosure else None
    level = check_ingest(ctx.store, ctx.principal, collection, level_for(parse_level(level), disc), departments)
    extra = {"정보공개": disc.as_meta()} if disc else None

    show_progress = not as_json and sys.stderr.isatty()
    bar: Any = None

    def on_start(n: int) -> None:
        nonlocal bar
        if show_progress and n:
            bar = click.progressbar(length=n, label="수집 중", file=sys.stderr)
            bar.__enter__()

    def on_file(res: FileResult) -> None:
        if bar is not None:
            bar.update(1)
        if res.status == "failed" and not as_json:
            click.echo(f"실패: {safe_text(res.path)}: {res.error}", err=True)

    with ctx.audited("document.upload", collection, paths=[str(p) for p in paths][:100], level=level,
                     departments=list(departments)) as rec:
        if departments:
            from dasan.security.principals import Directory

            directory = Directory.from_store(ctx.store)
            for d in departments:
                directory.assign_collection(collection, d)
        try:
            report = ingest_paths(ctx.store, paths, collection=collection, recursive=recursive,
                                  classification=level, extra_meta=extra, on_file=on_file, on_start=on_start)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        rec["documents"] = [{"id": r.document_id, "status": r.status} for r in report.results if r.document_id][:1000]
        rec["failed"] = len(report.failed)
    s = report.summary()
    if as_json:
        _emit_json({k: s[k] for k in ("files", "ingested", "unchanged", "chunks", "empty", "failed", "replaced")})
    else:
        click.echo(
            f"파일 {s['files']}개: 새로 수집 {s['ingested']}, 변경 없음 {s['unchanged']}, "
            f"빈 문서 {len(s['empty'])}, 실패 {len(s['failed'])} / 쪽 {s['pages']}, 청크 {s['chunks']}"
            + (f" / 이전 판 교체 {s['replaced']}" if s["replaced"] else "")
        )
        for p in s["empty"]:
            click.echo(f"  빈 문서(텍스트 없음): {safe_text(p)}")
        for f in s["failed"]:
            click.echo(f"  건너뜀: {safe_text(f['path'])}: {f['error']}")
    sys.exit(1 if s["failed"] else 0)


# -- docs ------------------------------------------------------------------------
@cli.group()
def docs() -> None:
    """저장된 문서를 보거나 지웁니다."""


def _doc_json(d: Any) -> dict[str, Any]:
    return {
        "id": d.id, "collection": d.collection, "title": d.title, "source_path": d.source_path,
        "format": d.format, "kind": d.kind, "pages": d.pages, "chunks": d.n_chunks,
        "classification": d.classification, "size_bytes": d.size_bytes, "ingested_at": d.ingested_at,
    }


def _resolve(ctx: Ctx, ident: str) -> str:
    from dasan.security.guard import can_see_document

    ids = [i for i in ctx.store.resolve_document_id(ident)  # type: ignore[attr-defined]
           if (d := ctx.store.get_document(i)) is not None and can_see_document(ctx.store, ctx.principal, d)]
    if not ids:
        raise click.ClickException(f"문서를 찾을 수 없습니다: {ident} (`dasan docs list`로 식별자를 확인하세요)")
    if len(ids) > 1:
        raise click.ClickException(f"식별자가 여러 문서와 일치합니다: {ident} (더 길게 입력하세요)")
    return ids[0]


@docs.command("list")
@click.option("--collection", "-c", default=None, help="이 컬렉션만")
@click.option("--json", "as_json", is_flag=True)
@as_option
@pass_ctx
def docs_list(ctx: Ctx, collection: str | None, as_json: bool) -> None:
    """문서 목록 (실행하는 사용자가 볼 수 있는 문서만)."""
    from dasan.security.guard import visible_documents

    rows = visible_documents(ctx.store, ctx.principal, collection)
    if as_json:
        _emit_json([_doc_json(d) for d in rows])
        return
    if not rows:
        click.echo("저장된 문서가 없습니다. `dasan ingest 경로`로 문서를 넣으세요.")
    for d in rows:
        click.echo(f"{d.id[:12]}  {d.collection:<12} {d.format:<5} {d.kind:<8} 청크 {d.n_chunks:>4}  {d.title}")


@docs.command("show")
@click.argument("ident")
@click.option("--chunks", "with_chunks", is_flag=True, help="청크 본문까지 출력")
@click.option("--json", "as_json", is_flag=True)
@as_option
@pass_ctx
def docs_show(ctx: Ctx, ident: str, with_chunks: bool, as_json: bool) -> None:
    """문서 한 개의 정보(와 청크)."""
    from dasan.security.guard import get_document, redact_chunks

    with ctx.audited("document.read", ident):
        doc = get_document(ctx.store, ctx.principal, _resolve(ctx, ident))
        chunks = redact_chunks(ctx.store, ctx.store.chunks_of(doc.id))  # masked per the PII policy
    if as_json:
        out = _doc_json(doc) | {"metadata": doc.metadata}
        if doc.kind == "press":
            from dasan.ingest.press import embargo_status

            out["embargo_status"] = embargo_status(doc.metadata)
        out["chunks"] = [
            {"id": c.id, "ordinal": c.ordinal, "citation": c.citation.label, "page": c.citation.page,
             "context": c.context, "text": c.text}
            for c in chunks
        ] if with_chunks else len(chunks)
        _emit_json(out)
        return
    for k, v in _doc_json(doc).items():
        click.echo(f"{k}: {v}")
    if doc.kind == "press":
        md = doc.metadata
        for label, key in (("부처", "ministry"), ("실·국", "bureau"), ("담당 과", "division"), ("배포", "distributed_at"),
                           ("보도시점(원문)", "embargo_text")):
            if md.get(key) or (key == "distributed_at" and md.get("distributed")):
                click.echo(f"{label}: {md.get(key) or md.get('distributed')}")
        from dasan.ingest.press import embargo_status

        if status := embargo_status(md):
            click.echo(f"보도시점: {status}")
        for c in (md.get("contacts") or [])[:10]:
            phones = ", ".join(c.get("phones") or [])
            click.echo(f"연락처: {c.get('role') or ''} {c.get('department') or ''} {c.get('position') or ''} "
                       f"{c.get('name') or ''} {phones}".replace("  ", " ").strip())
    for c in chunks if with_chunks else chunks[:5]:
        click.echo(f"\n[{c.ordinal}] {c.citation.label}\n{c.text}")
    if not with_chunks and len(chunks) > 5:
        click.echo(f"\n… 청크 {len(chunks) - 5}개 더 (--chunks로 전부 보기)")


@docs.command("rm")
@click.argument("idents", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True)
@as_option
@pass_ctx
def docs_rm(ctx: Ctx, idents: tuple[str, ...], as_json: bool) -> None:
    """문서와 그 청크를 모두 지웁니다 (문서 등록 권한 필요)."""
    from dasan.security.access import require

    require(ctx.principal, "ingest")
    removed = []
    for ident in idents:
        doc_id = _resolve(ctx, ident)
        with ctx.audited("document.delete", doc_id):
            if ctx.store.remove_document(doc_id):
                removed.append(doc_id)
    if as_json:
        _emit_json({"removed": removed})
    else:
        for d in removed:
            click.echo(f"삭제됨: {d}")


@docs.command("set-level")
@click.argument("ident")
@click.argument("level")
@as_option
@pass_ctx
def docs_set_level(ctx: Ctx, ident: str, level: str) -> None:
    """문서의 보안 등급을 바꿉니다 (다음 검색부터 바로 적용)."""
    from dasan.security.guard import check_relabel

    doc_id = _resolve(ctx, ident)
    new = check_relabel(ctx.store, ctx.principal, level)
    with ctx.audited("permission.change", doc_id, change="document.level", level=new):
        ctx.store.set_document_level(doc_id, new)
    click.echo(f"문서 {doc_id[:12]} 등급: {new}")


@docs.command("set-embargo")
@click.argument("ident")
@click.argument("when")
@as_option
@pass_ctx
def docs_set_embargo(ctx: Ctx, ident: str, when: str) -> None:
    """보도자료의 보도시점(엠바고)을 정하거나(예: 2026-03-02T09:00+09:00) 해제합니다(none).

    보도시점을 읽지 못해 '민감'으로 묶여 있는 보도자료를 운영자가 풀 때 씁니다."""
    from dasan.ingest.press import parse_embargo_arg
    from dasan.security.guard import check_relabel

    doc_id = _resolve(ctx, ident)
    check_relabel(ctx.store, ctx.principal, "공개", what="보도시점 변경")
    try:
        embargo = parse_embargo_arg(when)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="WHEN") from e
    with ctx.audited("permission.change", doc_id, change="document.embargo", embargo=embargo or "none"):
        ctx.store.set_document_embargo(doc_id, embargo, by=ctx.principal.name)
    click.echo(f"문서 {doc_id[:12]} 보도시점: {embargo or '없음 (바로 공개)'}")


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True)
@as_option
@click.pass_context
def collections(cctx: click.Context, as_json: bool) -> None:
    """컬렉션 목록 (볼 수 있는 문서 수만 셉니다)."""
    if cctx.invoked_subcommand is not None:
        return
    from dasan.security.guard import visible_collections

    ctx = cctx.find_object(Ctx)
    rows = visible_collections(ctx.store, ctx.principal)
    if as_json:
        _emit_json(rows)
        return
    if not rows:
        click.echo("컬렉션이 없습니다.")
    for r in rows:
        click.echo(f"{r['name']:<16} 등급 {r['level']}  문서 {r['documents']:>5}  청크 {r['chunks']:>7}")


@collections.command("set-pii")
@click.argument("name")
@click.argument("policy", type=click.Choice(["off", "mask_ingest", "mask_answer", "block"]))
@as_option
@pass_ctx
def collections_set_pii(ctx: Ctx, name: str, policy: str) -> None:
    """컬렉션의 개인정보 정책: off, mask_ingest(저장 시 가림), mask_answer(보여 줄 때 가림), block(거부).

    새로 수집하는 문서부터 저장 단계 정책이 적용되고, 보여 주는 단계 정책은 바로 적용됩니다.
    """
    from dasan.security.guard import check_relabel

    check_relabel(ctx.store, ctx.principal, "공개", "개인정보 정책 변경")
    with ctx.audited("permission.change", name, change="collection.pii_policy", policy=policy):
        ctx.store.ensure_collection(name)
        ctx.store.set_collection_pii_policy(name, policy)
    click.echo(f"컬렉션 {name} 개인정보 정책: {policy}")


@collections.command("set-level")
@click.argument("name")
@click.argument("level")
@as_option
@pass_ctx
def collections_set_level(ctx: Ctx, name: str, level: str) -> None:
    """컬렉션의 보안 등급을 바꿉니다 (문서 등급보다 높으면 컬렉션 등급이 적용됩니다)."""
    from dasan.security.guard import check_relabel

    new = check_relabel(ctx.store, ctx.principal, level)
    with ctx.audited("permission.change", name, change="collection.level", level=new):
        if not ctx.store.set_collection_level(name, new):
            raise click.ClickException(f"컬렉션을 찾을 수 없습니다: {name}")
    click.echo(f"컬렉션 {name} 등급: {new}")


# -- search ----------------------------------------------------------------------
def _hit_json(h: Any) -> dict[str, Any]:
    c = h.chunk
    return {
        "rank": h.rank, "score": round(h.score, 4), "citation": c.citation.label, "document_id": c.document_id,
        "chunk_id": c.id, "page": c.citation.page, "text": c.text, "snippet": h.snippet,
    }


def _print_hits(hits: list[Any]) -> None:
    if not hits:
        click.echo("일치하는 문서를 찾지 못했습니다.")
    for h in hits:
        click.echo(f"{h.rank:>2}. [{h.score:.2f}] {h.chunk.citation.label}")
        click.echo(f"    {h.snippet}")


@cli.command()
@click.argument("query")
@click.option("--k", "k", default=5, show_default=True, help="결과 개수")
@click.option("--collection", "-c", default=None, help="이 컬렉션에서만 찾기")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(["law", "press", "records", "generic"]),
              help="문서 종류 (여러 번 지정 가능)")
@click.option("--from", "date_from", default=None, help="이 날짜 이후 (시행일자·보도일, YYYY-MM-DD)")
@click.option("--to", "date_to", default=None, help="이 날짜 이전 (YYYY-MM-DD)")
@click.option("--in-force", is_flag=True, help="현재 시행 중인 법령만")
@click.option("--json", "as_json", is_flag=True)
@as_option
@pass_ctx
def search(ctx: Ctx, query: str, k: int, collection: str | None, kinds: tuple[str, ...], date_from: str | None,
           date_to: str | None, in_force: bool, as_json: bool) -> None:
    """질문과 관련된 문서 조각을 찾습니다."""
    from dasan.rag.retrieve import Retriever, SearchFilter

    if not query.strip():
        raise click.UsageError("검색어가 비어 있습니다.")
    for name, value in (("--from", date_from), ("--to", date_to)):
        if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise click.UsageError(f"{name} 날짜 형식이 잘못되었습니다: {value} (예: 2026-01-31)")
    from dasan.security.access import require
    from dasan.security.guard import redact_hits, search_filter

    require(ctx.principal, "search")
    flt = search_filter(ctx.store, ctx.principal, SearchFilter(
        collection=collection, kinds=kinds or None, date_from=date_from, date_to=date_to, in_force=in_force))
    with ctx.audited("search", query[:500], k=k, collection=collection) as rec:
        hits = redact_hits(ctx.store, Retriever(ctx.store, ctx.data_dir).search(query, k=k, flt=flt))
        rec["chunk_ids"] = [h.chunk.id for h in hits]
    if as_json:
        _emit_json([_hit_json(h) for h in hits])
    else:
        _print_hits(hits)


def _answer_json(ans: Any) -> dict[str, Any]:
    return {
        "answer": ans.text,
        "refused": ans.refused,
        "citations": [
            {"marker": c.marker, "citation": c.chunk.citation.label, "document_id": c.chunk.document_id,
             "chunk_id": c.chunk.id, "quote": c.quote, **_source_facts(c.chunk)}
            for c in ans.citations
        ],
        "closest": [_hit_json(h) | {"text": None} for h in ans.hits[:3]] if ans.refused else [],
        "backend": ans.backend,
        "timings_ms": {k: round(v, 1) for k, v in ans.timings_ms.items()},
        "notes": ans.notes,
        "routing": ans.routing,
    }


def _source_facts(chunk: Any) -> dict[str, Any]:
    from dasan.rag.sources import source_facts

    return source_facts(chunk)


def _build_answerer(ctx: Ctx, backend: str) -> Any:
    from dasan.rag.answer import Answerer
    from dasan.rag.retrieve import Retriever

    backends = {}
    if backend != "extractive":
        from dasan.llm import get_backend

        backends[backend] = get_backend(backend)
    return Answerer(Retriever(ctx.store, ctx.data_dir), backends)


@cli.command()
@click.argument("question")
@click.option("--backend", default="extractive", show_default=True,
              help="답변 생성 방식: extractive(원문 발췌), llama-cpp(내장 모델), openai(호환 서버)")
@click.option("--collection", "-c", default=None, help="이 컬렉션에서만 근거 찾기")
@click.option("--json", "as_json", is_flag=True)
@as_option
@pass_ctx
def ask(ctx: Ctx, question: str, backend: str, collection: str | None, as_json: bool) -> None:
    """문서에 근거한 답변을 출처와 함께 돌려줍니다."""
    from dasan.rag.retrieve import SearchFilter

    if not question.strip():
        raise click.UsageError("질문이 비어 있습니다.")
    from dasan.security.access import require
    from dasan.security.guard import redact_answer, search_filter

    require(ctx.principal, "ask")
    answerer = _build_answerer(ctx, backend)
    flt = search_filter(ctx.store, ctx.principal, SearchFilter(collection=collection))
    final = None
    # Raw model tokens are shown as they come only where no personal-data policy applies;
    # otherwise the user sees the verified, masked answer at the end.
    live = backend != "extractive" and not as_json and all(
        c.get("pii_policy", "off") == "off" for c in ctx.store.collections())
    with ctx.audited("answer", question[:500], backend=backend, collection=collection) as rec:
        for ev in answerer.stream(question, backend, flt):
            if ev["type"] == "token" and live:
                click.echo(ev["text"], nl=False)  # generated tokens stream; sources are shown after checking
            elif ev["type"] == "final":
                final = redact_answer(ctx.store, ev["answer"])
        assert final is not None
        rec.update(chunk_ids=[c.chunk.id for c in final.citations], refused=final.refused,
                   backend_used=final.backend, routing=final.routing)
    if as_json:
        _emit_json(_answer_json(final))
        return
    if live:
        click.echo("\n\n[검증 후 답변]")
    click.echo(final.text)
    if final.refused:
        if final.hits:
            click.echo("\n가장 가까운 문서:")
            for h in final.hits[:3]:
                click.echo(f"  - {h.chunk.citation.label}")
        return
    click.echo("\n출처:")
    for c in final.citations:
        f = _source_facts(c.chunk)
        extra = ", ".join(
            x for x in (
                f"시행 {f['시행일자']}" if f.get("시행일자") else "",
                ("현행" if f.get("in_force") else "시행 전/폐지") if "in_force" in f else "",
                f"보도 {f['보도일']}" if f.get("보도일") else "",
                f"p.{f['page']}" if f.get("page") else "",
            ) if x
        )
        click.echo(f"  [{c.marker}] {c.chunk.citation.label}" + (f" ({extra})" if extra else ""))
    for n in final.notes:
        click.echo(f"  ※ {n}")


SAMPLE_QUERY = "선로 작업 중 열차가 접근하면 어떻게 대피해야 하나요?"


@cli.command()
@click.option("--query", default=SAMPLE_QUERY, show_default=True, help="예시 검색어")
@pass_ctx
def quickstart(ctx: Ctx, query: str) -> None:
    """예제 문서(examples/)를 수집하고 예시 질문을 검색합니다."""
    from dasan.ingest.pipeline import ingest_paths
    from dasan.rag.retrieve import Retriever

    click.echo(f"데이터 디렉터리: {ctx.data_dir}")
    ex = config.examples_dir()
    folders = sorted(p for p in ex.iterdir() if p.is_dir())  # examples/README.md is not a sample
    report = ingest_paths(ctx.store, folders, collection="examples", recursive=True)
    s = report.summary()
    click.echo(f"예제 문서 {s['files']}개 수집: 새로 {s['ingested']}, 변경 없음 {s['unchanged']}, "
               f"실패 {len(s['failed'])}, 청크 {s['chunks']}")
    for f in s["failed"]:
        click.echo(f"  건너뜀: {f['path']}: {f['error']}")
    from dasan.rag.answer import Answerer

    retriever = Retriever(ctx.store, ctx.data_dir)
    click.echo(f"\n질문: {query}\n\n검색 결과:")
    _print_hits(retriever.search(query, k=3))
    ans = Answerer(retriever).ask(query)
    click.echo("\n답변 (원문 발췌):")
    click.echo(ans.text)
    for c in ans.citations:
        click.echo(f"  [{c.marker}] {c.chunk.citation.label}")
    click.echo("\n다음: `.venv/bin/dasan ingest 내문서폴더 --recursive` 후 `.venv/bin/dasan search \"질문\"`")
    sys.exit(1 if s["failed"] else 0)


# -- bench -----------------------------------------------------------------------
@cli.group("config")
def config_group() -> None:
    """설정 (환경 변수, dasan.toml, 기본값)."""


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True)
def config_show(as_json: bool) -> None:
    """모든 설정의 값과 출처를 보여 줍니다 (비밀 값은 가림). 모르는 DASAN_* 변수도 알립니다."""
    from dasan import settings

    res = settings.current()
    rows = [{"name": v.setting.name, "value": v.shown(), "source": v.source, "doc": v.setting.doc}
            for v in res.values.values()]
    if as_json:
        _emit_json({"settings": rows, "file": str(res.file) if res.file else None, "unknown": res.unknown})
        return
    width = max(len(r["name"]) for r in rows) + 2
    for r in rows:
        click.echo(f"{r['name']:<{width}}{r['value']:<40} [{r['source']}]  {r['doc']}")
    click.echo(f"설정 파일: {res.file or f'없음 ({settings.file_path()})'}")
    if res.unknown:
        click.echo("경고: Dasan이 모르는 환경 변수 (철자를 확인하세요): " + ", ".join(res.unknown), err=True)


@cli.group()
def bench() -> None:
    """성능 측정 (결과는 docs/benchmarks.md에 기록)."""


@bench.command("ingest")
@click.argument("paths", nargs=-1, required=True)
@click.option("--embed", type=int, default=0, show_default=True,
              help="수집 후 이 개수의 청크를 e5로 임베딩해 지속 처리량(청크/s, CPU초당)을 잽니다")
@click.option("--embed-baseline", is_flag=True, help="임베딩 호출을 겹치지 않는 이전 방식도 같은 청크로 잽니다")
@click.option("--json", "as_json", is_flag=True)
def bench_ingest_cmd(paths: tuple[str, ...], embed: int, embed_baseline: bool, as_json: bool) -> None:
    """임시 저장소에 수집하며 처리량(파일/s, 청크/s)과 최대 메모리를 잽니다."""
    from dasan.bench.ingest import bench_ingest

    result = bench_ingest(list(paths), embed=embed, embed_baseline=embed_baseline)
    if as_json:
        _emit_json(result)
        return
    for k, v in result.items():
        click.echo(f"{k:>28}: {v}")


@bench.command("press")
@click.option("--corpus", "corpus", multiple=True, required=True, type=click.Path(exists=True),
              help="보도자료 폴더 (각 파일 옆에 <이름>.meta.json 목록 정보; 여러 번 지정 가능)")
@click.option("--json", "as_json", is_flag=True)
def bench_press_cmd(corpus: tuple[str, ...], as_json: bool) -> None:
    """보도자료 머리 정보(제목·담당 부서·연락처·보도시점·날짜) 추출 정확도를 누리집 목록과 비교합니다."""
    from dasan.bench.press import bench_press

    result = bench_press(list(corpus))
    if as_json:
        _emit_json(result)
        return
    click.echo(f"보도자료 {result['n']}건 ({result['seconds']}초), 읽기 실패 {len(result['failed'])}건")
    for field, value in result["fields"].items():
        miss = result["misses"][field]
        shown = ", ".join(miss[:8]) + (" …" if len(miss) > 8 else "")
        click.echo(f"{field:>12}: {value}  ({result['counted'][field]}건 중)" + (f"  놓침: {shown}" if miss else ""))


@bench.command("retrieval")
@click.option("--corpus", "corpus", multiple=True, type=click.Path(exists=True),
              help="수집할 말뭉치 경로 (여러 번 지정 가능)")
@click.option("--questions", type=click.Path(exists=True, dir_okay=False), help="질문 JSONL")
@click.option("--suite", is_flag=True, help="프로젝트의 모든 질문 세트를 한 번에 (../shared/bench와 bench/)")
@click.option("--models", "models", default=None,
              help="비교할 학습 모델들, 쉼표로 (none, current, 모델 이름; 예: none,current,ranker-1)")
@click.option("--embedder", default="e5", show_default=True, help="임베딩 모델 (e5, use, none)")
@click.option("--cold", is_flag=True, help="질문 임베딩 캐시 없이 잽니다 (처음 받는 질문의 지연시간)")
@click.option("--pad-chars", type=int, default=0, show_default=True,
              help="각 질문 앞에 같은 세트의 다른 질문을 붙여 이 길이로 늘립니다 (긴 질문의 지연시간 측정용)")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def bench_retrieval_cmd(ctx: Ctx, corpus: tuple[str, ...], questions: str | None, suite: bool, models: str | None,
                        embedder: str, cold: bool, pad_chars: int, as_json: bool) -> None:
    """검색 품질(Recall@k, MRR, nDCG)과 지연시간을 기준 방식들과 함께 잽니다."""
    from dasan.bench.retrieval import bench_retrieval, bench_suite
    from dasan.rag.retrieve import RetrievalConfig

    cfg = RetrievalConfig(embedder=None if embedder == "none" else embedder)
    specs = [m for m in models.split(",") if m.strip()] if models else None
    log = _stderr
    if suite:
        result = bench_suite(specs, retrieval=cfg, models_home=ctx.data_dir, cold=cold, log=log)
        sets = result["sets"]
    else:
        if not corpus or not questions:
            raise click.UsageError("--corpus와 --questions를 주거나 --suite를 쓰세요.")
        result = bench_retrieval(list(corpus), Path(questions), retrieval=cfg, models=specs, models_home=ctx.data_dir,
                                 cold=cold, pad_chars=pad_chars, log=log)
        sets = {Path(questions).stem: result}
    _print_retrieval(sets, result, as_json)


@bench.command("korquad")
@click.option("--source", default="../shared/data/korquad/KorQuAD_v1.0_dev.json", show_default=True,
              type=click.Path(exists=True, dir_okay=False), help="KorQuAD 1.0 형식 JSON")
@click.option("--questions", "n_questions", type=int, default=300, show_default=True, help="무작위로 뽑을 질문 수")
@click.option("--seed", type=int, default=13, show_default=True, help="질문 추출 시드 (같은 값이면 같은 질문)")
@click.option("--unit", type=click.Choice(["article", "paragraph"]), default="article", show_default=True,
              help="문서 단위: 위키백과 문서 하나(article) 또는 문단 하나(paragraph)")
@click.option("--embedder", default="e5", show_default=True, help="임베딩 모델 (e5, use, none)")
@click.option("--cold", is_flag=True, help="질문 임베딩 캐시 없이 잽니다")
@click.option("--json", "as_json", is_flag=True)
def bench_korquad_cmd(source: str, n_questions: int, seed: int, unit: str, embedder: str, cold: bool,
                      as_json: bool) -> None:
    """외부 문서 검색: KorQuAD 위키백과 문서를 한 문서씩 수집해 질문의 원문 문서를 찾는지 잽니다."""
    from dasan.bench.korquad import bench_korquad
    from dasan.rag.retrieve import RetrievalConfig

    cfg = RetrievalConfig(embedder=None if embedder == "none" else embedder)
    result = bench_korquad(Path(source), n_questions=n_questions, seed=seed, unit=unit,  # type: ignore[arg-type]
                           retrieval=cfg, cold=cold, log=_stderr)
    _print_retrieval({f"korquad-{unit}": result}, result, as_json)


def _print_retrieval(sets: dict[str, Any], raw: dict, as_json: bool) -> None:
    if as_json:
        _emit_json(raw)
        return
    cols = ["recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "p50_ms", "p95_ms"]
    for set_name, res in sets.items():
        click.echo(f"== {set_name}: questions {res['n']}, chunks {res['chunks']}")
        width = max(16, *(len(n) + 2 for n in res["systems"]))
        click.echo(f"{'system':<{width}}" + "".join(f"{c:>11}" for c in cols))
        for name, m in res["systems"].items():
            click.echo(f"{name:<{width}}" + "".join(f"{m[c]:>11}" for c in cols))
        leaks = {k: v for k, v in (res.get("questions_in_training_data") or {}).items() if v}
        for k, v in leaks.items():
            click.echo(f"경고: {k}는 이 세트의 질문 {v}개를 학습에 썼습니다 (수치가 부풀려짐)")


@bench.command("answers")
@click.option("--corpus", "corpus", multiple=True, required=True, type=click.Path(exists=True))
@click.option("--questions", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--backend", "backends", multiple=True, default=("extractive",), show_default=True,
              help="비교할 답변 방식 (여러 번 지정 가능)")
@click.option("--limit", type=int, default=None, help="앞에서부터 이 개수의 질문만")
@click.option("--cold", is_flag=True, help="임베딩·형태소 캐시 없이 잽니다 (처음 보는 조문에 답하는 지연시간)")
@click.option("--profile", type=click.Choice(["default", "field"]), default="default", show_default=True,
              help="field: 현장 답변(지금 할 일·법적 의무·과거 사례)으로 답합니다")
@click.option("--model", default=None,
              help="llama-cpp에 얹을 언어 모델 어댑터 (base: 없음; 기본: `dasan models use`로 고른 것)")
@click.option("--json", "as_json", is_flag=True)
def bench_answers_cmd(corpus: tuple[str, ...], questions: str, backends: tuple[str, ...], limit: int | None,
                      cold: bool, profile: str, model: str | None, as_json: bool) -> None:
    """답변 품질(키워드 적중, 인용 정확도, 거절)과 지연시간을 방식별로 잽니다."""
    from dasan.bench.answers import bench_answers

    result = bench_answers(list(corpus), Path(questions), list(backends), limit=limit, cold=cold, profile=profile,
                           model=model,
                           log=lambda m: click.echo(m, err=True))
    if as_json:
        _emit_json(result)
        return

    def cell(v: Any) -> str:
        return "-" if v is None else str(v)  # "-": not applicable (e.g. model metrics of extractive)

    cols = ["keyword_hit", "keyword_hit_early", "citation_accuracy", "citation_precision", "false_refusal",
            "refusal_unanswerable", "ttft_p50_ms", "total_p95_ms"]
    click.echo(f"questions: {result['n']} ({result['answerable']} answerable)")
    click.echo(f"{'backend':<12}" + "".join(f"{c:>22}" for c in cols))
    for name, m in result["backends"].items():
        click.echo(f"{name:<12}" + "".join(f"{cell(m[c]):>22}" for c in cols))
    if any(m.get("generated_answers") for m in result["backends"].values()):
        click.echo("\n모델이 직접 쓴 문장만 (뒤에 붙인 원문 인용 제외):")
        gen = ["generated_answers", "generated_support", "generated_keyword_hit", "generated_citation_accuracy",
               "generated_citation_precision"]
        click.echo(f"{'backend':<12}" + "".join(f"{c.removeprefix('generated_'):>22}" for c in gen))
        for name, m in result["backends"].items():
            click.echo(f"{name:<12}" + "".join(f"{cell(m.get(c)):>22}" for c in gen))


# -- security administration (dasan/security/*_cli.py) ------------------------------
def _register_security() -> None:
    from dasan.bench.pii import pii_bench_cmd
    from dasan.security.admin_cli import departments, keys, users
    from dasan.security.audit_cli import audit
    from dasan.security.pii_cli import pii

    for group in (users, departments, keys):
        _audit_changes(group, group.name or "")
    from dasan.apps.crowd.cli import crowd
    from dasan.apps.field.cli import field, records
    from dasan.apps.press.cli import press
    from dasan.apps.youth.cli import youth
    from dasan.bench.lm import lm_cmd
    from dasan.bench.load import load
    from dasan.bench.scale import scale
    from dasan.learn.cli import models
    from dasan.learn.llm.cli import train_group
    from dasan.server.serve import serve

    for group in (users, departments, keys, audit, pii, serve, press, train_group(), models, records, field, youth,
                  crowd):
        cli.add_command(group)
    bench.add_command(lm_cmd)
    bench.add_command(pii_bench_cmd)
    bench.add_command(load)
    bench.add_command(scale)
    __import__("dasan.store.cli", fromlist=["register"]).register(cli)  # dasan migrate, dasan worker (issue 19)


_READ_ONLY = frozenset({"list", "show"})


def _audit_changes(group: click.Group, prefix: str) -> None:
    """Every changing user/department/key command writes a ``permission.change`` audit entry first
    (and its outcome after); if the audit log cannot be written the change does not happen."""
    import functools

    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            _audit_changes(cmd, f"{prefix} {name}")
            continue
        if name in _READ_ONLY or cmd.callback is None:
            continue
        original = cmd.callback

        @functools.wraps(original)
        def wrapped(*args: Any, __original=original, __name=f"{prefix} {name}", **kwargs: Any) -> Any:
            obj = click.get_current_context().find_object(Ctx)
            if obj is None:
                return __original(*args, **kwargs)
            params = {k: v for k, v in kwargs.items() if k not in ("as_json",) and not isinstance(v, Ctx)}
            with obj.audited("permission.change", __name, params=json.loads(json.dumps(params, default=str))):
                return __original(*args, **kwargs)

        cmd.callback = wrapped


_register_security()


def main() -> None:
    try:
        cli(standalone_mode=True)
    except DasanError as e:
        click.echo(f"오류: {e}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
