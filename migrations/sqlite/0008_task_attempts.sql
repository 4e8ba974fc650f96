-- Durable retry state of activity tasks: a retry is the same task row
-- claimed again, so any worker continues the count. `attempts_started`
-- grows with every claim; `attempts_ended` is set when a failed attempt
-- re-queues the task (fewer ended than started, one before this claim:
-- the previous attempt was lost with its worker). `first_attempt_at`
-- (ms since the epoch) is when the first attempt started, for the retry
-- policy's total horizon.
ALTER TABLE activity_tasks ADD COLUMN attempts_started INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activity_tasks ADD COLUMN attempts_ended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activity_tasks ADD COLUMN first_attempt_at INTEGER;
