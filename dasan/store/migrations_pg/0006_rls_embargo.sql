-- Row-level security, second part (issue 19, item 4): embargoes, and unknown levels fail closed.
-- The same rule as dasan/security/levels.py: a row's rank is the higher of its own level and
-- its collection's; a press release before its 보도시점 (``embargo`` in the JSON metadata, an
-- ISO date-time, KST when it names no offset) ranks at least 민감; one held (``embargo_hold``)
-- or whose 보도시점 cannot be read ranks 민감 until an operator decides. A level outside
-- 공개/민감/기밀 ranks above the highest: nobody but the application sees it.
CREATE OR REPLACE FUNCTION dasan_level_rank(level text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE level WHEN '공개' THEN 0 WHEN '민감' THEN 1 WHEN '기밀' THEN 2 ELSE 3 END $$;

-- true while the JSON text ``meta`` puts its row under an embargo (fails closed: unreadable
-- JSON or date-time counts as under embargo)
CREATE FUNCTION dasan_json_truthy(v jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE jsonb_typeof(v)
        WHEN 'boolean' THEN v = 'true'::jsonb
        WHEN 'number' THEN (v #>> '{}')::numeric <> 0
        WHEN 'string' THEN (v #>> '{}') <> ''
        WHEN 'array' THEN jsonb_array_length(v) > 0
        WHEN 'object' THEN v <> '{}'::jsonb
        ELSE false END $$;

CREATE FUNCTION dasan_embargoed(meta text) RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    AS $$
DECLARE
    m jsonb;
    raw text;
    stamp timestamptz;
BEGIN
    IF meta IS NULL OR position('embargo' IN meta) = 0 THEN
        RETURN false;  -- the common case, without parsing
    END IF;
    m := meta::jsonb;
    IF jsonb_typeof(m) <> 'object' THEN
        RETURN false;
    END IF;
    IF public.dasan_json_truthy(m -> 'embargo_hold') THEN
        RETURN true;  -- held until an operator decides
    END IF;
    IF NOT COALESCE(public.dasan_json_truthy(m -> 'embargo'), false) THEN
        RETURN false;  -- none
    END IF;
    raw := m -> 'embargo' #>> '{}';
    IF jsonb_typeof(m -> 'embargo') <> 'string' THEN
        RETURN true;  -- not a date-time: held (as levels.embargo_ts)
    END IF;
    IF raw ~ '^\d{4}-?\d{2}-?\d{2}[T ].*(Z|z|[+-]\d{2}(:?\d{2})?)$' THEN
        stamp := raw::timestamptz;
    ELSE  -- no offset: KST
        stamp := raw::timestamp AT TIME ZONE INTERVAL '+09:00';
    END IF;
    RETURN stamp > now();
EXCEPTION WHEN others THEN
    RETURN true;  -- unreadable: fails closed
END
$$;

-- the principal's rank (NULL when the transaction set none)
CREATE FUNCTION dasan_scope_rank() RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('dasan.level', true), '')::integer $$;

-- a row under embargo is visible only from 민감 (the embargo level) up; the application's own
-- work (dasan.system) is checked first, so it never parses a row's metadata
DROP POLICY chunks_read ON chunks;
CREATE POLICY chunks_read ON chunks FOR SELECT USING (
    dasan_is_system() OR (dasan_may_read(collection, classification)
        AND (COALESCE(1 <= dasan_scope_rank(), false) OR NOT dasan_embargoed(meta))));

-- a press release stored before 보도시점 was kept on the document has it on its chunks only
-- (its first chunk, read under the same policy: hidden, or none, counts as under embargo)
DROP POLICY documents_read ON documents;
CREATE POLICY documents_read ON documents FOR SELECT USING (
    dasan_is_system() OR (dasan_may_read(collection, classification)
        AND (COALESCE(1 <= dasan_scope_rank(), false) OR NOT (
            dasan_embargoed(metadata)
            OR (kind = 'press' AND position('"embargo"' IN metadata) = 0 AND dasan_embargoed(COALESCE(
                (SELECT c.meta FROM public.chunks c WHERE c.document_id = documents.id
                 ORDER BY c.ordinal LIMIT 1), '{"embargo_hold": true}')))))));
