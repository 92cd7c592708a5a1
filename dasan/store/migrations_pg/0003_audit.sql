-- The audit log (dasan/security/audit.py) in the database when DASAN_DATABASE_URL is set, so
-- that every server and worker appends to one hash chain. Same columns as audit.db; appends are
-- serialised by a transaction-level advisory lock (dasan/store/postgres/audit.py). The anchor
-- (audit.head) stays a file in the data directory, outside the database.
CREATE TABLE audit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE audit_entries (
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    details TEXT NOT NULL,
    parent TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_entries_hash ON audit_entries(hash);
CREATE INDEX audit_entries_ts ON audit_entries(ts);
