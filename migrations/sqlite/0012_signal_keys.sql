-- Idempotent signals: a signal sent with an idempotency key is delivered
-- once per run, however often it is sent (a retrying client, the CLI, the
-- HTTP API). A resend with the same key finds the first one here.
ALTER TABLE signals ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX signals_idempotency ON signals (instance, run_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
