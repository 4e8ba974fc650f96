-- The runs whose lease may expire, by expiry: what the claim's
-- expired-lease candidates and the recovery scan read. Without it SQLite
-- scanned the whole table for them (`runs_dispatch` leads with `state`,
-- whose statistics make one state look like most of the table).
CREATE INDEX runs_leased ON runs (instance, lease_expires_at) WHERE state = 'running';
