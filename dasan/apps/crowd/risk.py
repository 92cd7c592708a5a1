"""Risk levels (관심·주의·경계·심각) and alerts.

Thresholds are configured per place (JSON, see ``examples/crowd/thresholds.json``):

* ``"kind": "train"`` — 서울교통공사 혼잡도 % of the 30-minute intraday forecast (160 people a
  car = 100 %), levels as ``{"관심": 100, "주의": 130, "경계": 150, "심각": 170}``;
* ``"kind": "area"`` — persons per m² over the place's walkable area ``area_m2`` (the widely
  used 1 / 2.5 / 3.5 / 5 persons/m² bands by default), from a population forecast;
* ``"kind": "daily"`` — the daily value itself (e.g. 명/일) against levels in that unit.

A threshold alert is raised when the forecast's upper bound (80 % interval by default) crosses a
level within the horizon; an anomaly alert when an actual value falls outside the 95 % interval
of the forecast issued for it. Each alert carries its explanation in Korean.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dasan.errors import ConfigError

LEVEL_NAMES = ("관심", "주의", "경계", "심각")
DEFAULT_AREA_BANDS = {"관심": 1.0, "주의": 2.5, "경계": 3.5, "심각": 5.0}
DEFAULT_TRAIN_BANDS = {"관심": 100.0, "주의": 130.0, "경계": 150.0, "심각": 170.0}


@dataclass
class PlaceThresholds:
    place: str
    kind: str = "train"  # train | area | daily
    levels: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TRAIN_BANDS))
    area_m2: float | None = None
    bound: str = "hi80"  # which upper bound triggers: hi80 | hi95
    lines: list[str] | None = None  # train: only these lines' profiles (e.g. ["2호선"])

    def unit(self, series_unit: str = "") -> str:
        return {"train": "혼잡도 %", "area": "명/㎡"}.get(self.kind, series_unit)

    def level_of(self, value: float) -> str | None:
        hit = None
        for name in LEVEL_NAMES:
            if name in self.levels and value >= self.levels[name]:
                hit = name
        return hit

    def as_dict(self) -> dict[str, Any]:
        return {"place": self.place, "kind": self.kind, "levels": self.levels, "area_m2": self.area_m2,
                "bound": self.bound, "unit": self.unit(), "lines": self.lines}


@dataclass
class Thresholds:
    places: dict[str, PlaceThresholds] = field(default_factory=dict)
    default: PlaceThresholds | None = None

    def for_place(self, place: str) -> PlaceThresholds | None:
        if place in self.places:
            return self.places[place]
        if self.default is not None:
            return PlaceThresholds(place, self.default.kind, dict(self.default.levels), self.default.area_m2,
                                   self.default.bound, self.default.lines)
        return None


def _parse_place(place: str, d: dict[str, Any], where: str) -> PlaceThresholds:
    kind = str(d.get("kind", "train"))
    if kind not in ("train", "area", "daily"):
        raise ConfigError(f"{where}: kind '{kind}'는 train, area, daily 중 하나여야 합니다.")
    levels = d.get("levels") or (DEFAULT_AREA_BANDS if kind == "area" else DEFAULT_TRAIN_BANDS if kind == "train"
                                 else None)
    if not isinstance(levels, dict) or not levels:
        raise ConfigError(f"{where}: levels가 없습니다. 예: {{\"관심\": 100, \"주의\": 130, \"경계\": 150, \"심각\": 170}}")
    bad = [k for k in levels if k not in LEVEL_NAMES]
    if bad:
        raise ConfigError(f"{where}: 알 수 없는 단계 {bad}. 관심·주의·경계·심각만 쓰세요.")
    vals = [float(levels[k]) for k in LEVEL_NAMES if k in levels]
    if vals != sorted(vals):
        raise ConfigError(f"{where}: 단계 값은 관심 < 주의 < 경계 < 심각 순으로 커져야 합니다.")
    area = d.get("area_m2")
    if kind == "area" and not (isinstance(area, int | float) and area > 0):
        raise ConfigError(f"{where}: 광장·거리(kind=area)에는 보행 가능 면적 area_m2(㎡, 0보다 큼)가 필요합니다.")
    bound = str(d.get("bound", "hi80"))
    if bound not in ("hi80", "hi95"):
        raise ConfigError(f"{where}: bound는 hi80 또는 hi95여야 합니다.")
    lines = d.get("lines")
    if lines is not None and not (isinstance(lines, list) and all(isinstance(x, str) for x in lines)):
        raise ConfigError(f"{where}: lines는 노선 이름 목록이어야 합니다 (예: [\"2호선\"]).")
    return PlaceThresholds(place, kind, {k: float(v) for k, v in levels.items()},
                           float(area) if area else None, bound, lines)


def load_thresholds(path: str | Path | None) -> Thresholds:
    if path is None:
        return Thresholds(default=PlaceThresholds("*"))
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"임계값 파일을 읽을 수 없습니다: {p} ({e.strerror}). 경로를 확인하세요.") from e
    except json.JSONDecodeError as e:
        raise ConfigError(f"임계값 파일이 올바른 JSON이 아닙니다: {p} ({e.lineno}행: {e.msg}).") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: 최상위는 {{\"places\": {{…}}, \"default\": {{…}}}} 객체여야 합니다.")
    out = Thresholds()
    for place, d in (data.get("places") or {}).items():
        out.places[place] = _parse_place(place, d, f"{p}: places.{place}")
    if isinstance(data.get("default"), dict):
        out.default = _parse_place("*", data["default"], f"{p}: default")
    return out


def alert_id(*parts: object) -> str:
    return hashlib.sha256("|".join(str(x) for x in parts).encode()).hexdigest()[:16]


def threshold_alerts(pf: dict[str, Any], th: PlaceThresholds, intraday: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One alert per forecast day whose upper bound reaches a level (the highest level that day)."""
    out = []
    bound = th.bound
    pct = "80" if bound == "hi80" else "95"
    for day in pf["days"]:
        best: tuple[float, str, dict[str, Any]] | None = None
        if th.kind == "train":
            for prof in (x for x in intraday if x["date"] == day["date"]):
                for s in prof["slots"]:
                    if s[bound] is None:
                        continue
                    if best is None or s[bound] > best[0]:
                        best = (s[bound], f"{prof['line']} {prof['direction']} {s['time']}",
                                {"forecast": s["value"], "upper": s[bound]})
        elif day[bound] is None:
            continue
        elif th.kind == "area":
            if th.area_m2:
                best = (day[bound] / th.area_m2, "일 최대", {"forecast": round(day["value"] / th.area_m2, 2),
                                                         "upper": round(day[bound] / th.area_m2, 2)})
        else:
            best = (day[bound], "하루", {"forecast": day["value"], "upper": day[bound]})
        if best is None:
            continue
        level = th.level_of(best[0])
        if level is None:
            continue
        unit = th.unit(pf.get("unit", ""))
        when = best[1]
        effects = ", ".join(day["effects"])
        f = _formatter(th.kind, unit)
        text = (f"{pf['place']} {day['date']} {when}: 예측 {f(best[2]['forecast'])}, {pct}% 예측구간 상한 "
                f"{f(best[2]['upper'])} — '{level}' 기준 {f(th.levels[level])} 이상 "
                f"({day['h']}일 앞 예측, {pf['origin']} 기준). 달력·행사 요인: {effects}.")
        out.append({"id": alert_id("threshold", pf["place"], day["date"], level, pf["origin"]), "kind": "threshold",
                    "place": pf["place"], "level": level, "target": day["date"], "when": when,
                    "forecast": best[2]["forecast"], "upper": best[2]["upper"], "bound": bound,
                    "threshold": th.levels[level], "unit": unit, "horizon": day["h"], "origin": pf["origin"],
                    "effects": day["effects"], "explanation": text})
    return out


