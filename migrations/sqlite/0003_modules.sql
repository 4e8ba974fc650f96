-- Deployed workflow module versions, content-addressed, kept in the database
-- so any host can load the exact version a run recorded.
CREATE TABLE modules (
    instance    TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    workflow    TEXT    NOT NULL,
    bytes       BLOB    NOT NULL,
    deployed_at INTEGER NOT NULL,
    PRIMARY KEY (instance, hash)
);

-- The version new runs of each workflow start on.
CREATE TABLE module_heads (
    instance   TEXT    NOT NULL,
    workflow   TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (instance, workflow)
);
