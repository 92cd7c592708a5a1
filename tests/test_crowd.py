"""Crowd-risk early warning (issue 16) on the real 서울교통공사 / 서울 열린데이터광장 files:
readers and idempotent ingest, calendar effects, conformal intervals, rolling-origin backtests
against seasonal naive, forecasts with intraday 혼잡도, alerts (audit log, CLI, API)."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import shared_path

from dasan import config
from dasan.apps.crowd import calendar as cal
from dasan.apps.crowd.conformal import ResidualBuffer
from dasan.apps.crowd.ingest import daily_series, read_file
from dasan.apps.crowd.risk import load_thresholds
from dasan.cli import cli
from dasan.errors import ConfigError

EXAMPLES = config.examples_dir() / "crowd"
JSON_KEYS = {"n", "horizon", "mase", "seasonal_naive_mase", "smape", "coverage_80", "coverage_95", "per_place"}


def metro(name: str) -> Path:
    return shared_path("data", "seoul-metro", name)


def _slice(src: Path, out: Path, stations: set[str], start: str, end: str) -> Path:
    with src.open(encoding="utf-8") as f, out.open("w", encoding="utf-8", newline="") as g:
        r = csv.reader(f)
        w = csv.writer(g)
        w.writerow(next(r))
        for row in r:
            if row[1] in stations and start <= row[0] <= end:
                w.writerow(row)
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two stations of the real daily file: history to 2024-03-31 and the next quarter as actuals."""
    d = tmp_path_factory.mktemp("crowd-files")
    src = metro("line2_daily_2018_2025H1.csv")
    st = {"강남", "홍대입구"}
    return {"history": _slice(src, d / "hist.csv", st, "2021-07-01", "2024-03-31"),
            "actual": _slice(src, d / "actual.csv", st, "2024-04-01", "2024-06-30"),
            "all": _slice(src, d / "all.csv", st, "2021-07-01", "2024-06-30")}


