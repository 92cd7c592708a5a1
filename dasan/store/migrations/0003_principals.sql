-- Principals: users, nested departments (org units), memberships, API keys and
-- department ownership of collections. Names compare case-insensitively.
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    clearance   TEXT NOT NULL DEFAULT '공개' CHECK (clearance IN ('공개', '민감', '기밀')),
    role        TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'manager', 'user', 'auditor')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE departments (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    parent_id   INTEGER REFERENCES departments(id) ON DELETE RESTRICT,
    created_at  TEXT NOT NULL
);

CREATE INDEX departments_by_parent ON departments(parent_id);

CREATE TABLE user_departments (
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    department_id INTEGER NOT NULL REFERENCES departments(id) ON DELETE RESTRICT,
    PRIMARY KEY (user_id, department_id)
);

CREATE INDEX user_departments_by_department ON user_departments(department_id);

-- The secret is never stored: only its SHA-256 (see dasan/security/principals.py).
CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    prefix        TEXT NOT NULL UNIQUE,
    hash          TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    revoked_at    TEXT,
    last_used_at  TEXT
);

CREATE INDEX api_keys_by_user ON api_keys(user_id);

-- No foreign key to collections: ownership may be set before the first ingest, so a
-- new collection is never briefly visible to everybody, and it survives re-creation.
CREATE TABLE collection_departments (
    collection    TEXT NOT NULL,
    department_id INTEGER NOT NULL REFERENCES departments(id) ON DELETE RESTRICT,
    PRIMARY KEY (collection, department_id)
);

CREATE INDEX collection_departments_by_department ON collection_departments(department_id)
