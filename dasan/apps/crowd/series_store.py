"""Crowd series in the Dasan store (tables of migration 0006_crowd_series.sql).

:class:`CrowdStore` shares the SQLite store's connection and write lock, the way
:class:`dasan.security.principals.Directory` does; writes are idempotent upserts keyed by
(place, metric, time), so ingesting the same file twice changes nothing.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from dasan.apps.crowd.calendar import Event
from dasan.apps.crowd.ingest import IngestResult, Profile
from dasan.errors import StoreError


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class CrowdStore:
    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock) -> None:
        self._conn = conn
        self._lock = lock

    @classmethod
    def from_store(cls, store: object) -> CrowdStore:
        conn = getattr(store, "_conn", None)
        lock = getattr(store, "_lock", None)
        if not isinstance(conn, sqlite3.Connection) or lock is None:
            raise StoreError("이 저장소 종류는 혼잡 계열을 지원하지 않습니다. SQLite 저장소를 쓰세요.")
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'crowd_points'").fetchone():
            raise StoreError("저장소에 혼잡 계열 표가 없습니다 (마이그레이션 0006). 최신 다산으로 저장소를 다시 여세요.")
        return cls(conn, lock)

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    # -- ingest ----------------------------------------------------------------------------
    def put(self, res: IngestResult) -> dict[str, int]:
        """Upsert one file's series, profiles and events; returns how many points and events were
        new (a changed value of an existing point is updated in place) and how many profile cells
        were written."""
        now = _now()
        new = {"points": 0, "profiles": 0, "events": 0}
        with self._write() as c:
            series = {(p.place, p.metric): (p.unit, p.freq) for p in res.points}
            for (place, metric), (unit, freq) in series.items():
                c.execute("INSERT INTO crowd_series(place, metric, unit, freq, source, updated) VALUES (?,?,?,?,?,?) "
                          "ON CONFLICT(place, metric) DO UPDATE SET unit=excluded.unit, freq=excluded.freq, "
                          "source=excluded.source, updated=excluded.updated", (place, metric, unit, freq, res.path, now))
            before = c.total_changes
            c.executemany("INSERT OR IGNORE INTO crowd_points(place, metric, ts, value) VALUES (?,?,?,?)",
                          [(p.place, p.metric, p.ts, p.value) for p in res.points])
            new["points"] = c.total_changes - before
            c.executemany("UPDATE crowd_points SET value = ? WHERE place = ? AND metric = ? AND ts = ? AND value != ?",
                          [(p.value, p.place, p.metric, p.ts, p.value) for p in res.points])
            c.executemany("INSERT OR REPLACE INTO crowd_profiles(place, line, direction, day_type, slot, value) "
                          "VALUES (?,?,?,?,?,?)",
                          [(p.place, p.line, p.direction, p.day_type, p.slot, p.value) for p in res.profiles])
            new["profiles"] = len(res.profiles)
            before = c.total_changes
            c.executemany("INSERT OR IGNORE INTO crowd_events(place, day, name, category, rise_pct, source) "
                          "VALUES (?,?,?,?,?,?)",
                          [(e.place, e.day.isoformat(), e.name, e.category, e.rise_pct, res.path) for e in res.events])
            new["events"] = c.total_changes - before
        return new

    # -- reads -----------------------------------------------------------------------------
    def series(self) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            "SELECT s.place, s.metric, s.unit, s.freq, s.source, COUNT(p.ts) AS n, MIN(p.ts) AS first, "
            "MAX(p.ts) AS last FROM crowd_series s LEFT JOIN crowd_points p ON p.place = s.place "
            "AND p.metric = s.metric GROUP BY s.place, s.metric ORDER BY s.place, s.metric").fetchall()
        return [dict(r) if isinstance(r, sqlite3.Row) else dict(zip(
            ("place", "metric", "unit", "freq", "source", "n", "first", "last"), r, strict=True)) for r in rows]

    def count(self, table: str) -> int:
        if table not in ("crowd_points", "crowd_profiles", "crowd_events", "crowd_alerts", "crowd_series"):
            raise ValueError(table)
        return int(self._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def daily(self, metric: str = "ridership", places: Iterable[str] | None = None) -> tuple[dict[str, dict[date, float]], str]:
        """Daily values per place; a place whose series is intraday (e.g. 실시간 도시데이터
        ``population`` every 5 minutes) gives its daily peak (the maximum of the day)."""
        want = set(places) if places else None
        out: dict[str, dict[date, float]] = {}
        for place, day, value in self._conn.execute(
                "SELECT p.place, substr(p.ts, 1, 10), MAX(p.value) "
                "FROM crowd_points p JOIN crowd_series s ON s.place = p.place AND s.metric = p.metric "
                "WHERE p.metric = ? GROUP BY p.place, substr(p.ts, 1, 10) ORDER BY p.place, 2", (metric,)):
            if want is None or place in want:
                out.setdefault(place, {})[date.fromisoformat(day)] = float(value)
        unit = self._conn.execute("SELECT unit FROM crowd_series WHERE metric = ? LIMIT 1", (metric,)).fetchone()
        return out, (unit[0] if unit else "")

    def weather(self) -> dict[date, tuple[float, float]]:
        vals: dict[date, dict[str, float]] = {}
        for metric, ts, value in self._conn.execute(
                "SELECT metric, ts, value FROM crowd_points WHERE metric IN ('temp', 'rain') AND length(ts) = 10"):
            vals.setdefault(date.fromisoformat(ts), {})[metric] = float(value)
        return {d: (v.get("temp", float("nan")), v.get("rain", float("nan"))) for d, v in vals.items()}

    def events(self) -> list[Event]:
        return [Event(r[0], date.fromisoformat(r[1]), r[2], r[3], r[4]) for r in self._conn.execute(
            "SELECT place, day, name, category, rise_pct FROM crowd_events ORDER BY day, place")]

    def profiles(self, place: str) -> list[Profile]:
        return [Profile(*r) for r in self._conn.execute(
            "SELECT place, line, direction, day_type, slot, value FROM crowd_profiles WHERE place = ? "
            "ORDER BY line, direction, day_type, slot", (place,))]

    # -- runs and alerts -------------------------------------------------------------------
    def save_run(self, kind: str, payload: dict[str, Any]) -> int:
        with self._write() as c:
            cur = c.execute("INSERT INTO crowd_runs(kind, created, payload) VALUES (?,?,?)",
                            (kind, _now(), json.dumps(payload, ensure_ascii=False, default=str)))
            c.execute("DELETE FROM crowd_runs WHERE kind = ? AND id NOT IN "
                      "(SELECT id FROM crowd_runs WHERE kind = ? ORDER BY id DESC LIMIT 20)", (kind, kind))
            return int(cur.lastrowid or 0)

    def runs(self, kind: str, limit: int = 1) -> list[dict[str, Any]]:
        out = []
        for rid, created, payload in self._conn.execute(
                "SELECT id, created, payload FROM crowd_runs WHERE kind = ? ORDER BY id DESC LIMIT ?", (kind, limit)):
            d = json.loads(payload)
            d["run_id"], d["created"] = rid, created
            out.append(d)
        return out

    def put_alert(self, alert: dict[str, Any]) -> bool:
        """Store an alert; False when the same alert (same id) is already there."""
        with self._write() as c:
            cur = c.execute("INSERT OR IGNORE INTO crowd_alerts(id, place, kind, level, target, created, active, details)"
                            " VALUES (?,?,?,?,?,?,1,?)",
                            (alert["id"], alert["place"], alert["kind"], alert["level"], alert["target"], _now(),
                             json.dumps(alert, ensure_ascii=False, default=str)))
            return cur.rowcount > 0

    def deactivate_alerts(self, place: str, kind: str, keep: Iterable[str]) -> None:
        keep = list(keep)
        with self._write() as c:
            q = "UPDATE crowd_alerts SET active = 0 WHERE place = ? AND kind = ?"
            if keep:
                q += f" AND id NOT IN ({','.join('?' * len(keep))})"
            c.execute(q, (place, kind, *keep))

    def alerts(self, place: str | None = None, active_only: bool = True, limit: int = 200) -> list[dict[str, Any]]:
        q = "SELECT details, created, active FROM crowd_alerts WHERE 1=1"
        args: list[Any] = []
        if place:
            q += " AND place = ?"
            args.append(place)
        if active_only:
            q += " AND active = 1"
        q += " ORDER BY target, place LIMIT ?"
        args.append(limit)
        out = []
        for details, created, active in self._conn.execute(q, args):
            d = json.loads(details)
            d["created"], d["active"] = created, bool(active)
            out.append(d)
        return out
