"""``dasan youth …``: the youth-benefit catalogue, screening, recommendation, YAML cases, bench."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click

from dasan.errors import DasanError


class CatalogueMissingError(DasanError):
    code = "youth_catalogue_missing"


def _policies(ctx: Any, files: tuple[str, ...]) -> list[Any]:
    from dasan.apps.youth.catalogue import load_policies, read_catalogue

    if files:
        return read_catalogue([Path(f) for f in files])
    pols = load_policies(ctx.store)
    if not pols:
        raise CatalogueMissingError("청년 정책 카탈로그가 비어 있습니다. `dasan youth ingest 파일…`로 온통청년 "
                                    "정책 파일(CSV/JSON)을 먼저 넣거나 --catalogue 파일을 주세요.")
    return pols


def _date(value: str | None) -> date:
    if not value:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise click.BadParameter(f"'{value}'은 날짜가 아닙니다. YYYY-MM-DD로 쓰세요.") from e


def _profile(profile: str | None, profile_file: str | None) -> dict[str, Any]:
    if profile_file:
        return json.loads(Path(profile_file).read_text(encoding="utf-8"))
    if profile:
        try:
            return json.loads(profile)
        except json.JSONDecodeError as e:
            raise click.BadParameter(f"--profile은 JSON이어야 합니다 ({e.msg}).") from e
    return {}


def _dump(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


@click.group("youth")
def youth() -> None:
    """청년 혜택 — 온통청년 정책 카탈로그, 자격 판정(대상/비대상/확인 필요), 추천, 사례 시험."""


@youth.command("ingest")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--level", default="공개", show_default=True, help="등급 (공개 정책은 계정 없이 볼 수 있음)")
@click.option("--today", default=None, help="만료 표시 기준일 (기본: 오늘)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def ingest_cmd(ctx: Any, files: tuple[str, ...], level: str, today: str | None, as_json: bool) -> None:
    """온통청년 정책 파일(CSV/JSON)을 넣습니다. 같은 plcyNo는 갱신, 신청 기간이 끝난 정책은 삭제하지 않고 만료로 표시."""
    from dasan.apps.youth.catalogue import ingest
    from dasan.security.access import require

    require(ctx.principal, "ingest")
    with ctx.audited("youth.ingest", "youth_policies", paths=list(files)[:100], level=level) as rec:
        rep = ingest(ctx.store, [Path(f) for f in files], today=_date(today), classification=level)
        rec.update(rep.as_dict())
    if as_json:
        _dump(rep.as_dict())
        return
    click.echo(f"정책 {rep.total}건 보관: 새로 {rep.added}, 갱신 {rep.updated}, 그대로 {rep.unchanged}"
               + (f", 더 오래된 기록이라 건너뜀 {rep.older}" if rep.older else "") + f" · 신청 마감(만료 표시) {rep.expired}건")


@youth.command("show")
@click.argument("plcy_no")
@click.option("--catalogue", "files", multiple=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show_cmd(ctx: Any, plcy_no: str, files: tuple[str, ...], as_json: bool) -> None:
    """정책 하나의 조건(규칙)과 원문."""
    pol = next((p for p in _policies(ctx, files) if p.plcy_no == plcy_no), None)
    if pol is None:
        raise CatalogueMissingError(f"정책 {plcy_no}을 찾지 못했습니다. plcyNo를 확인하세요.")
    out = {"plcyNo": pol.plcy_no, "name": pol.name, "category": list(pol.categories), "conditions": pol.conditions(),
           "window": pol.window_state(date.today()), "documents": pol.documents, "apply_method": pol.apply_method,
           "url": pol.url, "institution": pol.institution}
    if as_json:
        _dump(out)
        return
    from dasan.apps.youth.rules import Profile, screen

    click.echo(f"{pol.name} ({pol.plcy_no}) · {', '.join(pol.categories)} · {pol.institution}")
    click.echo(f"  신청: {out['window']['text']}" + (" [만료 표시]" if pol.expired_marked else ""))
    for c in screen(pol, Profile(), date.today(), full=True).checks:  # an empty profile: every rule as written
        law = f" [{c.law}]" if c.law else ""
        line = c.quote if ":" in c.quote[:12] else f"{c.condition}: {c.quote}"
        click.echo(f"  {line}{law}")
    for note in pol.notes:
        click.echo(f"  참고: {note}")
    if pol.documents:
        click.echo(f"  제출 서류: {pol.documents[:300]}")
    if pol.url:
        click.echo(f"  신청·안내: {pol.url}")


def _print_result(r: dict[str, Any]) -> None:
    click.echo(f"[{r['status']}] {r['name']} ({r['plcyNo']}) · {r['window'].get('text', '')}")
    for c in r["reasons"]:
        if r["status"] == "대상" and any(w in c.get("quote", "") for w in ("제한없음", "제한 없음", "무관")):
            continue
        law = f" [{c['law']}]" if c.get("law") else ""
        click.echo(f"    - {c['condition']}: {c['reason']} — 정책 원문: \"{c.get('quote', '')}\"{law}")


@youth.command("screen")
@click.option("--profile", default=None, help='JSON, 예: {"birth_date": "1998-03-02", "sigungu_code": "11620"}')
@click.option("--profile-file", default=None, type=click.Path(exists=True, dir_okay=False))
@click.option("--date", "on", default=None, help="기준일 (기본: 오늘)")
@click.option("--catalogue", "files", multiple=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--status", type=click.Choice(["대상", "확인 필요", "비대상"]), default=None, help="이 결과만")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def screen_cmd(ctx: Any, profile: str | None, profile_file: str | None, on: str | None, files: tuple[str, ...],
               status: str | None, as_json: bool) -> None:
    """모든 정책을 한 사람의 조건으로 판정합니다 (조건마다 근거와 원문)."""
    from dasan.apps.youth.rules import Profile, screen_all

    prof = Profile.from_dict(_profile(profile, profile_file))
    results = screen_all(_policies(ctx, files), prof, _date(on))
    results = [r for r in results if status is None or r.status == status]
    if as_json:
        _dump([r.as_dict() for r in results])
        return
    for r in results:
        _print_result(r.as_dict())


@youth.command("parse")
@click.argument("sentence")
@click.pass_obj
def parse_cmd(ctx: Any, sentence: str) -> None:
    """한국어 문장에서 읽은 조건(확인용)을 보여 줍니다."""
    from dasan.apps.youth.profile_parse import parse_question

    _dump(parse_question(sentence).as_dict())


@youth.command("recommend")
@click.argument("sentence", required=False)
@click.option("--profile", default=None, help="JSON 조건 (문장에서 읽은 값보다 우선)")
@click.option("--profile-file", default=None, type=click.Path(exists=True, dir_okay=False))
@click.option("--category", default=None, type=click.Choice(["일자리", "주거", "교육", "복지문화", "참여권리"]))
@click.option("--keyword", "keywords", multiple=True, help="찾는 낱말 (여러 번)")
@click.option("--date", "on", default=None, help="기준일 (기본: 오늘)")
@click.option("--catalogue", "files", multiple=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def recommend_cmd(ctx: Any, sentence: str | None, profile: str | None, profile_file: str | None,
                  category: str | None, keywords: tuple[str, ...], on: str | None, files: tuple[str, ...],
                  limit: int, as_json: bool) -> None:
    """물어본 주제에 맞는 정책을 대상 먼저 보여 주고, 확인 필요를 가장 많이 풀 질문 하나를 묻습니다."""
    from dasan.apps.youth.profile_parse import parse_question
    from dasan.apps.youth.recommend import Query, recommend
    from dasan.apps.youth.rules import Profile

    parsed = parse_question(sentence) if sentence else None
    fields = {**(parsed.fields if parsed else {}), **_profile(profile, profile_file)}
    query = parsed.query if parsed else Query()
    if category or keywords:
        query = Query(category or query.category, tuple(keywords) or query.keywords, query.text)
    rec = recommend(_policies(ctx, files), Profile.from_dict(fields), query, _date(on))
    out = rec.as_dict(limit=limit)
    if parsed:
        out["understood"] = parsed.as_dict()
    if as_json:
        _dump(out)
        return
    if parsed:
        click.echo("이렇게 이해했습니다: " + " · ".join(parsed.read))
    c = out["counts"]
    click.echo(f"살펴본 정책 {out['considered']}건 — 대상 {c['대상']}, 확인 필요 {c['확인 필요']}, 비대상 {c['비대상']}")
    for r in out["results"]:
        _print_result(r)
        if r.get("documents"):
            click.echo(f"    준비 서류: {r['documents'][:200]}")
        if r.get("url"):
            click.echo(f"    신청: {r['url']}")
    if out["ask"]:
        click.echo(f"한 가지만 더 알려 주세요: {out['ask']['question']} (확인 필요 {out['ask']['affects']}건에 필요)")


@youth.command("test")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--catalogue", "files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="정책 파일 (기본: 저장소의 카탈로그)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def test_cmd(ctx: Any, directory: str, files: tuple[str, ...], as_json: bool) -> None:
    """YAML 사례(조건, 기준일, 정책별 기대 결과와 결정 조건)를 실행합니다. 실패가 있으면 종료 코드 1."""
    from dasan.apps.youth.cases import run_dir

    pols = {p.plcy_no: p for p in _policies(ctx, files)}
    results = run_dir(Path(directory), pols)
    failed = [r for r in results if not r.ok]
    if as_json:
        _dump({"n": len(results), "failed": len(failed), "results": [r.as_dict() for r in results]})
    else:
        for r in failed:
            click.echo(f"실패 {r.file} · {r.name} · {r.plcy_no}: {'; '.join(r.problems)}")
        click.echo(f"사례 {len(results)}개 중 {len(results) - len(failed)}개 통과")
    if failed:
        raise SystemExit(1)


@youth.command("bench")
@click.option("--catalogue", "files", multiple=True, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--cases", "cases_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@click.option("--per-case", is_flag=True, help="사례별 수치도 출력")
def bench_cmd(files: tuple[str, ...], cases_path: str, as_json: bool, per_case: bool) -> None:
    """판정·추천 품질: false_eligible, precision@5, recall@20, p95_ms (정의는 dasan/apps/youth/bench.py)."""
    from dasan.apps.youth.bench import read_cases, run_bench
    from dasan.apps.youth.catalogue import read_catalogue

    result = run_bench(read_catalogue([Path(f) for f in files]), read_cases(Path(cases_path)))
    if not per_case:
        result.pop("per_case")
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    click.echo(f"사례 {result['n']}개 · 정책 {result['policies']}건")
    for k in ("false_eligible", "precision@5", "recall@20", "p95_ms", "screen_all_p95_ms"):
        click.echo(f"  {k}: {result[k]}")
