"""Glue between the store, the model, the thresholds and the audit log (used by CLI and API)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dasan.apps.crowd import calendar as cal
from dasan.apps.crowd.forecast import fit_and_forecast, intraday
from dasan.apps.crowd.ingest import read_file
from dasan.apps.crowd.model import Panel
from dasan.apps.crowd.risk import anomaly_alerts, load_thresholds, threshold_alerts
from dasan.apps.crowd.series_store import CrowdStore
from dasan.errors import DasanError, NotFoundError, ReadError

MIN_DAYS = 120


def ingest(store: object, paths: list[str]) -> list[dict[str, Any]]:
    cs = CrowdStore.from_store(store)
    out = []
    for p in paths:
        try:
            res = read_file(p)
        except ReadError as e:  # one unreadable file does not stop the others
            out.append({"path": p, "kind": None, "error": e.message, "points": 0, "profiles": 0, "events": 0,
                        "places": [], "bad_rows": [], "new": {"points": 0, "profiles": 0, "events": 0}})
            continue
        summary = res.summary()
        summary["new"] = cs.put(res)
        out.append(summary)
    return out


def forecast(store: object, *, horizon: int = 14, thresholds: str | Path | None = None,
             places: list[str] | None = None, metric: str = "ridership", audit: Any = None,
             actor: str = "system:crowd") -> dict[str, Any]:
    """Fit, forecast, derive intraday crowding, raise alerts (audited) and save the run."""
    cs = CrowdStore.from_store(store)
    series, unit = cs.daily(metric, places)
    series = {p: s for p, s in series.items() if len(s) >= MIN_DAYS}
    if places:
        missing = [p for p in places if p not in series]
        if missing:
            raise NotFoundError(f"일별 '{metric}' 계열이 {MIN_DAYS}일 이상인 장소가 아닙니다: {', '.join(missing)}. "
                                "'dasan crowd places'로 장소를 확인하세요.")
    if not series:
        raise DasanError(f"예측할 일별 '{metric}' 계열이 없습니다 (장소마다 {MIN_DAYS}일 이상 필요). "
                         "'dasan crowd ingest 파일'로 먼저 넣으세요.")
    th = load_thresholds(thresholds)
    panel = Panel.from_points(series, unit, events=cal.EventCalendar(cs.events()), weather=cs.weather())
    forecasts, facts = fit_and_forecast(panel, horizon)
    previous = cs.runs("forecast", limit=5)
    result: dict[str, Any] = {"facts": facts, "places": {}, "thresholds": {}}
    new_alerts: list[dict[str, Any]] = []
    for pf in forecasts:
        d = pf.as_dict()
        pt = th.for_place(pf.place)
        profiles = [x for x in cs.profiles(pf.place) if pt is None or not pt.lines or x.line in pt.lines]
        intra = intraday(pf, profiles, series[pf.place]) if profiles else []
        if pt is not None and pt.kind == "train" and not intra:
            pt = None  # no 혼잡도 profile: nothing to compare train thresholds with
        alerts = threshold_alerts(d, pt, intra) if pt else []
        actual = {k.isoformat(): v for k, v in series[pf.place].items()}
        for run in previous:
            issued = run.get("places", {}).get(pf.place, {}).get("forecast", {}).get("days", [])
            alerts += anomaly_alerts(pf.place, pf.unit, issued, actual)
        stored = []
        for a in alerts:
            if cs.put_alert(a):
                stored.append(a)
        if audit is not None:
            for a in stored:
                audit.append("crowd.alert", actor, pf.place, alert_id=a["id"], kind=a["kind"], level=a["level"],
                             target_date=a["target"], explanation=a["explanation"])
        cs.deactivate_alerts(pf.place, "threshold", [a["id"] for a in alerts if a["kind"] == "threshold"])
        new_alerts += stored
        result["places"][pf.place] = {"forecast": d, "intraday": intra,
                                      "history": [{"date": k.isoformat(), "value": v}
                                                  for k, v in sorted(series[pf.place].items())[-120:]]}
        result["thresholds"][pf.place] = pt.as_dict() if pt else None
    result["run_id"] = cs.save_run("forecast", result)
    result["new_alerts"] = new_alerts
    return result


def alerts(store: object, place: str | None = None, include_inactive: bool = False) -> list[dict[str, Any]]:
    return CrowdStore.from_store(store).alerts(place, active_only=not include_inactive)


def dashboard(store: object, place: str | None = None) -> dict[str, Any]:
    """What the web page draws: per place the history, the latest forecast with its bands and
    intraday crowding, the thresholds and current alerts, and the latest backtest."""
    cs = CrowdStore.from_store(store)
    latest: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # place -> (its newest run, place data)
    for run in cs.runs("forecast", limit=20):
        for name, p in run.get("places", {}).items():
            latest.setdefault(name, (run, p))
    names = sorted(latest)
    if place and place not in names:
        raise NotFoundError(f"'{place}'의 예측이 없습니다. 'dasan crowd forecast'를 먼저 실행하세요.")
    newest = max((r for r, _ in latest.values()), key=lambda r: r["run_id"], default={})
    out: dict[str, Any] = {"places": names, "created": newest.get("created"), "facts": newest.get("facts"),
                           "place": {}}
    for name in [place] if place else names:
        run, p = latest[name]
        out["place"][name] = {**p, "created": run.get("created"),
                              "thresholds": run.get("thresholds", {}).get(name), "alerts": cs.alerts(name)}
    bt = cs.runs("backtest", limit=1)
    out["backtest"] = bt[0] if bt else None
    return out

