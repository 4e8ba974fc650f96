-- Continuum journal schema (SQLite). Same tables as Postgres; timestamps are
-- INTEGER milliseconds since the Unix epoch, booleans are 0/1.

CREATE TABLE runs (
    instance            TEXT    NOT NULL,
    run_id              TEXT    NOT NULL,
    workflow            TEXT    NOT NULL,
    module_hash         TEXT    NOT NULL,
    input               TEXT    NOT NULL,
    state               TEXT    NOT NULL,
    output              TEXT,
    error               TEXT,
    lease_owner         TEXT,
    lease_token         INTEGER NOT NULL DEFAULT 0,
    lease_expires_at    INTEGER,
    wake_at             INTEGER,
    wake_gen            INTEGER NOT NULL DEFAULT 0,
    cancel_requested_at INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    PRIMARY KEY (instance, run_id)
);

CREATE INDEX runs_dispatch ON runs (instance, state, wake_at);
CREATE INDEX runs_created ON runs (instance, created_at DESC);

CREATE TABLE events (
    instance    TEXT    NOT NULL,
    run_id      TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (instance, run_id, seq)
);

CREATE TABLE timers (
    instance TEXT    NOT NULL,
    run_id   TEXT    NOT NULL,
    op       INTEGER NOT NULL,
    fire_at  INTEGER NOT NULL,
    fired_at INTEGER,
    PRIMARY KEY (instance, run_id, op)
);

CREATE INDEX timers_due ON timers (instance, fire_at) WHERE fired_at IS NULL;

CREATE TABLE signals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    instance    TEXT    NOT NULL,
    run_id      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    sent_at     INTEGER NOT NULL,
    consumed_at INTEGER
);

CREATE INDEX signals_inbox ON signals (instance, run_id, id) WHERE consumed_at IS NULL;

CREATE TABLE activity_tasks (
    instance         TEXT    NOT NULL,
    run_id           TEXT    NOT NULL,
    op               INTEGER NOT NULL,
    name             TEXT    NOT NULL,
    input            TEXT    NOT NULL,
    options          TEXT    NOT NULL,
    queue            TEXT    NOT NULL,
    priority         INTEGER NOT NULL DEFAULT 0,
    state            TEXT    NOT NULL DEFAULT 'pending',
    claim_owner      TEXT,
    claim_token      INTEGER NOT NULL DEFAULT 0,
    claim_expires_at INTEGER,
    ready_at         INTEGER NOT NULL,
    outcome          TEXT,
    journaled        INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (instance, run_id, op)
);

CREATE INDEX activity_tasks_claim ON activity_tasks (instance, queue, priority DESC, ready_at)
    WHERE state IN ('pending', 'claimed');
