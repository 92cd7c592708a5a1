"""Rolling-origin backtests against the seasonal-naive baseline (same weekday last week).

Every origin in the evaluation window forecasts 1..H days ahead with a model fitted only on data
up to that origin (refitted every ``refit_every`` days as actuals arrive). Conformal intervals at
each origin use only residuals of earlier forecasts whose actual was already known; a calibration
stretch before the evaluation window seeds them. MASE is scaled per place by the in-sample mean
absolute error of the weekly seasonal-naive forecast (``|y_t - y_{t-7}|`` before the window).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from dasan.apps.crowd import calendar as cal
from dasan.apps.crowd.conformal import GAMMA, LEVELS, AdaptiveAlpha, place_buffers
from dasan.apps.crowd.model import HORIZON, CrowdModel, Features, Panel, seasonal_naive


@dataclass
class Scored:
    place: int
    origin: int
    h: int
    actual: float
    pred: float
    naive: float
    lo: dict[float, float]
    hi: dict[float, float]
    special: bool
    holiday: bool = False
    event: bool = False


@dataclass
class BacktestResult:
    horizon: int
    eval_from: date
    eval_to: date
    places: list[str]
    scale: list[float]
    rows: list[Scored] = field(default_factory=list)
    fits: int = 0
    fit_seconds: list[float] = field(default_factory=list)
    seconds: float = 0.0
    start: date | None = None  # date of panel index 0

    def _metrics(self, rows: list[Scored]) -> dict[str, Any]:
        if not rows:
            return {"n": 0}
        a = np.array([r.actual for r in rows])
        f = np.array([r.pred for r in rows])
        nv = np.array([r.naive for r in rows])
        sc = np.array([self.scale[r.place] for r in rows])
        out: dict[str, Any] = {
            "n": len(rows),
            "mase": float(np.mean(np.abs(a - f) / sc)),
            "seasonal_naive_mase": float(np.mean(np.abs(a - nv) / sc)),
            "smape": float(np.mean(200 * np.abs(a - f) / (np.abs(a) + np.abs(f)))),
            "seasonal_naive_smape": float(np.mean(200 * np.abs(a - nv) / (np.abs(a) + np.abs(nv)))),
        }
        for lv in LEVELS:
            inside = [r.lo[lv] <= r.actual <= r.hi[lv] for r in rows]
            out[f"coverage_{round(lv * 100)}"] = float(np.mean(inside))
        out["mase_ratio"] = out["mase"] / out["seasonal_naive_mase"] if out["seasonal_naive_mase"] else None
        return out

    def to_dict(self) -> dict[str, Any]:
        m = self._metrics(self.rows)
        out: dict[str, Any] = {"n": m["n"], "horizon": self.horizon, "mase": m.get("mase"),
                               "seasonal_naive_mase": m.get("seasonal_naive_mase"), "smape": m.get("smape"),
                               "coverage_80": m.get("coverage_80"), "coverage_95": m.get("coverage_95")}
        out["per_place"] = {p: self._metrics([r for r in self.rows if r.place == i]) for i, p in enumerate(self.places)}
        out["mase_ratio"] = m.get("mase_ratio")
        out["seasonal_naive_smape"] = m.get("seasonal_naive_smape")
        out["special_days"] = self._metrics([r for r in self.rows if r.special])
        out["holidays"] = self._metrics([r for r in self.rows if r.holiday])
        out["event_days"] = self._metrics([r for r in self.rows if r.event])
        out["ordinary_days"] = self._metrics([r for r in self.rows if not r.special])
        out["per_horizon"] = {str(h): {k: v for k, v in self._metrics([r for r in self.rows if r.h == h]).items()
                                       if k in ("n", "mase", "seasonal_naive_mase", "coverage_80", "coverage_95")}
                              for h in range(1, self.horizon + 1)}
        out["window"] = {"from": self.eval_from.isoformat(), "to": self.eval_to.isoformat()}
        out["fits"] = self.fits
        out["fit_seconds_mean"] = float(np.mean(self.fit_seconds)) if self.fit_seconds else None
        out["seconds"] = round(self.seconds, 2)
        out["unit_smape"] = "%"
        return out


def is_special(panel: Panel, p: int, d: date) -> bool:
    return cal.holiday_name(d) is not None or bool(panel.events.on(panel.places[p], d))


def in_sample_scale(values: np.ndarray, upto: int) -> list[float]:
    out = []
    for row in values:
        x = row[: upto + 1]
        diff = np.abs(x[7:] - x[:-7])
        diff = diff[np.isfinite(diff)]
        out.append(float(diff.mean()) if len(diff) else float("nan"))
    return out


def settle(aci: AdaptiveAlpha, residual: float, special: bool, offsets: dict[float, tuple[float, float]]) -> None:
    """A forecast's actual is known: steer the adaptive miscoverage by whether it was covered."""
    if not math.isfinite(residual):
        return
    for lv, (a, b) in offsets.items():
        if math.isfinite(a) and math.isfinite(b):
            aci.update(lv, special, a <= residual <= b)


