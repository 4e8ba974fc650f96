-- Child workflows: a run started by another run of the same instance
-- (`start-child`) names its parent, the operation of the parent that
-- started it, and what becomes of it when the parent ends first
-- (`cancel`, `terminate` or `abandon`). The child's row is inserted in
-- the transaction that journals `child_started` in the parent; ending the
-- child wakes the parent in the transaction that ends it, and ending the
-- parent applies the policy to its unfinished children in the transaction
-- that ends it.
ALTER TABLE runs ADD COLUMN parent_run_id TEXT;
ALTER TABLE runs ADD COLUMN parent_op INTEGER;
ALTER TABLE runs ADD COLUMN parent_close TEXT;
CREATE INDEX runs_children ON runs (instance, parent_run_id) WHERE parent_run_id IS NOT NULL;
