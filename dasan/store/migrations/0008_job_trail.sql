-- The audit trail of the upload that made a job (dasan/server/jobs.py): actor, action, target,
-- start entry's sequence number (JSON). Whoever completes the job (the server that accepted it,
-- a replica taking it up after a restart, or a `dasan worker`) writes the trail's outcome once.
ALTER TABLE jobs ADD COLUMN trail TEXT
