-- Continuum journal schema (Postgres). Every table is keyed by
-- (instance, run_id[, ...]) so several instances can share one database and
-- hold the same run id. JSON payloads are stored as text, exactly as written.

CREATE TABLE runs (
    instance            TEXT        NOT NULL,
    run_id              TEXT        NOT NULL,
    workflow            TEXT        NOT NULL,
    module_hash         TEXT        NOT NULL,
    input               TEXT        NOT NULL,
    state               TEXT        NOT NULL,
    output              TEXT,
    error               TEXT,
    lease_owner         TEXT,
    lease_token         BIGINT      NOT NULL DEFAULT 0,
    lease_expires_at    TIMESTAMPTZ,
    wake_at             TIMESTAMPTZ,
    wake_gen            BIGINT      NOT NULL DEFAULT 0,
    cancel_requested_at TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (instance, run_id)
);

-- The dispatcher's query: ready runs of an instance by state and wake time.
CREATE INDEX runs_dispatch ON runs (instance, state, wake_at);
-- list_runs: newest first.
CREATE INDEX runs_created ON runs (instance, created_at DESC);

-- The journal. The primary key guarantees every entry exists exactly once.
CREATE TABLE events (
    instance    TEXT        NOT NULL,
    run_id      TEXT        NOT NULL,
    seq         BIGINT      NOT NULL,
    kind        TEXT        NOT NULL,
    body        TEXT        NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (instance, run_id, seq)
);

CREATE TABLE timers (
    instance TEXT        NOT NULL,
    run_id   TEXT        NOT NULL,
    op       BIGINT      NOT NULL,
    fire_at  TIMESTAMPTZ NOT NULL,
    fired_at TIMESTAMPTZ,
    PRIMARY KEY (instance, run_id, op)
);

CREATE INDEX timers_due ON timers (instance, fire_at) WHERE fired_at IS NULL;

-- The durable inbox: delivered in id order, marked consumed when journaled.
CREATE TABLE signals (
    id          BIGSERIAL   PRIMARY KEY,
    instance    TEXT        NOT NULL,
    run_id      TEXT        NOT NULL,
    name        TEXT        NOT NULL,
    payload     TEXT        NOT NULL,
    sent_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    consumed_at TIMESTAMPTZ
);

CREATE INDEX signals_inbox ON signals (instance, run_id, id) WHERE consumed_at IS NULL;

CREATE TABLE activity_tasks (
    instance         TEXT        NOT NULL,
    run_id           TEXT        NOT NULL,
    op               BIGINT      NOT NULL,
    name             TEXT        NOT NULL,
    input            TEXT        NOT NULL,
    options          TEXT        NOT NULL,
    queue            TEXT        NOT NULL,
    priority         INTEGER     NOT NULL DEFAULT 0,
    state            TEXT        NOT NULL DEFAULT 'pending',
    claim_owner      TEXT,
    claim_token      BIGINT      NOT NULL DEFAULT 0,
    claim_expires_at TIMESTAMPTZ,
    ready_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    outcome          TEXT,
    journaled        BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (instance, run_id, op)
);

-- Claiming: ready tasks of an instance's queue, highest priority first.
CREATE INDEX activity_tasks_claim ON activity_tasks (instance, queue, priority DESC, ready_at)
    WHERE state IN ('pending', 'claimed');
