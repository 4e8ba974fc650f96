-- Compacted history prefixes: loading a long run reads its snapshot (one
-- row) and the events after it, instead of every event.
CREATE TABLE snapshots (
    instance   TEXT    NOT NULL,
    run_id     TEXT    NOT NULL,
    upto_seq   BIGINT  NOT NULL,
    digest     TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (instance, run_id)
);
