-- Row-level security on documents and chunks (issue 19, item 4). The database enforces access
-- too: a transaction sees a row only when it set, with set_config(..., true) (local to the
-- transaction, so nothing leaks to the next user of a pooled connection), either
--   dasan.system = 'on'                    the application's own work (ingest, index builds), or
--   dasan.level = '<rank>'                 the principal's clearance (0 공개, 1 민감, 2 기밀) and
--   dasan.collections = '*' | JSON array   the collections the principal may read.
-- Nothing set (or set and reset, which leaves '' behind: hence NULLIF) shows no rows at all.
-- FORCE applies the policies to the table owner as well (the role the servers connect as).
-- Names inside the functions are schema-qualified (public): pg_dump runs with an empty search_path.
CREATE FUNCTION dasan_level_rank(level text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE level WHEN '공개' THEN 0 WHEN '민감' THEN 1 WHEN '기밀' THEN 2 ELSE 2 END $$;

CREATE FUNCTION dasan_is_system() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT COALESCE(NULLIF(current_setting('dasan.system', true), '') = 'on', false) $$;

CREATE FUNCTION dasan_may_read(coll text, classification text) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT public.dasan_is_system() OR COALESCE(
        public.dasan_level_rank(classification) <= NULLIF(current_setting('dasan.level', true), '')::integer
        AND public.dasan_level_rank(COALESCE((SELECT k.level FROM public.collections k WHERE k.name = coll), '기밀'))
            <= NULLIF(current_setting('dasan.level', true), '')::integer
        AND CASE NULLIF(current_setting('dasan.collections', true), '')
                WHEN '*' THEN true
                ELSE (NULLIF(current_setting('dasan.collections', true), '')::jsonb ? coll)
            END,
        false)
    $$;

ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
ALTER TABLE chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE chunks FORCE ROW LEVEL SECURITY;

-- Reading: the principal's scope. Writing: only the application's own transactions.
CREATE POLICY documents_read ON documents FOR SELECT USING (dasan_may_read(collection, classification));
CREATE POLICY documents_write ON documents FOR ALL USING (dasan_is_system()) WITH CHECK (dasan_is_system());
CREATE POLICY chunks_read ON chunks FOR SELECT USING (dasan_may_read(collection, classification));
CREATE POLICY chunks_write ON chunks FOR ALL USING (dasan_is_system()) WITH CHECK (dasan_is_system());
