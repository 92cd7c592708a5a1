"""Application data in the SQLite store: the youth-policy catalogue (migration 0007) and the
crowd series (migration 0006), behind :class:`dasan.store.base.PolicyCatalogue` and
:class:`dasan.store.base.SeriesStore`. They share the store's connection and write lock."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from dasan.store.base import EventRow, PolicyDecision, ProfileCell, SeriesPoint, StoredPolicy
from dasan.store.base import now_iso as _now

_POLICY_COLS = ("plcy_no, name, categories, classification, record, conditions, content_hash, source, apply_end,"
                " expired")
CROWD_TABLES = ("crowd_points", "crowd_profiles", "crowd_events", "crowd_alerts", "crowd_series")



def _policy(row: Any) -> StoredPolicy:
    return StoredPolicy(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], bool(row[9]))


class _Shared:
    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock) -> None:
        self._conn = conn
        self._lock = lock

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


class SqlitePolicyCatalogue(_Shared):
    def upsert_policies(self, rows: Sequence[StoredPolicy], decide: PolicyDecision, *,
                        expire_before: str) -> dict[str, int]:
        counts = {"added": 0, "updated": 0, "unchanged": 0, "older": 0}
        now = _now("microseconds")  # also the cache version of the catalogue
        with self._write() as c:
            for p in rows:
                old = c.execute(f"SELECT {_POLICY_COLS} FROM youth_policies WHERE plcy_no = ?", (p.plcy_no,)).fetchone()
                verdict = decide(p, _policy(old) if old else None)
                counts[verdict] = counts.get(verdict, 0) + 1
                if verdict not in ("added", "updated"):
                    continue
                c.execute(
                    "INSERT INTO youth_policies(plcy_no, name, categories, classification, record, conditions,"
                    " content_hash, source, apply_end, expired, first_ingested, updated)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT(plcy_no) DO UPDATE SET"
                    " name = excluded.name, categories = excluded.categories, classification = excluded.classification,"
                    " record = excluded.record, conditions = excluded.conditions, content_hash = excluded.content_hash,"
                    " source = excluded.source, apply_end = excluded.apply_end, updated = excluded.updated",
                    (p.plcy_no, p.name, p.categories, p.classification, p.record, p.conditions, p.content_hash,
                     p.source, p.apply_end, now, now))
            c.execute("UPDATE youth_policies SET expired = CASE WHEN apply_end IS NOT NULL AND apply_end < ?"
                      " THEN 1 ELSE 0 END", (expire_before,))
            counts["expired"] = int(c.execute("SELECT COUNT(*) FROM youth_policies WHERE expired = 1").fetchone()[0])
            counts["total"] = int(c.execute("SELECT COUNT(*) FROM youth_policies").fetchone()[0])
        return counts

    def list_policies(self, *, public_only: bool = False) -> list[StoredPolicy]:
        sql = f"SELECT {_POLICY_COLS} FROM youth_policies"
        if public_only:
            sql += " WHERE classification = '공개'"
        return [_policy(r) for r in self._conn.execute(sql + " ORDER BY plcy_no").fetchall()]

    def catalogue_version(self) -> tuple[int, str, int]:
        row = self._conn.execute("SELECT COUNT(*), COALESCE(MAX(updated), ''), COALESCE(SUM(expired), 0)"
                                 " FROM youth_policies").fetchone()
        return int(row[0]), str(row[1]), int(row[2])


class SqliteSeriesStore(_Shared):
    def put_series(self, source: str, series: Mapping[tuple[str, str], tuple[str, str]],
                   points: Sequence[SeriesPoint], profiles: Sequence[ProfileCell],
                   events: Sequence[EventRow]) -> dict[str, int]:
        now = _now()
        new = {"points": 0, "profiles": 0, "events": 0}
        with self._write() as c:
            for (place, metric), (unit, freq) in series.items():
                c.execute("INSERT INTO crowd_series(place, metric, unit, freq, source, updated) VALUES (?,?,?,?,?,?) "
                          "ON CONFLICT(place, metric) DO UPDATE SET unit=excluded.unit, freq=excluded.freq, "
                          "source=excluded.source, updated=excluded.updated", (place, metric, unit, freq, source, now))
            before = c.total_changes
            c.executemany("INSERT OR IGNORE INTO crowd_points(place, metric, ts, value) VALUES (?,?,?,?)", points)
            new["points"] = c.total_changes - before
            c.executemany("UPDATE crowd_points SET value = ? WHERE place = ? AND metric = ? AND ts = ? AND value != ?",
                          [(v, pl, m, ts, v) for pl, m, ts, v in points])
            c.executemany("INSERT OR REPLACE INTO crowd_profiles(place, line, direction, day_type, slot, value) "
                          "VALUES (?,?,?,?,?,?)", profiles)
            new["profiles"] = len(profiles)
            before = c.total_changes
            c.executemany("INSERT OR IGNORE INTO crowd_events(place, day, name, category, rise_pct, source) "
                          "VALUES (?,?,?,?,?,?)", [(*e, source) for e in events])
            new["events"] = c.total_changes - before
        return new

    def series_list(self) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            "SELECT s.place, s.metric, s.unit, s.freq, s.source, COUNT(p.ts) AS n, MIN(p.ts) AS first, "
            "MAX(p.ts) AS last FROM crowd_series s LEFT JOIN crowd_points p ON p.place = s.place "
            "AND p.metric = s.metric GROUP BY s.place, s.metric ORDER BY s.place, s.metric").fetchall()
        return [dict(zip(("place", "metric", "unit", "freq", "source", "n", "first", "last"), tuple(r), strict=True))
                for r in rows]

    def daily_peaks(self, metric: str) -> tuple[list[tuple[str, str, float]], str]:
        rows = [(r[0], r[1], float(r[2])) for r in self._conn.execute(
            "SELECT p.place, substr(p.ts, 1, 10), MAX(p.value) "
            "FROM crowd_points p JOIN crowd_series s ON s.place = p.place AND s.metric = p.metric "
            "WHERE p.metric = ? GROUP BY p.place, substr(p.ts, 1, 10) ORDER BY p.place, 2", (metric,))]
        unit = self._conn.execute("SELECT unit FROM crowd_series WHERE metric = ? LIMIT 1", (metric,)).fetchone()
        return rows, (unit[0] if unit else "")

    def daily_values(self, metrics: Sequence[str]) -> list[tuple[str, str, float]]:
        if not metrics:
            return []
        marks = ",".join("?" * len(metrics))
        return [(r[0], r[1], float(r[2])) for r in self._conn.execute(
            f"SELECT metric, ts, value FROM crowd_points WHERE metric IN ({marks}) AND length(ts) = 10", tuple(metrics))]

    def events_list(self) -> list[EventRow]:
        return [tuple(r) for r in self._conn.execute(  # type: ignore[misc]
            "SELECT place, day, name, category, rise_pct FROM crowd_events ORDER BY day, place")]

    def profile_cells(self, place: str) -> list[ProfileCell]:
        return [tuple(r) for r in self._conn.execute(  # type: ignore[misc]
            "SELECT place, line, direction, day_type, slot, value FROM crowd_profiles WHERE place = ? "
            "ORDER BY line, direction, day_type, slot", (place,))]

    def save_run(self, kind: str, payload: dict[str, Any], keep: int = 20) -> int:
        with self._write() as c:
            cur = c.execute("INSERT INTO crowd_runs(kind, created, payload) VALUES (?,?,?)",
                            (kind, _now(), json.dumps(payload, ensure_ascii=False, default=str)))
            c.execute("DELETE FROM crowd_runs WHERE kind = ? AND id NOT IN "
                      "(SELECT id FROM crowd_runs WHERE kind = ? ORDER BY id DESC LIMIT ?)", (kind, kind, keep))
            return int(cur.lastrowid or 0)

    def runs(self, kind: str, limit: int = 1) -> list[tuple[int, str, dict[str, Any]]]:
        return [(int(r[0]), r[1], json.loads(r[2])) for r in self._conn.execute(
            "SELECT id, created, payload FROM crowd_runs WHERE kind = ? ORDER BY id DESC LIMIT ?", (kind, limit))]

    def put_alert(self, alert_id: str, place: str, kind: str, level: str, target: str,
                  details: dict[str, Any]) -> bool:
        with self._write() as c:
            cur = c.execute("INSERT OR IGNORE INTO crowd_alerts(id, place, kind, level, target, created, active, details)"
                            " VALUES (?,?,?,?,?,?,1,?)", (alert_id, place, kind, level, target, _now(),
                                                          json.dumps(details, ensure_ascii=False, default=str)))
            return cur.rowcount > 0

    def deactivate_alerts(self, place: str, kind: str, keep: Iterable[str]) -> None:
        keep = list(keep)
        with self._write() as c:
            q = "UPDATE crowd_alerts SET active = 0 WHERE place = ? AND kind = ?"
            if keep:
                q += f" AND id NOT IN ({','.join('?' * len(keep))})"
            c.execute(q, (place, kind, *keep))

    def alerts(self, place: str | None = None, active_only: bool = True,
               limit: int = 200) -> list[tuple[dict[str, Any], str, bool]]:
        q = "SELECT details, created, active FROM crowd_alerts WHERE 1=1"
        args: list[Any] = []
        if place:
            q += " AND place = ?"
            args.append(place)
        if active_only:
            q += " AND active = 1"
        q += " ORDER BY target, place LIMIT ?"
        args.append(limit)
        return [(json.loads(r[0]), r[1], bool(r[2])) for r in self._conn.execute(q, args)]

    def count(self, table: str) -> int:
        if table not in CROWD_TABLES:
            raise ValueError(table)
        return int(self._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
