-- The stream of run state changes reads an instance's runs by their last change.
CREATE INDEX runs_updated ON runs (instance, updated_at);
