CREATE TABLE jobs (
    id               BIGSERIAL PRIMARY KEY,
    tenant           TEXT    NOT NULL,
    environment      TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    payload          BYTEA   NOT NULL,
    state            TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    run_after        BIGINT  NOT NULL,
    lease_owner      TEXT    NOT NULL DEFAULT '',
    lease_until      BIGINT  NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error            TEXT    NOT NULL DEFAULT '',
    created_by       TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    started_at       BIGINT  NOT NULL DEFAULT 0,
    finished_at      BIGINT  NOT NULL DEFAULT 0
);

CREATE INDEX jobs_open ON jobs (state, run_after);
CREATE INDEX jobs_deployment ON jobs (tenant, environment, name, id);

CREATE TABLE job_events (
    job_id  BIGINT  NOT NULL,
    seq     INTEGER NOT NULL,
    at      BIGINT  NOT NULL,
    level   TEXT    NOT NULL,
    service TEXT    NOT NULL,
    replica TEXT    NOT NULL,
    message TEXT    NOT NULL,
    PRIMARY KEY (job_id, seq)
);
