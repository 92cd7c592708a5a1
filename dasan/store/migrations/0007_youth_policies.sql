-- Youth-policy catalogue (issue 17, dasan/apps/youth): one row per 온통청년 policy (plcyNo).
-- ``record`` is the source record as received (JSON), ``conditions`` the typed conditions read
-- from it; re-ingesting updates the row with the same plcy_no; a policy whose application
-- windows have all ended is marked ``expired = 1``, never deleted. ``classification`` is the
-- access level (공개 rows are shown to callers without an account).
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
    expired INTEGER NOT NULL DEFAULT 0,
    first_ingested TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX youth_policies_level ON youth_policies(classification);
