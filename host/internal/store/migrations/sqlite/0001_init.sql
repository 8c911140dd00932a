CREATE TABLE deployments (
    tenant        TEXT    NOT NULL,
    environment   TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    backend       TEXT    NOT NULL,
    spec          BLOB    NOT NULL,
    state         BLOB,
    status        BLOB,
    revision      INTEGER NOT NULL DEFAULT 0,
    destroy_error TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant, environment, name)
);

CREATE TABLE revisions (
    tenant      TEXT    NOT NULL,
    environment TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    number      INTEGER NOT NULL,
    spec        BLOB    NOT NULL,
    images      BLOB    NOT NULL,
    source_hash TEXT    NOT NULL,
    applied_by  TEXT    NOT NULL,
    applied_at  INTEGER NOT NULL,
    outcome     TEXT    NOT NULL,
    error       TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (tenant, environment, name, number)
);

CREATE TABLE audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    tenant     TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    decision   TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    request_id TEXT    NOT NULL
);

CREATE INDEX audit_tenant_at ON audit (tenant, at);
