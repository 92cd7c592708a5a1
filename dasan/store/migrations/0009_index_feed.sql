-- The index change feed (issue 14 item 2): every committed change to what a search index holds,
-- or to whom it may serve a row, leaves numbered entries in ``index_feed``, so a search index
-- re-reads only the rows of the documents (and collections) named after the last entry it
-- applied instead of every row of the store.
--
-- Entries are written by triggers, not by the store's methods, so no write path (a store method,
-- a migration, an operator's SQL) changes a document, a chunk or a collection's level without
-- one. ``seq`` comes from ``store_state.feed_seq``, bumped in the same transaction: numbers are
-- gapless and in commit order (SQLite has one writer at a time). Chunks are inserted and
-- deleted only with their document (put_document; ON DELETE CASCADE): the document's entry
-- covers them; an UPDATE of a chunk row has its own entry.
--   op 'add'        a document inserted
--   op 'remove'     a document deleted (its chunks with it)
--   op 'update'     a document or one of its chunks changed (level, embargo, metadata, text)
--   op 'collection' a collection's level changed (``collection`` set, ``document_id`` NULL)
-- ``feed_floor``: entries up to this number were pruned (a reader behind it rebuilds in full).
-- ``feed_epoch``: this feed's identity (a reader that applied another store's feed rebuilds).
ALTER TABLE store_state ADD COLUMN feed_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE store_state ADD COLUMN feed_floor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE store_state ADD COLUMN feed_epoch TEXT NOT NULL DEFAULT '';
UPDATE store_state SET feed_epoch = lower(hex(randomblob(8))) WHERE id = 1;

CREATE TABLE index_feed (
    seq         INTEGER PRIMARY KEY,
    document_id TEXT,
    collection  TEXT,
    op          TEXT NOT NULL
);

CREATE TRIGGER index_feed_document_added AFTER INSERT ON documents
BEGIN
    UPDATE store_state SET feed_seq = feed_seq + 1 WHERE id = 1;
    INSERT INTO index_feed(seq, document_id, op) SELECT feed_seq, NEW.id, 'add' FROM store_state WHERE id = 1;
END;

CREATE TRIGGER index_feed_document_removed AFTER DELETE ON documents
BEGIN
    UPDATE store_state SET feed_seq = feed_seq + 1 WHERE id = 1;
    INSERT INTO index_feed(seq, document_id, op) SELECT feed_seq, OLD.id, 'remove' FROM store_state WHERE id = 1;
END;

CREATE TRIGGER index_feed_document_changed AFTER UPDATE ON documents
BEGIN
    UPDATE store_state SET feed_seq = feed_seq + 1 WHERE id = 1 AND OLD.id IS NOT NEW.id;
    INSERT INTO index_feed(seq, document_id, op)
        SELECT feed_seq, OLD.id, 'remove' FROM store_state WHERE id = 1 AND OLD.id IS NOT NEW.id;
    UPDATE store_state SET feed_seq = feed_seq + 1 WHERE id = 1;
    INSERT INTO index_feed(seq, document_id, op) SELECT feed_seq, NEW.id, 'update' FROM store_state WHERE id = 1;
END;

CREATE TRIGGER index_feed_chunk_changed AFTER UPDATE ON chunks
BEGIN
    UPDATE store_state SET feed_seq = feed_seq + 1 WHERE id = 1 AND OLD.document_id IS NOT NEW.document_id;
    INSERT INTO index_feed(seq, document_id, op)
        SELECT feed_seq, OLD.document_id, 'update' FROM store_state
        WHERE id = 1 AND OLD.document_id IS NOT NEW.document_id;
    UPDATE store_state SET feed_seq = feed_seq + 1 WHERE id = 1;
    INSERT INTO index_feed(seq, document_id, op)
        SELECT feed_seq, NEW.document_id, 'update' FROM store_state WHERE id = 1;
END;

CREATE TRIGGER index_feed_collection_changed AFTER UPDATE OF name, level ON collections
    WHEN OLD.name IS NOT NEW.name OR OLD.level IS NOT NEW.level
BEGIN
    UPDATE store_state SET feed_seq = feed_seq + 1 WHERE id = 1 AND OLD.name IS NOT NEW.name;
    INSERT INTO index_feed(seq, collection, op)
        SELECT feed_seq, OLD.name, 'collection' FROM store_state WHERE id = 1 AND OLD.name IS NOT NEW.name;
    UPDATE store_state SET feed_seq = feed_seq + 1 WHERE id = 1;
    INSERT INTO index_feed(seq, collection, op) SELECT feed_seq, NEW.name, 'collection' FROM store_state WHERE id = 1;
END;
