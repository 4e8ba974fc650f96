-- The runs whose lease may expire, by expiry: what the claim query's
-- expired-lease branch and the recovery scan read. On `runs_dispatch`
-- (instance, state, wake_at) that branch walked every index entry of
-- state 'running', dead ones included: after a burst, each run that ran
-- and suspended leaves one until vacuum, and among 100,000 parked runs a
-- claim took 14 ms instead of 0.15. Here the range `lease_expires_at <
-- now()` skips the entries of leases that were still live when their run
-- moved on. A lease renewal now updates an indexed column (no HOT update);
-- claims and suspensions changed `state` already.
CREATE INDEX runs_leased ON runs (instance, lease_expires_at) WHERE state = 'running';
