"""Readers for crowd series: every shape named in issue 16, detected from the file's header.

* 서울교통공사 혼잡도 wide table (``요일구분,호선,역번호,출발역,상하구분,5시30분,…``) -> 30-minute
  profiles per station, line, direction and day type (평일/토요일/일요일), unit ``%``.
* daily station ridership (``date,station,…,total``) -> daily series ``ridership`` (명/일).
* 2023 event/demonstration days (``날짜,…,역명_정규화,카테고리,…,상승률_%``) -> event history.
* daily network totals with weather (``date,total_passengers,…,avg_temp,total_rainfall``) ->
  ``ridership`` of ``서울교통공사 전체`` and the city's weather (``temp`` °C, ``rain`` mm).
* 서울시 실시간 도시데이터 JSON snapshots (``AREA_NM``, ``LIVE_PPLTN_STTS``/``PPLTN_TIME``,
  ``AREA_PPLTN_MIN/MAX``, ``FCST_PPLTN``) -> ``population`` (명, the midpoint of the range) and
  ``congestion_level`` (1 여유 … 4 붐빔).
* the operator's event calendar (``place,date,name[,category][,rise_pct]``).
* a plain ``place,time,value[,unit][,metric]`` CSV.

Bad rows are reported with their line number and skipped; nothing is guessed.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dasan.apps.crowd.calendar import Event
from dasan.errors import ReadError, UnsupportedFormatError

NETWORK_PLACE = "서울교통공사 전체"
WEATHER_PLACE = "서울"
LEVELS_KO = {"여유": 1, "보통": 2, "약간 붐빔": 3, "붐빔": 4}
_SLOT_RE = re.compile(r"^(\d{1,2})시(\d{2})분$")
MAX_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Point:
    place: str
    metric: str
    ts: str  # YYYY-MM-DD (daily) or YYYY-MM-DDTHH:MM (intraday)
    value: float
    unit: str
    freq: str = "day"


@dataclass(frozen=True)
class Profile:
    place: str
    line: str
    direction: str
    day_type: str  # 평일 | 토요일 | 일요일
    slot: str  # HH:MM
    value: float  # 혼잡도 %


@dataclass
class IngestResult:
    path: str
    kind: str
    points: list[Point] = field(default_factory=list)
    profiles: list[Profile] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "points": len(self.points), "profiles": len(self.profiles),
                "events": len(self.events), "places": sorted({p.place for p in self.points}
                                                             | {p.place for p in self.profiles}
                                                             | {e.place for e in self.events}),
                "bad_rows": [{"line": n, "reason": r} for n, r in self.bad]}


def _num(s: str | None) -> float:
    v = float((s or "").replace(",", "").strip())
    if not math.isfinite(v):
        raise ValueError("수가 아님")
    return v


def _day(s: str | None) -> date:
    return date.fromisoformat((s or "").strip()[:10])


def _read_text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ReadError("파일이 너무 큽니다 (200 MB 초과). 나누어 넣으세요.", path=str(path))
        raw = path.read_bytes()
    except OSError as e:
        raise ReadError(f"파일을 읽을 수 없습니다 ({e.strerror}). 경로와 권한을 확인하세요.", path=str(path)) from e
    for enc in ("utf-8-sig", "cp949"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ReadError("UTF-8 또는 CP949 글자로 읽을 수 없습니다. 파일을 UTF-8로 저장하세요.", path=str(path))


def read_file(path: str | Path) -> IngestResult:
    p = Path(path)
    text = _read_text(p)
    if p.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
        return _read_citydata(p, text)
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise UnsupportedFormatError("빈 파일입니다.", path=str(p))
    header = [c.strip() for c in rows[0]]
    hs = set(header)
    if {"요일구분", "출발역", "상하구분"} <= hs:
        return _read_congestion(p, header, rows)
    if {"날짜", "역명", "카테고리"} <= hs:
        return _read_event_history(p, header, rows)
    if {"date", "total_passengers"} <= hs:
        return _read_network_weather(p, header, rows)
    if {"date", "station"} <= hs and ("total" in hs or "boarding" in hs):
        return _read_station_daily(p, header, rows)
    if {"place", "date", "name"} <= hs:
        return _read_event_calendar(p, header, rows)
    if {"place", "time", "value"} <= hs:
        return _read_plain(p, header, rows)
    raise UnsupportedFormatError(
        "알 수 없는 열 구성입니다. 혼잡도 표, 역별 일별 승하차(date,station,total), 실시간 도시데이터 JSON, "
        "행사 일정(place,date,name) 또는 place,time,value CSV를 넣으세요.", path=str(p))


def _dicts(header: list[str], rows: list[list[str]]) -> list[tuple[int, dict[str, str]]]:
    out = []
    for n, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        out.append((n, dict(zip(header, r, strict=False)) | ({"__short__": "1"} if len(r) < len(header) else {})))
    return out


def _read_station_daily(p: Path, header: list[str], rows: list[list[str]]) -> IngestResult:
    res = IngestResult(str(p), "station_daily")
    for n, r in _dicts(header, rows):
        try:
            d = _day(r.get("date"))
            st = (r.get("station") or "").strip()
            if not st:
                raise ValueError("역 이름 없음")
            v = _num(r["total"]) if (r.get("total") or "").strip() else _num(r.get("boarding")) + _num(r.get("alighting"))
            if v < 0:
                raise ValueError("음수 승하차 인원")
            res.points.append(Point(st, "ridership", d.isoformat(), v, "명/일"))
        except (ValueError, KeyError, TypeError) as e:
            res.bad.append((n, f"{e}"))
    return res


def _read_congestion(p: Path, header: list[str], rows: list[list[str]]) -> IngestResult:
    res = IngestResult(str(p), "congestion_profile")
    slots = [(i, f"{int(m.group(1)) % 24:02d}:{m.group(2)}") for i, c in enumerate(header) if (m := _SLOT_RE.match(c))]
    if not slots:
        raise UnsupportedFormatError("혼잡도 표에 '5시30분' 같은 시간 열이 없습니다.", path=str(p))
    for n, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        rec = dict(zip(header, r, strict=False))
        try:
            day_type = rec["요일구분"].strip()
            if day_type not in ("평일", "토요일", "일요일"):
                raise ValueError(f"요일구분 '{day_type}' (평일/토요일/일요일만)")
            st = rec["출발역"].strip()
            line = rec.get("호선", "").strip()
            line = f"{line}호선" if line.isdigit() else line
            direction = rec["상하구분"].strip()
            if not st or not direction:
                raise ValueError("역 또는 방향 없음")
            vals = [(slot, _num(r[i])) for i, slot in slots]
            res.profiles.extend(Profile(st, line, direction, day_type, s, v) for s, v in vals)
        except (ValueError, KeyError, IndexError) as e:
            res.bad.append((n, f"{e}"))
    return res


def _read_event_history(p: Path, header: list[str], rows: list[list[str]]) -> IngestResult:
    res = IngestResult(str(p), "event_history")
    for n, r in _dicts(header, rows):
        try:
            d = _day(r.get("날짜"))
            place = (r.get("역명_정규화") or r.get("역명") or "").strip()
            if not place:
                raise ValueError("역명 없음")
            cat = " ".join((r.get("카테고리") or "행사").split()) or "행사"
            rise = (r.get("상승률_%") or "").strip()
            res.events.append(Event(place, d, f"{cat} ({d.isoformat()})", cat, _num(rise) if rise else None))
        except (ValueError, TypeError) as e:
            res.bad.append((n, f"{e}"))
    return res


def _read_network_weather(p: Path, header: list[str], rows: list[list[str]]) -> IngestResult:
    res = IngestResult(str(p), "network_weather")
    for n, r in _dicts(header, rows):
        try:
            d = _day(r.get("date")).isoformat()
            res.points.append(Point(NETWORK_PLACE, "ridership", d, _num(r.get("total_passengers")), "명/일"))
            if (r.get("avg_temp") or "").strip():
                res.points.append(Point(WEATHER_PLACE, "temp", d, _num(r.get("avg_temp")), "°C"))
            if (r.get("total_rainfall") or "").strip():
                res.points.append(Point(WEATHER_PLACE, "rain", d, _num(r.get("total_rainfall")), "mm"))
        except (ValueError, TypeError) as e:
            res.bad.append((n, f"{e}"))
    return res


def _read_event_calendar(p: Path, header: list[str], rows: list[list[str]]) -> IngestResult:
    res = IngestResult(str(p), "event_calendar")
    for n, r in _dicts(header, rows):
        try:
            place = (r.get("place") or "").strip()
            if not place:
                raise ValueError("place 없음")
            rise = (r.get("rise_pct") or "").strip()
            res.events.append(Event(place, _day(r.get("date")), (r.get("name") or "").strip() or "행사",
                                    (r.get("category") or "").strip() or "행사", _num(rise) if rise else None))
        except (ValueError, TypeError) as e:
            res.bad.append((n, f"{e}"))
    return res


def _parse_time(s: str) -> tuple[str, str]:
    """(ts, freq) from a date or a date-time (``YYYY-MM-DD[ HH:MM]``)."""
    s = s.strip()
    if len(s) <= 10:
        return _day(s).isoformat(), "day"
    t = datetime.fromisoformat(s.replace(" ", "T"))
    return t.strftime("%Y-%m-%dT%H:%M"), "intraday"


def _read_plain(p: Path, header: list[str], rows: list[list[str]]) -> IngestResult:
    res = IngestResult(str(p), "plain")
    for n, r in _dicts(header, rows):
        try:
            place = (r.get("place") or "").strip()
            if not place:
                raise ValueError("place 없음")
            ts, freq = _parse_time(r.get("time") or "")
            unit = (r.get("unit") or "").strip()
            metric = (r.get("metric") or "").strip() or ("ridership" if freq == "day" else "crowding")
            res.points.append(Point(place, metric, ts, _num(r.get("value")), unit, freq))
        except (ValueError, TypeError) as e:
            res.bad.append((n, f"{e}"))
    return res


def _walk(obj: Any) -> list[dict[str, Any]]:
    """Every dict that carries an area name (``AREA_NM``), at any depth."""
    out: list[dict[str, Any]] = []
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            if "AREA_NM" in x:
                out.append(x)
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return out


def _read_citydata(p: Path, text: str) -> IngestResult:
    res = IngestResult(str(p), "citydata")
    try:
        objs: list[Any] = [json.loads(text)]
    except json.JSONDecodeError:
        objs = []
        for n, line in enumerate(text.splitlines(), start=1):  # JSON Lines: one snapshot a line
            if line.strip():
                try:
                    objs.append(json.loads(line))
                except json.JSONDecodeError as e:
                    res.bad.append((n, f"JSON 오류: {e.msg}"))
    for area in (a for o in objs for a in _walk(o)):
        place = str(area.get("AREA_NM") or "").strip()
        stts = area.get("LIVE_PPLTN_STTS")
        snaps = stts if isinstance(stts, list) else [area]
        for s in snaps:
            if not isinstance(s, dict) or "PPLTN_TIME" not in s:
                continue
            try:
                ts, _ = _parse_time(str(s["PPLTN_TIME"]))
                lo, hi = _num(str(s["AREA_PPLTN_MIN"])), _num(str(s["AREA_PPLTN_MAX"]))
                res.points.append(Point(place, "population", ts, (lo + hi) / 2, "명", "5min"))
                lvl = LEVELS_KO.get(str(s.get("AREA_CONGEST_LVL", "")).strip())
                if lvl:
                    res.points.append(Point(place, "congestion_level", ts, float(lvl), "단계", "5min"))
                for f in s.get("FCST_PPLTN") or []:
                    fts, _ = _parse_time(str(f["FCST_TIME"]))
                    flo, fhi = _num(str(f["FCST_PPLTN_MIN"])), _num(str(f["FCST_PPLTN_MAX"]))
                    res.points.append(Point(place, "population_forecast_seoul", fts, (flo + fhi) / 2, "명", "hour"))
            except (ValueError, KeyError, TypeError) as e:
                res.bad.append((0, f"{place} 스냅숏: {e}"))
    if not res.points and not res.bad:
        raise UnsupportedFormatError("실시간 도시데이터(AREA_NM, PPLTN_TIME, AREA_PPLTN_MIN/MAX)가 없는 JSON입니다.",
                                     path=str(p))
    return res


def daily_series(points: list[Point], metric: str = "ridership") -> tuple[dict[str, dict[date, float]], str]:
    """Daily values per place for one metric, and the unit."""
    out: dict[str, dict[date, float]] = {}
    unit = ""
    for pt in points:
        if pt.metric == metric and pt.freq == "day":
            out.setdefault(pt.place, {})[date.fromisoformat(pt.ts)] = pt.value
            unit = unit or pt.unit
    return out, unit
