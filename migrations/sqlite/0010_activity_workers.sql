-- Who serves which activities: every host whose activity dispatcher runs
-- for an instance announces the activity names and task queues it serves,
-- and renews the row while it lives (`expires_at`). A task no live row
-- serves is shown as such by `continuum show`, logged as a warning, and
-- fails with `unknown_activity` past its schedule-to-start timeout.
CREATE TABLE activity_workers (
    instance   TEXT    NOT NULL,
    owner      TEXT    NOT NULL,
    activities TEXT    NOT NULL,
    queues     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (instance, owner)
);

-- When (ms since the epoch) a task no attempt of which has started yet
-- fails for want of a worker (its call's schedule-to-start timeout);
-- NULL: it waits.
ALTER TABLE activity_tasks ADD COLUMN start_deadline INTEGER;
CREATE INDEX activity_tasks_start_deadline ON activity_tasks (instance, start_deadline)
    WHERE start_deadline IS NOT NULL AND state = 'pending';
