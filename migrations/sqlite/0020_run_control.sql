-- Run control: pause, resume, retry and reset (see the Postgres migration).
ALTER TABLE runs ADD COLUMN paused_at INTEGER;

CREATE TABLE run_resets (
    instance       TEXT    NOT NULL,
    run_id         TEXT    NOT NULL,
    reset_id       INTEGER NOT NULL,
    kind           TEXT    NOT NULL,
    to_seq         INTEGER NOT NULL,
    reason         TEXT,
    previous_state TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (instance, run_id, reset_id)
);

CREATE TABLE superseded_events (
    instance    TEXT    NOT NULL,
    run_id      TEXT    NOT NULL,
    reset_id    INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (instance, run_id, reset_id, seq)
);
