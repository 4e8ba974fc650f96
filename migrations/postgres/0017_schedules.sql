-- Schedules: a workflow started at the ticks of a cron expression (in a
-- time zone) or once at a given time. Tick times are computed by the host
-- from the expression, so they are stored as milliseconds since the epoch
-- (UTC) in both stores. Each tick starts the run `NAME@TICK` (TICK in
-- RFC 3339, UTC): the run id is the same on every host, so a tick starts
-- at most one run; `next_fire_ms` moves on only by a compare-and-set from
-- the tick just handled, after its run exists, so no tick is lost when a
-- host dies in between.
CREATE TABLE schedules (
    instance      TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    workflow      TEXT    NOT NULL,
    input         TEXT    NOT NULL,
    -- exactly one of cron and at_ms is set
    cron          TEXT,
    time_zone     TEXT    NOT NULL,
    at_ms         BIGINT,
    -- 'skip': a tick is skipped while the run of the last fired one is unfinished; 'allow'
    overlap       TEXT    NOT NULL,
    -- a tick older than this when handled is skipped (counted in `skipped`)
    catch_up_ms   BIGINT  NOT NULL,
    paused        BIGINT  NOT NULL DEFAULT 0,
    -- NULL: nothing more to fire (a one-shot schedule that fired)
    next_fire_ms  BIGINT,
    last_run_id   TEXT,
    fired         BIGINT  NOT NULL DEFAULT 0,
    skipped       BIGINT  NOT NULL DEFAULT 0,
    -- 'manifest' or 'api': who declared it
    origin        TEXT    NOT NULL,
    PRIMARY KEY (instance, name)
);
CREATE INDEX schedules_next_fire ON schedules (instance, next_fire_ms) WHERE paused = 0 AND next_fire_ms IS NOT NULL;
