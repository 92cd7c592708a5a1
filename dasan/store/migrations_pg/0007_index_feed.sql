-- As SQLite 0009_index_feed.sql: the index change feed (issue 14 item 2). Every committed change
-- to a document, a chunk or a collection's level leaves numbered entries in ``index_feed``,
-- written by triggers (no write path can skip them), so that search indexes re-read only the
-- rows of the documents and collections named after the last entry they applied.
--
-- Numbers come from ``store_state.feed_seq`` (not a sequence: a sequence leaves gaps on rollback
-- and hands out numbers in a different order than transactions commit). The UPDATE of the one
-- ``store_state`` row holds its row lock until the transaction ends, so entries are numbered
-- gaplessly in commit order and a reader that saw entry N has seen every entry before it.
-- Chunks are inserted and deleted only with their document (put_document; ON DELETE CASCADE):
-- the document's entry covers them; an UPDATE of a chunk row has its own entry.
ALTER TABLE store_state ADD COLUMN feed_seq BIGINT NOT NULL DEFAULT 0,
                        ADD COLUMN feed_floor BIGINT NOT NULL DEFAULT 0,
                        ADD COLUMN feed_epoch TEXT NOT NULL DEFAULT '';
UPDATE store_state SET feed_epoch = substr(md5(random()::text || clock_timestamp()::text), 1, 16) WHERE id = 1;

CREATE TABLE index_feed (
    seq         BIGINT PRIMARY KEY,
    document_id TEXT COLLATE "C",
    collection  TEXT COLLATE "C",
    op          TEXT NOT NULL
);

CREATE FUNCTION dasan_feed_log(doc text, coll text, op text) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    s bigint;
BEGIN
    UPDATE public.store_state SET feed_seq = feed_seq + 1 WHERE id = 1 RETURNING feed_seq INTO s;
    INSERT INTO public.index_feed(seq, document_id, collection, op) VALUES (s, doc, coll, op);
END $$;

CREATE FUNCTION dasan_feed_documents() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM public.dasan_feed_log(NEW.id, NULL, 'add');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM public.dasan_feed_log(OLD.id, NULL, 'remove');
    ELSE
        IF OLD.id IS DISTINCT FROM NEW.id THEN
            PERFORM public.dasan_feed_log(OLD.id, NULL, 'remove');
        END IF;
        PERFORM public.dasan_feed_log(NEW.id, NULL, 'update');
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION dasan_feed_chunks() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF OLD.document_id IS DISTINCT FROM NEW.document_id THEN
        PERFORM public.dasan_feed_log(OLD.document_id, NULL, 'update');
    END IF;
    PERFORM public.dasan_feed_log(NEW.document_id, NULL, 'update');
    RETURN NULL;
END $$;

CREATE FUNCTION dasan_feed_collections() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF OLD.name IS DISTINCT FROM NEW.name THEN
        PERFORM public.dasan_feed_log(NULL, OLD.name, 'collection');
    END IF;
    PERFORM public.dasan_feed_log(NULL, NEW.name, 'collection');
    RETURN NULL;
END $$;

CREATE TRIGGER index_feed_documents AFTER INSERT OR UPDATE OR DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION dasan_feed_documents();
CREATE TRIGGER index_feed_chunks AFTER UPDATE ON chunks
    FOR EACH ROW EXECUTE FUNCTION dasan_feed_chunks();
CREATE TRIGGER index_feed_collections AFTER UPDATE OF name, level ON collections
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.level IS DISTINCT FROM NEW.level)
    EXECUTE FUNCTION dasan_feed_collections();
