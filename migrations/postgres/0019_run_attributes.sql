-- Run attributes: key/value pairs a workflow sets on its own run
-- (`set-attribute`, journaled as `attribute_set`), written in the
-- transaction that commits the journal entry; setting a key again replaces
-- its value. `created_at` is the run's, copied so that a listing filtered
-- by an attribute reads the filter's index in the listing's order (newest
-- first, then run id) and stops after a page.
CREATE TABLE run_attributes (
    instance    TEXT        NOT NULL,
    run_id      TEXT        NOT NULL,
    key         TEXT        NOT NULL,
    value       TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (instance, run_id, key)
);
CREATE INDEX run_attributes_filter ON run_attributes (instance, key, value, created_at DESC, run_id DESC);
