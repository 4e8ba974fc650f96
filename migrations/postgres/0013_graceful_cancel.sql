-- A cancellation a workflow can handle: `cancel` records when it was
-- requested here; the engine delivers it to the workflow (its waits on
-- operations started before complete as cancelled) and the workflow may
-- clean up within its budget before the run ends as cancelled.
-- `cancel_requested_at` keeps its meaning: the hard stop (`terminate`).
ALTER TABLE runs ADD COLUMN graceful_cancel_at TIMESTAMPTZ;
