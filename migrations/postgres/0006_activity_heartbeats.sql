-- The latest heartbeat of each activity call still in progress: details an
-- activity reported (how far it got), kept across attempts and host crashes
-- so the next attempt can resume; removed when the call reaches its final
-- outcome.
CREATE TABLE activity_heartbeats (
    instance    TEXT        NOT NULL,
    run_id      TEXT        NOT NULL,
    op          BIGINT      NOT NULL,
    attempt     INTEGER     NOT NULL,
    details     TEXT        NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (instance, run_id, op)
);
