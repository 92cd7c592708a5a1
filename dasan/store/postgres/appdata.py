"""Application data in the PostgreSQL store (migration 0004_app_data.sql): the youth-policy
catalogue (:class:`dasan.store.base.PolicyCatalogue`, row-level security by level) and the
crowd series (:class:`dasan.store.base.SeriesStore`, no classified content)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from dasan.store.base import EventRow, PolicyDecision, ProfileCell, SeriesPoint, StoredPolicy
from dasan.store.base import now_iso as _now
from dasan.store.postgres.db import SYSTEM, Database

_POLICY_COLS = ("plcy_no, name, categories, classification, record, conditions, content_hash, source, apply_end,"
                " expired")
CROWD_TABLES = ("crowd_points", "crowd_profiles", "crowd_events", "crowd_alerts", "crowd_series")



def _policy(row: Any) -> StoredPolicy:
    return StoredPolicy(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], bool(row[9]))


class PgPolicyCatalogue:
    """``scope`` gives the access scope of reads (the store's current request scope)."""

    def __init__(self, db: Database, scope: Callable[[], Any]) -> None:
        self.db = db
        self._scope = scope

    def upsert_policies(self, rows: Sequence[StoredPolicy], decide: PolicyDecision, *,
                        expire_before: str) -> dict[str, int]:
        counts = {"added": 0, "updated": 0, "unchanged": 0, "older": 0}
        now = _now("microseconds")
        with self.db.tx(SYSTEM) as c:
            # one ingest at a time (the decisions read what is stored)
            c.execute("LOCK TABLE youth_policies IN SHARE ROW EXCLUSIVE MODE")
            stored = {r[0]: _policy(r) for r in c.execute(
                f"SELECT {_POLICY_COLS} FROM youth_policies WHERE plcy_no = ANY(%s)", ([p.plcy_no for p in rows],))}
            write = []
            for p in rows:
                verdict = decide(p, stored.get(p.plcy_no))
                counts[verdict] = counts.get(verdict, 0) + 1
                if verdict in ("added", "updated"):
                    write.append((p.plcy_no, p.name, p.categories, p.classification, p.record, p.conditions,
                                  p.content_hash, p.source, p.apply_end, now, now))
                    stored[p.plcy_no] = p
            if write:
                c.cursor().executemany(
                    "INSERT INTO youth_policies(plcy_no, name, categories, classification, record, conditions,"
                    " content_hash, source, apply_end, expired, first_ingested, updated)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, false, %s, %s) ON CONFLICT (plcy_no) DO UPDATE SET"
                    " name = EXCLUDED.name, categories = EXCLUDED.categories,"
                    " classification = EXCLUDED.classification, record = EXCLUDED.record,"
                    " conditions = EXCLUDED.conditions, content_hash = EXCLUDED.content_hash,"
                    " source = EXCLUDED.source, apply_end = EXCLUDED.apply_end, updated = EXCLUDED.updated", write)
            # only rows whose mark changes are written (updated stays the catalogue's version)
            c.execute("UPDATE youth_policies SET expired = (apply_end IS NOT NULL AND apply_end < %s)"
                      " WHERE expired IS DISTINCT FROM (apply_end IS NOT NULL AND apply_end < %s)",
                      (expire_before, expire_before))
            row = c.execute("SELECT COUNT(*) FILTER (WHERE expired), COUNT(*) FROM youth_policies").fetchone()
            counts["expired"], counts["total"] = int(row[0]), int(row[1])
        return counts

    def list_policies(self, *, public_only: bool = False) -> list[StoredPolicy]:
        sql = f"SELECT {_POLICY_COLS} FROM youth_policies"
        if public_only:
            sql += " WHERE classification = '공개'"
        return [_policy(r) for r in self.db.read(sql + " ORDER BY plcy_no", (), self._scope())]

    def catalogue_version(self) -> tuple[int, str, int]:
        row = self.db.read("SELECT COUNT(*), COALESCE(MAX(updated), ''), COUNT(*) FILTER (WHERE expired)"
                           " FROM youth_policies", (), self._scope())[0]
        return int(row[0]), str(row[1]), int(row[2])


class PgSeriesStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _read(self, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return self.db.read(query, params, SYSTEM)

    def put_series(self, source: str, series: Mapping[tuple[str, str], tuple[str, str]],
                   points: Sequence[SeriesPoint], profiles: Sequence[ProfileCell],
                   events: Sequence[EventRow]) -> dict[str, int]:
        now = _now()
        new = {"points": 0, "profiles": 0, "events": 0}
        last: dict[tuple[str, str, str], float] = {}
        for pl, m, ts, v in points:  # a point given twice: the last value wins (as in SQLite)
            last[(pl, m, ts)] = float(v)
        cells: dict[tuple[str, str, str, str, str], float] = {}
        for pl, line, d, dt, slot, v in profiles:
            cells[(pl, line, d, dt, slot)] = float(v)
        with self.db.tx(SYSTEM) as c:
            if series:
                c.cursor().executemany(
                    "INSERT INTO crowd_series(place, metric, unit, freq, source, updated) VALUES (%s,%s,%s,%s,%s,%s)"
                    " ON CONFLICT (place, metric) DO UPDATE SET unit = EXCLUDED.unit, freq = EXCLUDED.freq,"
                    " source = EXCLUDED.source, updated = EXCLUDED.updated",
                    [(pl, m, u, f, source, now) for (pl, m), (u, f) in series.items()])
            if last:
                cols = ([k[0] for k in last], [k[1] for k in last], [k[2] for k in last], list(last.values()))
                # the first value of a point is what SQLite's INSERT OR IGNORE keeps before its update
                new["points"] = c.execute(
                    "INSERT INTO crowd_points(place, metric, ts, value) SELECT * FROM"
                    " unnest(%s::text[], %s::text[], %s::text[], %s::float8[]) ON CONFLICT DO NOTHING", cols).rowcount
                c.execute("UPDATE crowd_points p SET value = u.v FROM"
                          " unnest(%s::text[], %s::text[], %s::text[], %s::float8[]) AS u(pl, m, ts, v)"
                          " WHERE p.place = u.pl AND p.metric = u.m AND p.ts = u.ts AND p.value <> u.v", cols)
            if cells:
                c.cursor().executemany(
                    "INSERT INTO crowd_profiles(place, line, direction, day_type, slot, value)"
                    " VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (place, line, direction, day_type, slot)"
                    " DO UPDATE SET value = EXCLUDED.value", [(*k, v) for k, v in cells.items()])
            new["profiles"] = len(profiles)
            if events:
                cols_e = tuple(list(col) for col in zip(*events, strict=True))
                new["events"] = c.execute(
                    "INSERT INTO crowd_events(place, day, name, category, rise_pct, source) SELECT *, %s::text FROM"
                    " unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::float8[]) ON CONFLICT DO NOTHING",
                    (source, *cols_e)).rowcount
        return new

    def series_list(self) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT s.place, s.metric, s.unit, s.freq, s.source, COUNT(p.ts) AS n, MIN(p.ts) AS first,"
            " MAX(p.ts) AS last FROM crowd_series s LEFT JOIN crowd_points p ON p.place = s.place"
            " AND p.metric = s.metric GROUP BY s.place, s.metric ORDER BY s.place, s.metric")
        return [dict(zip(("place", "metric", "unit", "freq", "source", "n", "first", "last"), tuple(r), strict=True))
                for r in rows]

    def daily_peaks(self, metric: str) -> tuple[list[tuple[str, str, float]], str]:
        rows = [(r[0], r[1], float(r[2])) for r in self._read(
            "SELECT p.place, substr(p.ts, 1, 10) AS day, MAX(p.value)"
            " FROM crowd_points p JOIN crowd_series s ON s.place = p.place AND s.metric = p.metric"
            " WHERE p.metric = %s GROUP BY p.place, substr(p.ts, 1, 10) ORDER BY p.place, day", (metric,))]
        unit = self._read("SELECT unit FROM crowd_series WHERE metric = %s LIMIT 1", (metric,))
        return rows, (unit[0][0] if unit else "")

    def daily_values(self, metrics: Sequence[str]) -> list[tuple[str, str, float]]:
        return [(r[0], r[1], float(r[2])) for r in self._read(
            "SELECT metric, ts, value FROM crowd_points WHERE metric = ANY(%s) AND length(ts) = 10",
            (list(metrics),))]

    def events_list(self) -> list[EventRow]:
        return [tuple(r) for r in self._read(  # type: ignore[misc]
            "SELECT place, day, name, category, rise_pct FROM crowd_events ORDER BY day, place")]

    def profile_cells(self, place: str) -> list[ProfileCell]:
        return [tuple(r) for r in self._read(  # type: ignore[misc]
            "SELECT place, line, direction, day_type, slot, value FROM crowd_profiles WHERE place = %s"
            " ORDER BY line, direction, day_type, slot", (place,))]

    def save_run(self, kind: str, payload: dict[str, Any], keep: int = 20) -> int:
        with self.db.tx(SYSTEM) as c:
            rid = c.execute("INSERT INTO crowd_runs(kind, created, payload) VALUES (%s, %s, %s) RETURNING id",
                            (kind, _now(), json.dumps(payload, ensure_ascii=False, default=str))).fetchone()[0]
            c.execute("DELETE FROM crowd_runs WHERE kind = %s AND id NOT IN "
                      "(SELECT id FROM crowd_runs WHERE kind = %s ORDER BY id DESC LIMIT %s)", (kind, kind, keep))
        return int(rid)

    def runs(self, kind: str, limit: int = 1) -> list[tuple[int, str, dict[str, Any]]]:
        return [(int(r[0]), r[1], json.loads(r[2])) for r in self._read(
            "SELECT id, created, payload FROM crowd_runs WHERE kind = %s ORDER BY id DESC LIMIT %s", (kind, limit))]

    def put_alert(self, alert_id: str, place: str, kind: str, level: str, target: str,
                  details: dict[str, Any]) -> bool:
        with self.db.tx(SYSTEM) as c:
            cur = c.execute("INSERT INTO crowd_alerts(id, place, kind, level, target, created, active, details)"
                            " VALUES (%s, %s, %s, %s, %s, %s, true, %s) ON CONFLICT DO NOTHING",
                            (alert_id, place, kind, level, target, _now(),
                             json.dumps(details, ensure_ascii=False, default=str)))
            return cur.rowcount > 0

    def deactivate_alerts(self, place: str, kind: str, keep: Iterable[str]) -> None:
        with self.db.tx(SYSTEM) as c:
            c.execute("UPDATE crowd_alerts SET active = false WHERE place = %s AND kind = %s AND NOT (id = ANY(%s))",
                      (place, kind, list(keep)))

    def alerts(self, place: str | None = None, active_only: bool = True,
               limit: int = 200) -> list[tuple[dict[str, Any], str, bool]]:
        q = "SELECT details, created, active FROM crowd_alerts WHERE true"
        args: list[Any] = []
        if place:
            q += " AND place = %s"
            args.append(place)
        if active_only:
            q += " AND active"
        q += " ORDER BY target, place LIMIT %s"
        args.append(limit)
        return [(json.loads(r[0]), r[1], bool(r[2])) for r in self._read(q, tuple(args))]

    def count(self, table: str) -> int:
        if table not in CROWD_TABLES:
            raise ValueError(table)
        return int(self._read(f"SELECT COUNT(*) FROM {table}")[0][0])
