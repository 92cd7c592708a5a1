-- Per-collection personal-data policy (dasan/security/pii_policy.py):
-- off | mask_ingest | mask_answer | block. Masking answers is the safe default.
ALTER TABLE collections ADD COLUMN pii_policy TEXT NOT NULL DEFAULT 'mask_answer';
