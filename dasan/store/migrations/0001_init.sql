-- Collections, documents and chunks. Ids are content hashes (see dasan/store/ids.py).
CREATE TABLE collections (
    name        TEXT PRIMARY KEY,
    level       TEXT NOT NULL DEFAULT '공개',
    created_at  TEXT NOT NULL
);

CREATE TABLE documents (
    id               TEXT PRIMARY KEY,
    collection       TEXT NOT NULL REFERENCES collections(name),
    source_path      TEXT NOT NULL,
    content_hash     TEXT NOT NULL,
    pipeline_version INTEGER NOT NULL,
    format           TEXT NOT NULL,
    kind             TEXT NOT NULL,
    title            TEXT,
    pages            INTEGER,
    size_bytes       INTEGER NOT NULL,
    n_chunks         INTEGER NOT NULL,
    classification   TEXT NOT NULL DEFAULT '공개',
    metadata         TEXT NOT NULL DEFAULT '{}',
    ingested_at      TEXT NOT NULL,
    UNIQUE (collection, source_path)
);

CREATE TABLE chunks (
    id             TEXT PRIMARY KEY,
    document_id    TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal        INTEGER NOT NULL,
    text           TEXT NOT NULL,
    context        TEXT NOT NULL DEFAULT '',
    citation       TEXT NOT NULL,
    citation_json  TEXT NOT NULL,
    page           INTEGER,
    classification TEXT NOT NULL DEFAULT '공개',
    meta           TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX chunks_by_document ON chunks(document_id, ordinal);
CREATE INDEX chunks_by_citation ON chunks(citation);
CREATE INDEX documents_by_collection ON documents(collection);
