"""Crowd series in the Dasan store (:class:`dasan.store.base.SeriesStore`; SQLite migration
0006_crowd_series.sql, PostgreSQL 0004_app_data.sql).

:class:`CrowdStore` turns the app's types (points, profiles, events, alerts) into what the
store keeps and back; it uses only the store contract. Writes are idempotent upserts keyed by
(place, metric, time), so ingesting the same file twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from dasan.apps.crowd.calendar import Event
from dasan.apps.crowd.ingest import IngestResult, Profile
from dasan.errors import StoreError
from dasan.store.base import SeriesStore


class CrowdStore:
    def __init__(self, series: SeriesStore) -> None:
        self._s = series

    @classmethod
    def from_store(cls, store: object) -> CrowdStore:
        get = getattr(store, "crowd_series", None)
        if get is None:
            raise StoreError("이 저장소는 혼잡 계열을 지원하지 않습니다. 최신 다산으로 저장소를 다시 여세요.")
        return cls(get())

    # -- ingest ----------------------------------------------------------------------------
    def put(self, res: IngestResult) -> dict[str, int]:
        """Upsert one file's series, profiles and events; returns how many points and events were
        new (a changed value of an existing point is updated in place) and how many profile cells
        were written."""
        series = {(p.place, p.metric): (p.unit, p.freq) for p in res.points}
        return self._s.put_series(
            res.path, series, [(p.place, p.metric, p.ts, p.value) for p in res.points],
            [(p.place, p.line, p.direction, p.day_type, p.slot, p.value) for p in res.profiles],
            [(e.place, e.day.isoformat(), e.name, e.category, e.rise_pct) for e in res.events])

    # -- reads -----------------------------------------------------------------------------
    def series(self) -> list[dict[str, Any]]:
        return self._s.series_list()

    def count(self, table: str) -> int:
        return self._s.count(table)

    def daily(self, metric: str = "ridership", places: Iterable[str] | None = None) -> tuple[dict[str, dict[date, float]], str]:
        """Daily values per place; a place whose series is intraday (e.g. 실시간 도시데이터
        ``population`` every 5 minutes) gives its daily peak (the maximum of the day)."""
        want = set(places) if places else None
        out: dict[str, dict[date, float]] = {}
        rows, unit = self._s.daily_peaks(metric)
        for place, day, value in rows:
            if want is None or place in want:
                out.setdefault(place, {})[date.fromisoformat(day)] = float(value)
        return out, unit

    def weather(self) -> dict[date, tuple[float, float]]:
        vals: dict[date, dict[str, float]] = {}
        for metric, ts, value in self._s.daily_values(("temp", "rain")):
            vals.setdefault(date.fromisoformat(ts), {})[metric] = float(value)
        return {d: (v.get("temp", float("nan")), v.get("rain", float("nan"))) for d, v in vals.items()}

    def events(self) -> list[Event]:
        return [Event(r[0], date.fromisoformat(r[1]), r[2], r[3], r[4]) for r in self._s.events_list()]

    def profiles(self, place: str) -> list[Profile]:
        return [Profile(*r) for r in self._s.profile_cells(place)]

    # -- runs and alerts -------------------------------------------------------------------
    def save_run(self, kind: str, payload: dict[str, Any]) -> int:
        return self._s.save_run(kind, payload, keep=20)

    def runs(self, kind: str, limit: int = 1) -> list[dict[str, Any]]:
        out = []
        for rid, created, d in self._s.runs(kind, limit):
            d["run_id"], d["created"] = rid, created
            out.append(d)
        return out

    def put_alert(self, alert: dict[str, Any]) -> bool:
        """Store an alert; False when the same alert (same id) is already there."""
        return self._s.put_alert(alert["id"], alert["place"], alert["kind"], alert["level"], alert["target"], alert)

    def deactivate_alerts(self, place: str, kind: str, keep: Iterable[str]) -> None:
        self._s.deactivate_alerts(place, kind, keep)

    def alerts(self, place: str | None = None, active_only: bool = True, limit: int = 200) -> list[dict[str, Any]]:
        out = []
        for d, created, active in self._s.alerts(place, active_only, limit):
            d["created"], d["active"] = created, active
            out.append(d)
        return out
