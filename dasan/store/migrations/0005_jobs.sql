-- Upload jobs (dasan/server/jobs.py), persisted so that they survive a server restart: a job
-- still queued or running when the server stopped is taken up again at the next start.
-- ``files`` is the JSON list of per-file states; ``attempts`` counts starts of the job.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    collection TEXT NOT NULL,
    level TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    files TEXT NOT NULL
);
CREATE INDEX jobs_open ON jobs(done, created);
