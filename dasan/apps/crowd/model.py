"""Daily crowd forecasts 1–14 days ahead: one LightGBM model over all places (a "global" model),
direct multi-horizon (the horizon is a feature; every feature is known at the forecast origin).

The target is the log of the day's value minus the log-level of the 28 days up to the origin, so
one model serves stations of any size and carries over level shifts (COVID-19 years included).
Features: place, horizon, weekday, holiday kind (공휴일/명절/대체공휴일/임시·선거일), days to and
from a holiday, bridge days, 명절 offset, school vacation, day of year, the operator's events, the
weather when given, and lagged values that are already known at the origin (same weekday in the
last weeks, the same day a year earlier, recent level and trend).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from dasan.apps.crowd import calendar as cal

HORIZON = 14
CAL_FEATURES = ("dow", "hol_kind", "is_off", "to_hol", "from_hol", "bridge", "vacation", "myeong_off",
                "doy", "yearend")
FEATURES = ("place", "h", *CAL_FEATURES, "event", "event_rise", "temp", "rain",
            "ref_lvl", "ref_hol", "ref_off", "sw_med", "sw_mean", "ly_lvl", "ly_hol", "b7", "trend", "off28")
CATEGORICAL = ("place", "dow", "hol_kind")
DEFAULT_PARAMS: dict[str, object] = {
    "objective": "l1", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 30,
    "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
    "num_threads": 1, "verbose": -1, "seed": 7, "deterministic": True, "force_row_wise": True,
}


@dataclass
class Panel:
    """Daily values of several places on one date axis (NaN where a value is missing)."""

    places: list[str]
    start: date
    values: np.ndarray  # shape (places, days)
    unit: str = ""
    events: cal.EventCalendar = field(default_factory=cal.EventCalendar)
    weather: dict[date, tuple[float, float]] = field(default_factory=dict)  # date -> (temp °C, rain mm)

    @property
    def days(self) -> int:
        return int(self.values.shape[1])

    def date_at(self, i: int) -> date:
        return self.start + timedelta(days=int(i))

    def index_of(self, d: date) -> int:
        return (d - self.start).days

    @classmethod
    def from_points(cls, series: dict[str, dict[date, float]], unit: str = "", extra_days: int = 0,
                    events: cal.EventCalendar | None = None,
                    weather: dict[date, tuple[float, float]] | None = None) -> Panel:
        places = sorted(series)
        if not places or not any(series.values()):
            from dasan.errors import DasanError

            raise DasanError("예측할 일별 값이 없습니다. 'dasan crowd ingest'로 일별 계열을 먼저 넣으세요.")
        start = min(min(s) for s in series.values() if s)
        end = max(max(s) for s in series.values() if s)
        n = (end - start).days + 1 + extra_days
        vals = np.full((len(places), n), np.nan)
        for p, name in enumerate(places):
            for d, v in series[name].items():
                vals[p, (d - start).days] = v
        return cls(places, start, vals, unit, events or cal.EventCalendar(), dict(weather or {}))

    def extended(self, days: int) -> Panel:
        """The same panel with ``days`` empty days appended (room for forecasts)."""
        pad = np.full((len(self.places), days), np.nan)
        return Panel(self.places, self.start, np.concatenate([self.values, pad], axis=1), self.unit, self.events,
                     self.weather)


def _rolling_mean(x: np.ndarray, w: int) -> np.ndarray:
    """Mean of the finite values in the window of ``w`` days ending at each index (NaN if none)."""
    ok = np.isfinite(x)
    v = np.where(ok, x, 0.0)
    cs = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(v, axis=1)], axis=1)
    cn = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(ok, axis=1)], axis=1)
    idx = np.arange(x.shape[1])
    lo = np.maximum(idx - w + 1, 0)
    s = cs[:, idx + 1] - cs[:, lo]
    c = cn[:, idx + 1] - cn[:, lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c >= max(1, w // 3), s / np.maximum(c, 1), np.nan)


class Features:
    """Feature rows for (place, origin, horizon) triples over one panel (computed once per panel)."""

    def __init__(self, panel: Panel, horizon: int = HORIZON) -> None:
        self.panel = panel
        n = panel.days + horizon + 1
        self.n = n
        with np.errstate(divide="ignore", invalid="ignore"):
            ly = np.log(np.where(panel.values > 0, panel.values, np.nan))
        self.ly = np.concatenate([ly, np.full((len(panel.places), n - panel.days), np.nan)], axis=1)
        self.b28 = _rolling_mean(self.ly, 28)
        self.b7 = _rolling_mean(self.ly, 7)
        days = [panel.date_at(i) for i in range(n)]
        self.dates = days
        c = np.zeros((n, len(CAL_FEATURES)))
        for i, d in enumerate(days):
            mo = cal.myeongjeol_offset(d)
            c[i] = (d.weekday(), cal.holiday_kind(d), cal.is_off(d), cal._distance(d, 1), cal._distance(d, -1),
                    cal.is_bridge(d), cal.in_vacation(d), np.nan if mo is None else mo, d.timetuple().tm_yday,
                    1.0 if (d.month == 12 and d.day >= 24) else 0.0)
        self.cal = c
        self.hol = c[:, 1] > 0
        self.off = c[:, 2] > 0
        p = len(panel.places)
        self.event = np.zeros((p, n))
        self.event_rise = np.zeros((p, n))
        for e in panel.events.events:
            if e.place in panel.places:
                i = panel.index_of(e.day)
                if 0 <= i < n:
                    k = panel.places.index(e.place)
                    self.event[k, i] = 1.0
                    self.event_rise[k, i] = panel.events.expected_rise(e)
        self.temp = np.full(n, np.nan)
        self.rain = np.full(n, np.nan)
        for d, (t, r) in panel.weather.items():
            i = panel.index_of(d)
            if 0 <= i < n:
                self.temp[i], self.rain[i] = t, r
        # off-day share of the 28 days ending at each index
        off = self.off.astype(float)[None, :]
        self.off28 = _rolling_mean(off, 28)[0]

    def rows(self, p: np.ndarray, o: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Feature matrix (len, FEATURES); only values at indices <= origin are used."""
        t = o + h
        ly = self.ly
        base = self.b28[p, o]
        k0 = np.ceil(h / 7).astype(int)
        refs = [t - 7 * (k0 + j) for j in range(6)]
        ref = refs[0]
        safe = lambda i: np.clip(i, 0, self.n - 1)  # noqa: E731
        ref_v = np.where(ref >= 0, ly[p, safe(ref)], np.nan)
        sw = np.stack([np.where((r >= 0) & ~self.hol[safe(r)], ly[p, safe(r)], np.nan) for r in refs], axis=1)
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                sw_med = np.nanmedian(sw[:, :4], axis=1)
                sw_mean = np.nanmean(sw, axis=1)
        ly_t = t - 364
        ly_o = o - 364
        ly_v = np.where(ly_o >= 0, ly[p, safe(ly_t)] - self.b28[p, safe(ly_o)], np.nan)
        trend = np.where(o >= 28, base - self.b28[p, safe(o - 28)], np.nan)
        tc = self.cal[t]
        cols = [p.astype(float), h.astype(float), *tc.T, self.event[p, t], self.event_rise[p, t], self.temp[t],
                self.rain[t], ref_v - base, self.cal[safe(ref), 1], self.off[safe(ref)].astype(float),
                sw_med - base, sw_mean - base, ly_v, self.hol[safe(ly_t)].astype(float), self.b7[p, o] - base,
                trend, self.off28[o]]
        return np.column_stack(cols)


