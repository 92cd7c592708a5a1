-- As SQLite 0008_job_trail.sql: the audit trail of the upload that made a job (JSON), so that
-- whoever completes the job (the accepting server, a replica after a restart, a `dasan worker`)
-- writes the upload's outcome entry, once.
ALTER TABLE jobs ADD COLUMN trail TEXT;
