-- Application data (same tables as SQLite migrations 0006_crowd_series.sql and
-- 0007_youth_policies.sql): crowd series per place with units, congestion profiles, events,
-- forecast/backtest runs and alerts (issue 16), and the youth-policy catalogue (issue 17).
--
-- The crowd tables hold no classified content (public transit and city data): no row-level
-- security. youth_policies has a classification column: its rows are read under the same
-- level rule as documents (a principal sees rows up to its rank; the application's own work,
-- dasan.system = 'on', sees all) and written only by the application. The services keep their
-- own filter too (anonymous callers: 공개 rows only, in the query).
CREATE TABLE crowd_series (
    place TEXT NOT NULL,
    metric TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT '',
    freq TEXT NOT NULL DEFAULT 'day',
    source TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL,
    PRIMARY KEY (place, metric)
);
CREATE TABLE crowd_points (
    place TEXT NOT NULL,
    metric TEXT NOT NULL,
    ts TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (place, metric, ts)
);
CREATE INDEX crowd_points_metric ON crowd_points(metric, place, ts);
CREATE TABLE crowd_profiles (
    place TEXT NOT NULL,
    line TEXT NOT NULL,
    direction TEXT NOT NULL,
    day_type TEXT NOT NULL,
    slot TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (place, line, direction, day_type, slot)
);
CREATE TABLE crowd_events (
    place TEXT NOT NULL,
    day TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL DEFAULT '행사',
    rise_pct DOUBLE PRECISION,
    source TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (place, day, name)
);
CREATE TABLE crowd_runs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    created TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX crowd_runs_kind ON crowd_runs(kind, id);
CREATE TABLE crowd_alerts (
    id TEXT PRIMARY KEY,
    place TEXT NOT NULL,
    kind TEXT NOT NULL,
    level TEXT NOT NULL,
    target TEXT NOT NULL,
    created TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT true,
    details TEXT NOT NULL
);
CREATE INDEX crowd_alerts_place ON crowd_alerts(place, active, target);

CREATE TABLE youth_policies (
    plcy_no TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    categories TEXT NOT NULL DEFAULT '',
    classification TEXT NOT NULL DEFAULT '공개',
    record TEXT NOT NULL,
    conditions TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    apply_end TEXT,
    expired BOOLEAN NOT NULL DEFAULT false,
    first_ingested TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX youth_policies_level ON youth_policies(classification);

ALTER TABLE youth_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE youth_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY youth_policies_read ON youth_policies FOR SELECT USING (
    public.dasan_is_system() OR COALESCE(
        public.dasan_level_rank(classification) <= NULLIF(current_setting('dasan.level', true), '')::integer, false));
CREATE POLICY youth_policies_write ON youth_policies FOR ALL USING (public.dasan_is_system())
    WITH CHECK (public.dasan_is_system());
