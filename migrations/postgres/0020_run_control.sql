-- Run control: pause, resume, retry and reset.
-- `paused_at`: when the run was paused; while set, no dispatcher claims the
-- run (signals and activity results still arrive and wait).
-- `run_resets`: one row per reset (or retry) of a run: to which journal
-- entry, why, the state it was in. `superseded_events`: the journal
-- entries a reset took out of `events` (they are history, never replayed),
-- under the reset that superseded them; the replay reads `events` only.
ALTER TABLE runs ADD COLUMN paused_at TIMESTAMPTZ;

CREATE TABLE run_resets (
    instance       TEXT        NOT NULL,
    run_id         TEXT        NOT NULL,
    reset_id       BIGINT      NOT NULL,
    kind           TEXT        NOT NULL,
    to_seq         BIGINT      NOT NULL,
    reason         TEXT,
    previous_state TEXT        NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (instance, run_id, reset_id)
);

CREATE TABLE superseded_events (
    instance    TEXT        NOT NULL,
    run_id      TEXT        NOT NULL,
    reset_id    BIGINT      NOT NULL,
    seq         BIGINT      NOT NULL,
    kind        TEXT        NOT NULL,
    body        TEXT        NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (instance, run_id, reset_id, seq)
);
