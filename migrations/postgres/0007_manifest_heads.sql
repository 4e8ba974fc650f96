-- The version of each workflow a host last published from its manifest's
-- file. A host starting with the same file leaves the current version
-- alone (a `deploy` made since stays current); a changed file is made
-- current.
ALTER TABLE module_heads ADD COLUMN manifest_hash TEXT;
