-- Timers are fired by the dispatcher: a run suspended on a timer has its
-- `wake_at` set to the timer's due time, and the dispatcher sleeps until the
-- instance's next `wake_at`. The `timers` table duplicated that.
DROP INDEX IF EXISTS timers_due;
DROP TABLE IF EXISTS timers;
