-- Deployed workflow module versions, content-addressed, kept in the database
-- so any host can load the exact version a run recorded.
CREATE TABLE modules (
    instance    TEXT        NOT NULL,
    hash        TEXT        NOT NULL,
    workflow    TEXT        NOT NULL,
    bytes       BYTEA       NOT NULL,
    deployed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (instance, hash)
);

-- The version new runs of each workflow start on.
CREATE TABLE module_heads (
    instance   TEXT        NOT NULL,
    workflow   TEXT        NOT NULL,
    hash       TEXT        NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (instance, workflow)
);