def _formatter(kind: str, unit: str) -> Any:
    if kind == "train":
        return lambda v: f"혼잡도 {v:.0f}%"
    if kind == "area":
        return lambda v: f"{v:.2f}명/㎡"
    return lambda v: f"{v:,.0f} {unit}".strip()


def anomaly_alerts(place: str, unit: str, issued: list[dict[str, Any]], actual: dict[str, float]) -> list[dict[str, Any]]:
    """Actual values outside the 95 % interval of the forecasts issued for them."""
    out = []
    for day in issued:
        a = actual.get(day["date"])
        if a is None or day["lo95"] is None or day["hi95"] is None or day["lo95"] <= a <= day["hi95"]:
            continue
        side = "높습니다" if a > day["hi95"] else "낮습니다"
        text = (f"{place} {day['date']}: 실제 {a:,.0f} {unit}이(가) 예측 {day['value']:,.0f} {unit}의 95% 구간 "
                f"[{day['lo95']:,.0f}, {day['hi95']:,.0f}]보다 {side} ({day['h']}일 앞 예측). "
                f"달력·행사 요인: {', '.join(day['effects'])}. 예측에 없던 행사·사고가 있었는지 확인하세요.")
        out.append({"id": alert_id("anomaly", place, day["date"]), "kind": "anomaly", "place": place,
                    "level": "이상", "target": day["date"], "actual": a, "forecast": day["value"],
                    "lo95": day["lo95"], "hi95": day["hi95"], "unit": unit, "horizon": day["h"],
                    "effects": day["effects"], "explanation": text})
    return out
