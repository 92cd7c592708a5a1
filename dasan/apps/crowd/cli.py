"""``dasan crowd``: ingest series, forecast, alerts, backtest (issue 16)."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from typing import Any

import click

from dasan.errors import DasanError


def _echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


@click.group("crowd")
def crowd() -> None:
    """밀집위험 사전 예측 — 장소별 혼잡 계열, 예측구간, 위험 단계(관심·주의·경계·심각)와 경보."""


@crowd.command("ingest")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="결과를 JSON으로 출력")
@click.pass_obj
def ingest_cmd(ctx: Any, files: tuple[str, ...], as_json: bool) -> None:
    """혼잡도 표·역별 일별 승하차·실시간 도시데이터 JSON·행사 일정·place,time,value CSV를 넣습니다 (다시 넣어도 중복 없음)."""
    from dasan.apps.crowd.service import ingest
    from dasan.security.access import require

    require(ctx.principal, "ingest")
    with ctx.audited("crowd.ingest", ",".join(files)[:500], files=list(files)) as rec:
        out = ingest(ctx.store, list(files))
        rec.update(points=sum(o["points"] for o in out), bad_rows=sum(len(o["bad_rows"]) for o in out))
    failed = [o for o in out if o.get("error")]
    if as_json:
        _echo_json(out)
        if failed:
            raise SystemExit(2)
        return
    for o in out:
        if o.get("error"):
            click.echo(f"{o['path']}: 넣지 못했습니다 — {o['error']}", err=True)
            continue
        new = o["new"]
        click.echo(f"{o['path']} ({o['kind']}): 값 {o['points']:,}개 (새로 {new['points']:,}개), 혼잡도 프로필 "
                   f"{o['profiles']:,}칸, 행사 {o['events']:,}건 (새로 {new['events']:,}건), 장소 {len(o['places'])}곳")
        for b in o["bad_rows"][:50]:
            click.echo(f"  건너뜀: {b['line']}행 — {b['reason']}")
        if len(o["bad_rows"]) > 50:
            click.echo(f"  … 잘못된 행 {len(o['bad_rows']) - 50}개 더")
    if failed:
        raise SystemExit(2)


@crowd.command("places")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def places_cmd(ctx: Any, as_json: bool) -> None:
    """저장된 장소별 계열 (단위, 기간, 값 수)."""
    from dasan.apps.crowd.series_store import CrowdStore
    from dasan.security.access import require

    require(ctx.principal, "search")
    rows = CrowdStore.from_store(ctx.store).series()
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("저장된 혼잡 계열이 없습니다. 'dasan crowd ingest 파일'로 넣으세요.")
    for r in rows:
        click.echo(f"{r['place']}\t{r['metric']}\t{r['unit']}\t{r['freq']}\t{r['n']:,}개\t{r['first']} ~ {r['last']}")


@crowd.command("forecast")
@click.option("--place", "places", multiple=True, help="이 장소만 (여러 번 지정 가능)")
@click.option("--horizon", default=14, show_default=True, type=click.IntRange(1, 28), help="며칠 앞까지")
@click.option("--thresholds", type=click.Path(dir_okay=False, exists=True),
              help="장소별 위험 단계 기준 JSON (예: examples/crowd/thresholds.json)")
@click.option("--metric", default="ridership", show_default=True,
              help="예측할 계열 (예: population — 5분 단위 실시간 도시데이터는 하루 최대값으로)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def forecast_cmd(ctx: Any, places: tuple[str, ...], horizon: int, thresholds: str | None, metric: str,
                 as_json: bool) -> None:
    """일별 예측(1–14일)과 80·95% 예측구간, 30분 단위 혼잡도, 위험 경보를 만듭니다."""
    from dasan.apps.crowd.service import forecast
    from dasan.security.access import require

    require(ctx.principal, "ingest")  # it writes forecast runs and alerts into the store
    with ctx.audited("crowd.forecast", ",".join(places), horizon=horizon, thresholds=thresholds or "") as rec:
        out = forecast(ctx.store, horizon=horizon, thresholds=thresholds, places=list(places) or None,
                       metric=metric, audit=ctx.audit, actor=ctx.actor)
        rec.update(run_id=out["run_id"], new_alerts=len(out["new_alerts"]))
    if as_json:
        _echo_json(out)
        return
    f = out["facts"]
    click.echo(f"예측 완료: 장소 {len(out['places'])}곳, {horizon}일 앞까지, 학습 {f['fits']}회, {f['seconds']}초")
    for name, p in out["places"].items():
        fc = p["forecast"]
        click.echo(f"\n■ {name} ({fc['unit']}, 기준일 {fc['origin']})")
        click.echo("  날짜        예측        80% 구간                95% 구간                요인")
        for d in fc["days"]:
            if d["lo80"] is None:
                click.echo(f"  {d['date']}  {d['value']:>10,.0f}  (예측구간 없음: 표본 예측 오차가 부족)  "
                           f"{', '.join(d['effects'])}")
                continue
            click.echo(f"  {d['date']}  {d['value']:>10,.0f}  [{d['lo80']:>9,.0f}, {d['hi80']:>9,.0f}]  "
                       f"[{d['lo95']:>9,.0f}, {d['hi95']:>9,.0f}]  {', '.join(d['effects'])}")
    if out["new_alerts"]:
        click.echo(f"\n새 경보 {len(out['new_alerts'])}건:")
        for a in out["new_alerts"]:
            click.echo(f"  [{a['level']}] {a['explanation']}")
    else:
        click.echo("\n새 경보가 없습니다.")


@crowd.command("alerts")
@click.option("--place", default=None, help="이 장소의 경보만")
@click.option("--all", "include_inactive", is_flag=True, help="지난(해제된) 경보도")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def alerts_cmd(ctx: Any, place: str | None, include_inactive: bool, as_json: bool) -> None:
    """현재 경보와 그 설명 (어떤 예측, 어떤 기준, 어떤 달력·행사 요인)."""
    from dasan.apps.crowd.service import alerts
    from dasan.security.access import require

    require(ctx.principal, "search")
    rows = alerts(ctx.store, place, include_inactive)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("현재 경보가 없습니다." + (f" ({place})" if place else ""))
    for a in rows:
        click.echo(f"[{a['level']}] {a['explanation']}")


def _load_panel(history: str, actual: str | None, events: tuple[str, ...],
                weather: tuple[str, ...] = ()) -> tuple[Any, int | None]:
    from dasan.apps.crowd import calendar as cal
    from dasan.apps.crowd.ingest import daily_series, read_file
    from dasan.apps.crowd.model import Panel

    hist = read_file(history)
    for n, reason in hist.bad[:20]:
        click.echo(f"건너뜀: {history}:{n}행 — {reason}", err=True)
    series, unit = daily_series(hist.points)
    if not series:
        raise DasanError(f"{history}: 일별 계열이 없습니다. date,station,total 또는 place,time,value 파일을 주세요.")
    hist_end = max(max(s) for s in series.values())
    if actual:
        act = read_file(actual)
        for n, reason in act.bad[:20]:
            click.echo(f"건너뜀: {actual}:{n}행 — {reason}", err=True)
        extra, _ = daily_series(act.points)
        for place, vals in extra.items():
            series.setdefault(place, {}).update({d: v for d, v in vals.items() if d > hist_end})
    evs = []
    for e in events:
        evs += read_file(e).events
    temps: dict[Any, dict[str, float]] = {}
    for w in weather:
        for pt in read_file(w).points:
            if pt.metric in ("temp", "rain") and pt.freq == "day":
                temps.setdefault(date.fromisoformat(pt.ts), {})[pt.metric] = pt.value
    wx = {d: (v.get("temp", float("nan")), v.get("rain", float("nan"))) for d, v in temps.items()}
    panel = Panel.from_points(series, unit, events=cal.EventCalendar(evs), weather=wx)
    return panel, (panel.index_of(hist_end + timedelta(days=1)) if actual else None)


@crowd.command("backtest")
@click.option("--history", required=True, type=click.Path(dir_okay=False, exists=True), help="학습에 쓸 일별 이력")
@click.option("--actual", type=click.Path(dir_okay=False, exists=True),
              help="이력 뒤 실제값: 이 기간을 실제값이 들어오는 대로 다시 학습하며 예측")
@click.option("--horizon", default=14, show_default=True, type=click.IntRange(1, 28))
@click.option("--eval-days", default=364, show_default=True, type=click.IntRange(28, 3650),
              help="--actual 없을 때 평가할 이력 끝부분 길이(일)")
@click.option("--refit-every", default=28, show_default=True, type=click.IntRange(1, 365), help="다시 학습하는 간격(일)")
@click.option("--events", multiple=True, type=click.Path(dir_okay=False, exists=True),
              help="행사 일정 또는 행사 이력 파일 (여러 번 지정 가능)")
@click.option("--weather", multiple=True, type=click.Path(dir_okay=False, exists=True),
              help="날씨 파일 (daily_total_weather 형식 또는 place,time,value,metric=temp|rain)")
@click.option("--save/--no-save", default=True, show_default=True, help="결과를 저장해 웹 화면에 그림으로 보이기")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def backtest_cmd(ctx: Any, history: str, actual: str | None, horizon: int, eval_days: int, refit_every: int,
                 events: tuple[str, ...], weather: tuple[str, ...], save: bool, as_json: bool) -> None:
    """이동 기점(rolling-origin) 평가: 같은 실행 안에서 계절 단순예측(지난주 같은 요일)과 비교합니다."""
    from dasan.apps.crowd.backtest import event_effect_check, rolling_backtest

    t0 = time.monotonic()
    panel, start = _load_panel(history, actual, events, weather)
    if start is not None and start >= panel.days:
        raise DasanError(f"{actual}: 이력 뒤 날짜의 실제값이 없습니다. 이력 마지막 날 이후의 값을 주세요.")
    eval_from = start if start is not None else panel.days - eval_days
    if eval_from < 240:
        raise DasanError("평가 전 학습 이력이 너무 짧습니다 (최소 240일). --eval-days를 줄이세요.")
    res = rolling_backtest(panel, eval_from=eval_from, horizon=horizon, refit_every=refit_every)
    out = res.to_dict()
    if panel.events.events:
        out["event_effect"] = event_effect_check(panel.events.events)
    out["seconds"] = round(time.monotonic() - t0, 2)
    out["history"], out["actual"] = history, actual
    if save:
        from dasan.apps.crowd.series_store import CrowdStore

        CrowdStore.from_store(ctx.store).save_run("backtest", {**out, "plot": _plot_data(res)})
    if as_json:
        _echo_json(out)
        return
    ratio = out["mase_ratio"]
    click.echo(f"평가 기간 {out['window']['from']} ~ {out['window']['to']}, 예측 {out['n']:,}개 (1–{horizon}일 앞), "
               f"학습 {out['fits']}회, {out['seconds']}초")
    click.echo(f"MASE {out['mase']:.3f} (계절 단순예측 {out['seasonal_naive_mase']:.3f}, 비율 {ratio:.2f}), "
               f"sMAPE {out['smape']:.2f}%, 구간 포함률 80%: {out['coverage_80']:.3f}, 95%: {out['coverage_95']:.3f}")
    for key, label in (("special_days", "공휴일·행사일"), ("holidays", "  그중 공휴일"), ("event_days", "  그중 행사일")):
        sp = out[key]
        if sp.get("n"):
            click.echo(f"{label} {sp['n']}개: MASE {sp['mase']:.3f} (계절 단순예측 {sp['seasonal_naive_mase']:.3f}, "
                       f"비율 {sp['mase_ratio']:.2f})")
    ee = out.get("event_effect") or {}
    if ee.get("n"):
        click.echo(f"행사 효과 점검 (행사일 {ee['n']}개, 평균 대비 오차): 행사 일정 없이 {ee['error_without_calendar_pct']:.1f}%, "
                   f"행사 일정의 예상 상승률로 {ee['error_with_calendar_pct']:.1f}% (비율 {ee['ratio']:.2f})")
    for name, m in out["per_place"].items():
        if m.get("n"):
            click.echo(f"  {name}: MASE {m['mase']:.3f} / 단순 {m['seasonal_naive_mase']:.3f}, "
                       f"포함률 {m['coverage_80']:.3f} / {m['coverage_95']:.3f}")


def _plot_data(res: Any) -> dict[str, Any]:
    """Per place, for horizons 1, 7 and 14: date, actual, forecast, 80 % band and seasonal naive."""
    out: dict[str, Any] = {}
    for i, name in enumerate(res.places):
        per: dict[str, list[list[Any]]] = {}
        for r in res.rows:
            if r.place == i and r.h in (1, 7, res.horizon):
                d = res.start + timedelta(days=r.origin + r.h)
                per.setdefault(str(r.h), []).append([d.isoformat(), round(r.actual), round(r.pred), round(r.lo[0.8]),
                                                     round(r.hi[0.8]), round(r.naive)])
        out[name] = per
    return out

