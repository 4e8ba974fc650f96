-- The W3C trace context (a `traceparent` string) the run was started with,
-- so every attempt's span joins the caller's trace. NULL: no trace.
ALTER TABLE runs ADD COLUMN trace_context TEXT;
