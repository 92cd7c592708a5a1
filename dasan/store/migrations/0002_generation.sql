-- A counter bumped in every write transaction, so readers (search indexes) can tell cheaply
-- whether the store changed since they last synchronised.
CREATE TABLE store_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO store_state(id, generation) VALUES (1, 0);
