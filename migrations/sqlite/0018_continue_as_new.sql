-- Continue-as-new: a run that ends `continued` names the next run of its
-- chain (`continued_to`), created in the transaction that ends it; that
-- run names it back (`continued_from`), the chain's first run
-- (`chain_root`) and its position in the chain (`chain_seq`, 1 for the
-- first continuation; the first run has none of these). `await`, cancel,
-- terminate and signals addressed to an earlier run of a chain follow
-- `continued_to`; `show` lists the chain by `chain_root`.
ALTER TABLE runs ADD COLUMN continued_from TEXT;
ALTER TABLE runs ADD COLUMN continued_to TEXT;
ALTER TABLE runs ADD COLUMN chain_root TEXT;
ALTER TABLE runs ADD COLUMN chain_seq INTEGER;
CREATE INDEX runs_chain ON runs (instance, chain_root) WHERE chain_root IS NOT NULL;
