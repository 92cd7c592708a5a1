-- Crowd-risk early warning (issue 16, dasan/apps/crowd): time series per place with units,
-- 30-minute congestion profiles per day type, known events, forecast/backtest runs and alerts.
-- IF NOT EXISTS throughout, so the file can be renumbered if another migration takes 0006.
CREATE TABLE IF NOT EXISTS crowd_series (
    place TEXT NOT NULL,
    metric TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT '',
    freq TEXT NOT NULL DEFAULT 'day',
    source TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL,
    PRIMARY KEY (place, metric)
);
CREATE TABLE IF NOT EXISTS crowd_points (
    place TEXT NOT NULL,
    metric TEXT NOT NULL,
    ts TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (place, metric, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS crowd_profiles (
    place TEXT NOT NULL,
    line TEXT NOT NULL,
    direction TEXT NOT NULL,
    day_type TEXT NOT NULL,
    slot TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (place, line, direction, day_type, slot)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS crowd_events (
    place TEXT NOT NULL,
    day TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '행사',
    rise_pct REAL,
    source TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (place, day, name)
);
CREATE TABLE IF NOT EXISTS crowd_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    created TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS crowd_runs_kind ON crowd_runs(kind, id);
CREATE TABLE IF NOT EXISTS crowd_alerts (
    id TEXT PRIMARY KEY,
    place TEXT NOT NULL,
    kind TEXT NOT NULL,
    level TEXT NOT NULL,
    target TEXT NOT NULL,
    created TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    details TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS crowd_alerts_place ON crowd_alerts(place, active, target);
