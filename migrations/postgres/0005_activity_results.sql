-- Results of activities called with an idempotency key: a completed result
-- is reused (per instance) instead of running the activity again.
CREATE TABLE activity_results (
    instance        TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    activity        TEXT NOT NULL,
    output          TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (instance, idempotency_key)
);
