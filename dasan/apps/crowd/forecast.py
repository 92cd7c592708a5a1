"""Production forecasts: fit on all history, calibrate conformal intervals on a rolling stretch
of the most recent history, forecast 1..H days per place, and derive 30-minute crowding from the
daily forecast and the place's 혼잡도 profile for the day type."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from dasan.apps.crowd import calendar as cal
from dasan.apps.crowd.backtest import is_special, settle
from dasan.apps.crowd.conformal import GAMMA, LEVELS, AdaptiveAlpha, place_buffers
from dasan.apps.crowd.ingest import Profile
from dasan.apps.crowd.model import HORIZON, CrowdModel, Features, Panel


@dataclass
class DayForecast:
    day: date
    h: int
    value: float
    lo: dict[float, float]
    hi: dict[float, float]
    effects: list[str]

    def as_dict(self) -> dict[str, Any]:
        r = lambda v: round(v, 1) if math.isfinite(v) else None  # noqa: E731 - no interval: None
        return {"date": self.day.isoformat(), "h": self.h, "value": round(self.value, 1),
                "lo80": r(self.lo[0.8]), "hi80": r(self.hi[0.8]), "lo95": r(self.lo[0.95]), "hi95": r(self.hi[0.95]),
                "effects": self.effects}


@dataclass
class PlaceForecast:
    place: str
    unit: str
    origin: date
    days: list[DayForecast] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"place": self.place, "unit": self.unit, "origin": self.origin.isoformat(),
                "days": [d.as_dict() for d in self.days]}


def fit_and_forecast(panel: Panel, horizon: int = HORIZON, calibration_days: int = 182, refit_every: int = 91,
                     rounds: int = 300, gamma: float = GAMMA) -> tuple[list[PlaceForecast], dict[str, Any]]:
    """Forecasts for every place from its last observed day; returns them and fit facts."""
    t0 = time.monotonic()
    feats = Features(panel, horizon)
    vals = panel.values
    P = len(panel.places)
    last = [int(np.flatnonzero(np.isfinite(vals[p]))[-1]) for p in range(P)]
    end = max(last)
    bufs = place_buffers(P, horizon)
    acis = [AdaptiveAlpha(gamma) for _ in range(P)]
    pending: list[tuple[int, int, float, bool, dict[float, tuple[float, float]], int]] = []
    model: CrowdModel | None = None
    fits = 0
    start = max(min(last) - calibration_days, 120)  # every place gets its own calibration stretch
    for origin in range(start, end):
        still = []
        for t, p, r, sp, offsets, h in pending:  # actuals known by this origin
            if t <= origin:
                bufs[p].add(h, r, sp)
                settle(acis[p], r, sp, offsets)
            else:
                still.append((t, p, r, sp, offsets, h))
        pending = still
        if model is None or origin - (model.fitted_to or 0) >= refit_every:
            model = CrowdModel(horizon, rounds=rounds).fit(feats, origin)
            fits += 1
        logp = model.predict_log(feats, origin)
        for p in range(P):
            for h in range(1, horizon + 1):
                t = origin + h
                if t > last[p]:
                    break
                a = vals[p, t]
                if np.isfinite(a) and a > 0:
                    sp = is_special(panel, p, panel.date_at(t))
                    offsets = {lv: bufs[p].bounds(h, sp, lv, acis[p].get(lv, sp)) for lv in LEVELS}
                    pending.append((t, p, math.log(a) - logp[p, h - 1], sp, offsets, h))
    for _t, p, r, sp, offsets, h in pending:  # the rest are known at the final origin
        bufs[p].add(h, r, sp)
        settle(acis[p], r, sp, offsets)
    final = CrowdModel(horizon, rounds=rounds).fit(feats, end)
    fits += 1
    out = []
    for p, place in enumerate(panel.places):
        logp = final.predict_log(feats, last[p], [p])[0]
        pf = PlaceForecast(place, panel.unit, panel.date_at(last[p]))
        for h in range(1, horizon + 1):
            d = panel.date_at(last[p] + h)
            v = math.exp(logp[h - 1])
            lo, hi = {}, {}
            sp = is_special(panel, p, d)
            for lv in LEVELS:
                a, b = bufs[p].bounds(h, sp, lv, acis[p].get(lv, sp))
                lo[lv], hi[lv] = v * math.exp(a), v * math.exp(b)
            events = panel.events.on(place, d)
            effects = cal.describe_day(d, events)
            for e in events:
                r = panel.events.expected_rise(e)
                if r:
                    effects.append(f"행사 효과 예상 {r:+.0f}%")
            pf.days.append(DayForecast(d, h, v, lo, hi, effects))
        out.append(pf)
    facts = {"adaptive_alpha": {panel.places[p]: {f"{lv}{'/special' if sp else ''}": round(a, 4)
                                                  for (lv, sp), a in acis[p].state.items()} for p in range(P)},
             "fits": fits, "seconds": round(time.monotonic() - t0, 2), "calibration_days": calibration_days,
             "residuals": {panel.places[p]: bufs[p].count() for p in range(P)}, "model": "lightgbm",
             "horizon": horizon}
    return out, facts


# -- intraday ---------------------------------------------------------------------------------
def day_type(d: date) -> str:
    """서울교통공사 day types: 평일, 토요일, 일요일 (공휴일 counts as 일요일)."""
    if cal.holiday_name(d) or d.weekday() == 6:
        return "일요일"
    return "토요일" if d.weekday() == 5 else "평일"


def reference_level(series: dict[date, float], dtype: str, year: int = 2023) -> float | None:
    """Mean daily value of the profile's year for the day type (else of the last 365 days)."""
    vals = [v for d, v in series.items() if d.year == year and day_type(d) == dtype]
    if len(vals) < 10 and series:
        last = max(series)
        vals = [v for d, v in series.items() if (last - d).days < 365 and day_type(d) == dtype]
    return float(np.mean(vals)) if vals else None


def intraday(pf: PlaceForecast, profiles: list[Profile], series: dict[date, float],
             profile_year: int = 2023) -> list[dict[str, Any]]:
    """30-minute 혼잡도 per line and direction for every forecast day: the day type's profile
    scaled by the forecast daily value over the profile year's mean for that day type."""
    by: dict[tuple[str, str, str], list[Profile]] = {}
    for pr in profiles:
        by.setdefault((pr.line, pr.direction, pr.day_type), []).append(pr)
    out = []
    for dfc in pf.days:
        dtype = day_type(dfc.day)
        ref = reference_level(series, dtype, profile_year)
        if not ref:
            continue
        scale = dfc.value / ref
        for (line, direction, dt), prs in sorted(by.items()):
            if dt != dtype:
                continue
            slots = sorted(prs, key=lambda x: (x.slot < "05:00", x.slot))
            out.append({"date": dfc.day.isoformat(), "line": line, "direction": direction, "day_type": dtype,
                        "scale": round(scale, 3),
                        "slots": [{"time": s.slot, "value": round(s.value * scale, 1),
                                   "hi80": _r(s.value * dfc.hi[0.8] / ref), "hi95": _r(s.value * dfc.hi[0.95] / ref),
                                   "lo80": _r(s.value * dfc.lo[0.8] / ref)} for s in slots]})
    return out


def _r(v: float) -> float | None:
    return round(v, 1) if math.isfinite(v) else None


def next_days(start: date, n: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(1, n + 1)]