def run(*args: str, data: Path | None = None) -> str:
    pre = ["--data-dir", str(data)] if data else []
    res = CliRunner().invoke(cli, [*pre, *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


# -- readers --------------------------------------------------------------------------------
def test_readers_read_every_shared_shape() -> None:
    daily = read_file(metro("line2_daily_2018_2025H1.csv"))
    assert daily.kind == "station_daily" and not daily.bad
    series, unit = daily_series(daily.points)
    assert set(series) == {"강남", "잠실", "신도림", "홍대입구"} and unit == "명/일"
    assert series["강남"][date(2018, 1, 1)] == 77504.0

    prof = read_file(metro("congestion_2023_by_30min.csv"))
    gangnam = [p for p in prof.profiles if p.place == "강남" and p.line == "2호선"]
    assert {p.day_type for p in gangnam} == {"평일", "토요일", "일요일"}
    assert {p.direction for p in gangnam} == {"내선", "외선"}
    assert len({p.slot for p in gangnam}) == 39  # 05:30 … 00:30 every 30 minutes
    peak = max((p for p in gangnam if p.day_type == "평일"), key=lambda p: p.value)
    assert peak.slot == "18:00" and peak.value > 100

    ev = read_file(metro("event_days_2023.csv"))
    assert len(ev.events) > 700 and any(e.place == "올림픽공원" and e.rise_pct for e in ev.events)

    w = read_file(metro("daily_total_weather_2023.csv"))
    assert {p.metric for p in w.points} == {"ridership", "temp", "rain"}


def test_bad_rows_are_reported_with_their_line_and_skipped(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("date,station,total\n2024-01-01,강남,100\n2024-13-01,강남,100\n2024-01-02,강남,abc\n"
                 "2024-01-03,,5\n2024-01-04,강남,-3\n2024-01-05,강남,120\n", encoding="utf-8")
    res = read_file(f)
    assert [n for n, _ in res.bad] == [3, 4, 5, 6]
    assert [p.value for p in res.points] == [100.0, 120.0]
    out = run("crowd", "ingest", str(f), data=tmp_path / "d")
    assert "건너뜀: 3행" in out and "건너뜀: 6행" in out


def test_citydata_json_and_plain_csv(tmp_path: Path) -> None:
    res = read_file(EXAMPLES / "citydata_sample.json")
    pop = [p for p in res.points if p.metric == "population"]
    assert pop[0].place == "서울광장" and pop[0].value == 27000 and pop[0].ts == "2025-05-05T14:05"
    assert len([p for p in res.points if p.metric == "population_forecast_seoul"]) == 2
    assert [p.value for p in res.points if p.metric == "congestion_level"] == [3.0]
    assert len(res.bad) == 1  # the second snapshot's population is not a number
    plain = tmp_path / "plain.csv"
    plain.write_text("place,time,value,unit\n시청앞,2025-05-05 14:00,1200,명\n시청앞,2025-05-06,3,명\n", encoding="utf-8")
    pts = read_file(plain).points
    assert [(p.freq, p.ts) for p in pts] == [("intraday", "2025-05-05T14:00"), ("day", "2025-05-06")]


def test_reingest_is_idempotent(tmp_path: Path, files: dict[str, Path]) -> None:
    data = tmp_path / "d"
    args = ["crowd", "ingest", str(files["history"]), str(metro("event_days_2023.csv")), "--json"]
    first = json.loads(run(*args, data=data))
    second = json.loads(run(*args, data=data))
    assert first[0]["new"]["points"] == first[0]["points"] > 1000
    assert second[0]["new"]["points"] == 0 and second[1]["new"]["events"] == 0
    places = json.loads(run("crowd", "places", "--json", data=data))
    assert {(r["place"], r["n"]) for r in places} == {("강남", first[0]["points"] // 2),
                                                      ("홍대입구", first[0]["points"] // 2)}


# -- calendar and intervals --------------------------------------------------------------------
def test_calendar_effects() -> None:
    assert cal.holiday_kind(date(2024, 5, 6)) == cal.HOLIDAY_SUBSTITUTE  # 어린이날 대체공휴일
    assert cal.holiday_kind(date(2024, 2, 10)) == cal.HOLIDAY_MYEONGJEOL  # 설날
    assert cal.holiday_kind(date(2024, 4, 10)) == cal.HOLIDAY_SPECIAL  # 국회의원 선거일
    assert cal.myeongjeol_offset(date(2024, 9, 19)) == 2  # two days after 추석
    assert cal.is_bridge(date(2025, 1, 31))  # Friday between 설날 다음날 and the weekend
    assert not cal.is_bridge(date(2025, 2, 5)) and cal.in_vacation(date(2024, 8, 1))
    assert any("대체" in x for x in cal.describe_day(date(2025, 3, 3)))


def test_conformal_intervals_cover_as_promised() -> None:
    rng = np.random.default_rng(3)
    buf = ResidualBuffer(1, window=2000)
    for r in rng.standard_t(5, 2000) * 0.05 + 0.01:
        buf.add(1, float(r), False)
    lo80, hi80 = buf.bounds(1, False, 0.8)
    lo95, hi95 = buf.bounds(1, False, 0.95)
    new = rng.standard_t(5, 20000) * 0.05 + 0.01
    assert 0.78 <= np.mean((new >= lo80) & (new <= hi80)) <= 0.83
    assert 0.94 <= np.mean((new >= lo95) & (new <= hi95)) <= 0.97


def test_thresholds_config_errors_name_the_fix(tmp_path: Path) -> None:
    th = load_thresholds(EXAMPLES / "thresholds.json")
    assert th.for_place("강남").level_of(140) == "주의"
    assert th.for_place("서울광장").kind == "area"
    bad = tmp_path / "t.json"
    bad.write_text(json.dumps({"places": {"광장": {"kind": "area", "levels": {"관심": 1}}}}), encoding="utf-8")
    with pytest.raises(ConfigError, match="area_m2"):
        load_thresholds(bad)
    bad.write_text(json.dumps({"places": {"역": {"levels": {"관심": 150, "주의": 100}}}}), encoding="utf-8")
    with pytest.raises(ConfigError, match="순으로"):
        load_thresholds(bad)


# -- backtests ----------------------------------------------------------------------------------
def test_backtest_beats_seasonal_naive_with_calibrated_intervals(tmp_path: Path, files: dict[str, Path]) -> None:
    out = json.loads(run("crowd", "backtest", "--history", str(files["all"]), "--horizon", "14", "--eval-days", "91",
                         "--refit-every", "91", "--json", data=tmp_path / "d"))
    assert set(out) >= JSON_KEYS and out["horizon"] == 14
    assert set(out["per_place"]) == {"강남", "홍대입구"}
    assert out["n"] == sum(m["n"] for m in out["per_place"].values()) > 2000
    assert out["mase"] < 0.8 * out["seasonal_naive_mase"]
    assert 0.65 <= out["coverage_80"] <= 0.92 and 0.85 <= out["coverage_95"] <= 0.995
    sp = out["special_days"]  # 공휴일 in 2024-04 … 06: 선거일, 어린이날 대체공휴일, 부처님오신날, 현충일
    assert sp["n"] > 0 and sp["mase"] < 0.7 * sp["seasonal_naive_mase"]
    assert out["window"] == {"from": "2024-04-01", "to": "2024-06-30"}


def test_backtest_through_actuals_refits_as_they_arrive(tmp_path: Path, files: dict[str, Path]) -> None:
    out = json.loads(run("crowd", "backtest", "--history", str(files["history"]), "--actual", str(files["actual"]),
                         "--horizon", "7", "--refit-every", "45", "--json", "--no-save", data=tmp_path / "d"))
    assert out["window"] == {"from": "2024-04-01", "to": "2024-06-30"} and out["horizon"] == 7
    assert out["fits"] >= 5  # calibration stretch plus refits inside the actual period
    assert out["mase"] < out["seasonal_naive_mase"]
    text = run("crowd", "backtest", "--history", str(files["history"]), "--actual", str(files["actual"]),
               "--horizon", "3", "--refit-every", "365", "--no-save", data=tmp_path / "d")
    assert "계절 단순예측" in text and "포함률" in text


# -- forecasts, alerts, audit, API -------------------------------------------------------------
@pytest.fixture(scope="module")
def forecasted(tmp_path_factory: pytest.TempPathFactory, files: dict[str, Path]) -> tuple[Path, dict, Path]:
    data = tmp_path_factory.mktemp("crowd-store")
    th = data / "thresholds.json"
    th.write_text(json.dumps({"places": {"강남": {"kind": "train", "lines": ["2호선"],
                                                 "levels": {"관심": 60, "주의": 90, "경계": 250, "심각": 300}},
                                         "홍대입구": {"kind": "daily", "levels": {"심각": 10_000_000}}}},
                             ensure_ascii=False), encoding="utf-8")
    run("crowd", "ingest", str(files["history"]), str(metro("congestion_2023_by_30min.csv")),
        str(metro("event_days_2023.csv")), data=data)
    out = json.loads(run("crowd", "forecast", "--thresholds", str(th), "--json", data=data))
    return data, out, th


def test_forecast_daily_bands_and_intraday(forecasted: tuple[Path, dict, Path]) -> None:
    _, out, _ = forecasted
    g = out["places"]["강남"]
    days = g["forecast"]["days"]
    assert [d["date"] for d in days][:2] == ["2024-04-01", "2024-04-02"] and len(days) == 14
    for d in days:
        assert d["lo95"] <= d["lo80"] <= d["value"] <= d["hi80"] <= d["hi95"]
    by_date = {d["date"]: d for d in days}
    assert "국회의원 선거일(임시공휴일·선거일)" in by_date["2024-04-10"]["effects"]
    # a holiday is forecast well below the ordinary weekdays around it
    assert by_date["2024-04-10"]["value"] < 0.85 * by_date["2024-04-09"]["value"]
    intra = [x for x in g["intraday"] if x["date"] == "2024-04-02"]
    assert {x["direction"] for x in intra} == {"내선", "외선"} and all(x["line"] == "2호선" for x in intra)
    assert all(x["day_type"] == "평일" for x in intra) and len(intra[0]["slots"]) == 39
    assert out["facts"]["model"] == "lightgbm" and out["facts"]["residuals"]["강남"] > 1000


def test_threshold_alerts_are_explained_audited_and_listed(forecasted: tuple[Path, dict, Path]) -> None:
    data, out, _ = forecasted
    alerts = [a for a in out["new_alerts"] if a["place"] == "강남"]
    assert alerts and all(a["kind"] == "threshold" for a in alerts)
    assert {a["level"] for a in alerts} <= {"관심", "주의"} and "주의" in {a["level"] for a in alerts}
    a = alerts[0]
    assert a["upper"] >= a["threshold"] and "2호선" in a["when"] and "기준" in a["explanation"]
    assert not [x for x in out["new_alerts"] if x["place"] == "홍대입구"]  # nobody reaches 10 million a day
    from dasan.security.audit import AuditLog

    entries = [e for e in AuditLog(data).tail(500) if e.action == "crowd.alert"]
    assert {e.details["alert_id"] for e in entries} == {x["id"] for x in out["new_alerts"]}
    text = run("crowd", "alerts", "--place", "강남", data=data)
    assert "[주의]" in text and "예측구간 상한" in text
    assert "현재 경보가 없습니다" in run("crowd", "alerts", "--place", "홍대입구", data=data)


def test_anomaly_alert_when_the_actual_leaves_the_interval(forecasted: tuple[Path, dict, Path], tmp_path: Path) -> None:
    data, out, th = forecasted
    day = out["places"]["홍대입구"]["forecast"]["days"][0]
    f = tmp_path / "actual.csv"
    f.write_text(f"place,time,value,unit\n홍대입구,{day['date']},{day['hi95'] * 1.5:.0f},명/일\n", encoding="utf-8")
    run("crowd", "ingest", str(f), data=data)
    again = json.loads(run("crowd", "forecast", "--thresholds", str(th), "--place", "홍대입구", "--json", data=data))
    anomalies = [a for a in again["new_alerts"] if a["kind"] == "anomaly"]
    assert [(a["place"], a["target"]) for a in anomalies] == [("홍대입구", day["date"])]
    assert "95% 구간" in anomalies[0]["explanation"] and "높습니다" in anomalies[0]["explanation"]


def test_crowd_api_needs_a_key_and_serves_alerts_and_dashboard(forecasted: tuple[Path, dict, Path],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from dasan.rag.retrieve import RetrievalConfig
    from dasan.server.app import create_app

    data, _, _ = forecasted
    monkeypatch.setenv("DASAN_AUDIT_SYNC", "normal")
    app = create_app(data, retrieval=RetrievalConfig(embedder=None))
    d = app.state.dasan.directory()
    d.add_user("crowdviewer", clearance="공개", role="user")
    key = d.create_key("crowdviewer", ["search"]).key
    with TestClient(app) as c:
        app.state.dasan.wait_ready(120)
        r = c.get("/v1/crowd/alerts")
        assert r.status_code == 401 and r.json()["error"]["code"] == "auth_required"
        auth = {"Authorization": f"Bearer {key}"}
        r = c.get("/v1/crowd/alerts", params={"place": "강남"}, headers=auth)
        assert r.status_code == 200, r.text
        alerts = r.json()["alerts"]
        assert alerts and {a["place"] for a in alerts} == {"강남"} and all(a["explanation"] for a in alerts)
        everything = c.get("/v1/crowd/alerts", params={"all": "true"}, headers=auth).json()["alerts"]
        assert len(everything) >= len(alerts) and "강남" in {a["place"] for a in everything}
        r = c.get("/v1/crowd/dashboard", params={"place": "강남"}, headers=auth)
        body = r.json()
        assert r.status_code == 200 and body["places"] == ["강남", "홍대입구"]
        g = body["place"]["강남"]
        assert len(g["forecast"]["days"]) == 14 and g["intraday"] and g["thresholds"]["kind"] == "train"
        assert len(g["history"]) == 120 and g["alerts"]
        r = c.get("/v1/crowd/dashboard", params={"place": "없는곳"}, headers=auth)
        assert r.status_code == 404 and "dasan crowd forecast" in r.json()["error"]["message"]
        page = c.get("/static/crowd.html")
        assert page.status_code == 200 and "밀집위험" in page.text and "http" not in page.text.split("<body>")[1]
    from dasan.security.audit import AuditLog

    assert any(e.action == "crowd.dashboard" and e.actor == "crowdviewer" for e in AuditLog(data).tail(50))


def test_area_thresholds_use_persons_per_square_metre(tmp_path: Path) -> None:
    from dasan.apps.crowd.risk import PlaceThresholds, threshold_alerts

    th = PlaceThresholds("서울광장", "area", {"관심": 1, "주의": 2.5, "경계": 3.5, "심각": 5}, area_m2=13207, bound="hi95")
    day = {"date": "2025-05-05", "h": 1, "value": 30000, "lo80": 28000, "hi80": 33000, "lo95": 26000, "hi95": 36000,
           "effects": ["어린이날(공휴일)"]}
    [alert] = threshold_alerts({"place": "서울광장", "unit": "명", "origin": "2025-05-04", "days": [day]}, th, [])
    assert alert["level"] == "주의" and alert["upper"] == round(36000 / 13207, 2)  # 2.73 persons/m²
    assert "명/㎡" in alert["explanation"] and "어린이날" in alert["explanation"]
    # citydata snapshots (every 5 minutes) count as the day's peak when forecast daily
    from dasan.apps.crowd.series_store import CrowdStore
    from dasan.store import open_store

    run("crowd", "ingest", str(EXAMPLES / "citydata_sample.json"), data=tmp_path / "d")
    store = open_store(tmp_path / "d")
    series, unit = CrowdStore.from_store(store).daily("population")
    store.close()
    assert series == {"서울광장": {date(2025, 5, 5): 27000.0}} and unit == "명"


def test_an_unreadable_file_does_not_stop_the_others(tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n", encoding="utf-8")
    good = tmp_path / "good.csv"
    good.write_text("place,time,value,unit\n시청앞,2025-05-06,3,명\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "d"), "crowd", "ingest", str(odd), str(good)])
    assert res.exit_code == 2
    assert "넣지 못했습니다" in res.output and "알 수 없는 열 구성" in res.output
    assert "good.csv (plain): 값 1개" in res.output


def test_event_calendar_rise_cuts_event_day_error() -> None:
    from dasan.apps.crowd.backtest import event_effect_check

    out = event_effect_check(read_file(metro("event_days_2023.csv")).events)
    # 2023 행사·야구·시위 days at 올림픽공원, 종합운동장, 혜화 …: the median rise of earlier events of the
    # same kind at the same station predicts the day far better than the station's average
    assert out["n"] > 600 and out["ratio"] < 0.7