class CrowdModel:
    """LightGBM global direct multi-horizon model of log(value) relative to the 28-day level."""

    def __init__(self, horizon: int = HORIZON, rounds: int = 300, params: dict[str, object] | None = None,
                 min_history: int = 63) -> None:
        self.horizon = horizon
        self.rounds = rounds
        self.params = {**DEFAULT_PARAMS, **(params or {})}
        self.min_history = min_history
        self.booster = None
        self.fitted_to: int | None = None
        self.event_days_seen = 0

    def fit(self, feats: Features, upto: int) -> CrowdModel:
        """Train on every (place, origin, horizon) whose target lies at or before index ``upto``."""
        import lightgbm as lgb

        P = len(feats.panel.places)
        ps, os_, hs = [], [], []
        for h in range(1, self.horizon + 1):
            o = np.arange(self.min_history, upto - h + 1)
            for p in range(P):
                ps.append(np.full(len(o), p))
                os_.append(o)
                hs.append(np.full(len(o), h))
        p = np.concatenate(ps)
        o = np.concatenate(os_)
        h = np.concatenate(hs)
        y = feats.ly[p, o + h] - feats.b28[p, o]
        keep = np.isfinite(y)
        p, o, h, y = p[keep], o[keep], h[keep], y[keep]
        if len(y) < 200:
            from dasan.errors import DasanError

            raise DasanError(f"학습할 일별 값이 너무 적습니다 ({len(y)}개 조합). 장소마다 최소 {self.min_history + 28}일 "
                             "이상의 일별 기록을 넣으세요.")
        X = feats.rows(p, o, h)
        self.event_days_seen = int(feats.event[:, : upto + 1].sum())
        data = lgb.Dataset(X, y, feature_name=list(FEATURES), categorical_feature=list(CATEGORICAL),
                           free_raw_data=True)
        self.booster = lgb.train(self.params, data, num_boost_round=self.rounds)
        self.fitted_to = upto
        return self

    def predict_log(self, feats: Features, origin: int, places: list[int] | None = None) -> np.ndarray:
        """Predicted log values, shape (places, horizon), from data up to ``origin``."""
        if self.booster is None:
            raise RuntimeError("model not fitted")
        P = len(feats.panel.places)
        pl = np.array(places if places is not None else range(P))
        p = np.repeat(pl, self.horizon)
        h = np.tile(np.arange(1, self.horizon + 1), len(pl))
        o = np.full(len(p), origin)
        rel = self.booster.predict(feats.rows(p, o, h), num_threads=1)
        out = (rel + feats.b28[p, o]).reshape(len(pl), self.horizon)
        # An event the model has (almost) never seen in training: apply the event's expected rise.
        if self.event_days_seen < 10:
            t = o + h
            adj = np.log1p(np.clip(feats.event_rise[p, t], -90, 500) / 100.0)
            out = out + adj.reshape(len(pl), self.horizon)
        return out


def seasonal_naive(values: np.ndarray, p: int, origin: int, h: int) -> float:
    """Same weekday of the last week known at the origin."""
    k = math.ceil(h / 7)
    i = origin + h - 7 * k
    return float(values[p, i]) if 0 <= i < values.shape[1] else float("nan")