def rolling_backtest(panel: Panel, *, eval_from: int, eval_to: int | None = None, horizon: int = HORIZON,
                     refit_every: int = 28, calibration_days: int = 182, rounds: int = 300,
                     origin_step: int = 1, window: int = 365, gamma: float = GAMMA) -> BacktestResult:
    """Evaluate forecasts for targets in ``[eval_from, eval_to]`` (panel indices)."""
    t0 = time.monotonic()
    eval_to = panel.days - 1 if eval_to is None else eval_to
    feats = Features(panel, horizon)
    vals = panel.values
    first = max(eval_from - 1 - calibration_days, 120)
    res = BacktestResult(horizon, panel.date_at(eval_from), panel.date_at(eval_to), panel.places,
                         in_sample_scale(vals, eval_from - 1), start=panel.start)
    bufs = place_buffers(len(panel.places), horizon, window)
    acis = [AdaptiveAlpha(gamma) for _ in panel.places]
    # (target, place, h, residual, special, {level: issued (low, high) log offsets})
    pending: list[tuple[int, int, int, float, bool, dict[float, tuple[float, float]]]] = []
    model: CrowdModel | None = None
    P = len(panel.places)
    for origin in range(first, eval_to, origin_step):
        # residuals whose actual is known by now feed the conformal buffer
        still = []
        for item in pending:
            if item[0] <= origin:
                bufs[item[1]].add(item[2], item[3], item[4])
                settle(acis[item[1]], item[3], item[4], item[5])
            else:
                still.append(item)
        pending = still
        if model is None or origin - (model.fitted_to or 0) >= refit_every:
            t1 = time.monotonic()
            model = CrowdModel(horizon, rounds=rounds).fit(feats, origin)
            res.fit_seconds.append(time.monotonic() - t1)
            res.fits += 1
        logp = model.predict_log(feats, origin)
        for p in range(P):
            for h in range(1, horizon + 1):
                t = origin + h
                if t > eval_to:
                    break
                actual = vals[p, t]
                if not np.isfinite(actual) or not np.isfinite(logp[p, h - 1]):
                    continue
                d = panel.date_at(t)
                sp = is_special(panel, p, d)
                pred = math.exp(logp[p, h - 1])
                offsets = {lv: bufs[p].bounds(h, sp, lv, acis[p].get(lv, sp)) for lv in LEVELS}
                pending.append((t, p, h, math.log(actual) - logp[p, h - 1] if actual > 0 else float("nan"), sp,
                                offsets))
                if t < eval_from or origin < eval_from - 1:
                    continue
                naive = seasonal_naive(vals, p, origin, h)
                if not np.isfinite(naive) or not res.scale[p] > 0:  # no baseline or no in-sample scale
                    continue
                lo = {lv: pred * math.exp(a) for lv, (a, _) in offsets.items()}
                hi = {lv: pred * math.exp(b) for lv, (_, b) in offsets.items()}
                res.rows.append(Scored(p, origin, h, float(actual), pred, naive, lo, hi, sp,
                                       cal.holiday_name(d) is not None, bool(panel.events.on(panel.places[p], d))))
    res.seconds = time.monotonic() - t0
    return res


def event_effect_check(events: list[cal.Event], min_past: int = 3) -> dict[str, Any]:
    """How much the event calendar's expected rise helps on event days, in % of the station's
    average day: each event day's rise against (a) no event knowledge (forecast = the average,
    error = |rise|) and (b) the median rise of the *earlier* events of the same category at the
    same place (as :meth:`EventCalendar.expected_rise` uses it), when there are ``min_past`` of them."""
    past: dict[tuple[str, str], list[float]] = {}
    without, with_cal = [], []
    for e in sorted((e for e in events if e.rise_pct is not None), key=lambda e: e.day):
        key = (e.place, e.category)
        prev = past.setdefault(key, [])
        if len(prev) >= min_past:
            med = float(np.median(prev))
            without.append(abs(e.rise_pct or 0.0))
            with_cal.append(abs((e.rise_pct or 0.0) - med))
        prev.append(float(e.rise_pct or 0.0))
    if not without:
        return {"n": 0}
    a, b = float(np.mean(without)), float(np.mean(with_cal))
    return {"n": len(without), "error_without_calendar_pct": a, "error_with_calendar_pct": b,
            "ratio": b / a if a else None}
