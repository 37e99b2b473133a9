-- The sync engine: endpoints, table and field mappings, couplings, runs and errors.

CREATE TABLE couplet.endpoints (
    name         text        PRIMARY KEY CHECK (name ~ '^[A-Za-z][A-Za-z0-9_]{0,62}$'),
    kind         text        NOT NULL DEFAULT 'postgres' CHECK (kind IN ('postgres')),
    description  text,
    created_at   timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE couplet.endpoints IS
    'The systems being integrated. The connection string is never stored: it comes from the environment variable COUPLET_ENDPOINT_<NAME>_URL of the worker';

CREATE TABLE couplet.table_mappings (
    name                   text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_-]{1,63}$'),
    local_endpoint         text        NOT NULL REFERENCES couplet.endpoints (name),
    local_table            text        NOT NULL,
    local_key              text        NOT NULL,
    local_modified         text        NOT NULL,
    local_filter           text,
    integration_endpoint   text        NOT NULL REFERENCES couplet.endpoints (name),
    integration_table      text        NOT NULL,
    integration_key        text        NOT NULL,
    integration_modified   text        NOT NULL,
    integration_filter     text,
    direction              text        NOT NULL DEFAULT 'bidirectional'
                               CHECK (direction IN ('to_integration', 'from_integration', 'bidirectional')),
    sync_only_coupled      boolean     NOT NULL DEFAULT true,
    allow_insert           boolean     NOT NULL DEFAULT true,
    update_conflict        text        NOT NULL DEFAULT 'fail'
                               CHECK (update_conflict IN ('fail', 'send_to_integration', 'get_from_integration')),
    deletion_conflict      text        NOT NULL DEFAULT 'fail'
                               CHECK (deletion_conflict IN ('fail', 'restore', 'remove_coupling')),
    local_template         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    integration_template   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    depends_on             text[]      NOT NULL DEFAULT '{}',
    batch_size             integer     NOT NULL DEFAULT 1000 CHECK (batch_size BETWEEN 1 AND 100000),
    enabled                boolean     NOT NULL DEFAULT true,
    local_watermark        timestamptz,
    integration_watermark  timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE couplet.table_mappings IS
    'One row per synchronized table pair; the templates are default values ({"column": "text"}) for records a sync creates on that side. The watermarks are the newest modified-on fully handled on each side, never past the start of a transaction still open when the run read (so a late commit is never missed)';

CREATE TABLE couplet.field_mappings (
    mapping                  text    NOT NULL REFERENCES couplet.table_mappings (name) ON DELETE CASCADE,
    position                 integer NOT NULL,
    local_field              text    NOT NULL,
    integration_field        text    NOT NULL,
    direction                text    NOT NULL DEFAULT 'bidirectional'
                                 CHECK (direction IN ('to_integration', 'from_integration', 'bidirectional')),
    to_integration_rule      text,
    from_integration_rule    text,
    constant                 text,
    not_null                 boolean NOT NULL DEFAULT false,
    clear_on_failure         boolean NOT NULL DEFAULT false,
    comparison               text    NOT NULL DEFAULT 'text' CHECK (comparison IN ('text', 'numeric', 'date_time')),
    match_priority           integer CHECK (match_priority >= 0),
    match_case_sensitive     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (mapping, position)
);

COMMENT ON COLUMN couplet.field_mappings.match_priority IS
    'Used for match-based coupling when set: fields of the lowest priority are tried first, together';

CREATE TABLE couplet.couplings (
    mapping                  text        NOT NULL REFERENCES couplet.table_mappings (name) ON DELETE CASCADE,
    local_id                 text        NOT NULL,
    integration_id           text        NOT NULL,
    local_modified_at        timestamptz,
    integration_modified_at  timestamptz,
    local_result             text        CHECK (local_result IN ('success', 'failure')),
    integration_result       text        CHECK (integration_result IN ('success', 'failure')),
    local_error              text,
    integration_error        text,
    local_run_at             timestamptz,
    integration_run_at       timestamptz,
    skipped                  boolean     NOT NULL DEFAULT false,
    coupled_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mapping, local_id),
    UNIQUE (mapping, integration_id)
);

COMMENT ON TABLE couplet.couplings IS
    'One row per coupled pair of records: the last synced modified-on, result and error of each side, and whether the pair is skipped after failing the same way twice';

CREATE INDEX couplings_failed ON couplet.couplings (mapping)
    WHERE local_result = 'failure' OR integration_result = 'failure';

-- Records without a coupling that failed (an insert refused, a reference not coupled): retried first next run.
CREATE TABLE couplet.sync_failures (
    mapping     text        NOT NULL REFERENCES couplet.table_mappings (name) ON DELETE CASCADE,
    side        text        NOT NULL CHECK (side IN ('local', 'integration')),
    record_id   text        NOT NULL,
    error       text        NOT NULL,
    skipped     boolean     NOT NULL DEFAULT false,
    failed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mapping, side, record_id)
);

CREATE TABLE couplet.sync_runs (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mapping      text        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('full', 'delta', 'records', 'match')),
    direction    text        NOT NULL CHECK (direction IN ('to_integration', 'from_integration')),
    job_id       bigint,
    state        text        NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'succeeded', 'failed')),
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    inserted     integer     NOT NULL DEFAULT 0,
    modified     integer     NOT NULL DEFAULT 0,
    deleted      integer     NOT NULL DEFAULT 0,
    unchanged    integer     NOT NULL DEFAULT 0,
    skipped      integer     NOT NULL DEFAULT 0,
    failed       integer     NOT NULL DEFAULT 0,
    coupled      integer     NOT NULL DEFAULT 0,
    uncoupled    integer     NOT NULL DEFAULT 0,
    message      text
);

CREATE INDEX sync_runs_mapping ON couplet.sync_runs (mapping, started_at DESC);

CREATE TABLE couplet.sync_errors (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id          bigint      NOT NULL REFERENCES couplet.sync_runs (id) ON DELETE CASCADE,
    mapping         text        NOT NULL,
    direction       text        NOT NULL,
    local_id        text,
    integration_id  text,
    message         text        NOT NULL,
    detail          text,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX sync_errors_created ON couplet.sync_errors (created_at DESC);

CREATE VIEW couplet.sync_errors_recent AS
SELECT e.created_at, e.mapping, e.direction, e.local_id, e.integration_id, e.message, e.detail, e.run_id
FROM couplet.sync_errors e
WHERE e.created_at > now() - interval '24 hours'
ORDER BY e.created_at DESC;

CREATE VIEW couplet.sync_health AS
SELECT m.name AS mapping,
       m.direction,
       m.enabled,
       last_full.finished_at  AS last_full_at,
       last_full.state        AS last_full_state,
       last_delta.finished_at AS last_delta_at,
       last_delta.state       AS last_delta_state,
       (SELECT count(*) FROM couplet.sync_errors e
        WHERE e.mapping = m.name AND e.created_at > now() - interval '24 hours') AS errors_last_24h,
       (SELECT count(*) FROM couplet.couplings c WHERE c.mapping = m.name AND c.skipped)
     + (SELECT count(*) FROM couplet.sync_failures f WHERE f.mapping = m.name AND f.skipped) AS skipped_records,
       (SELECT count(*) FROM couplet.couplings c WHERE c.mapping = m.name) AS couplings,
       now() - m.local_watermark       AS local_watermark_lag,
       now() - m.integration_watermark AS integration_watermark_lag
FROM couplet.table_mappings m
LEFT JOIN LATERAL (
    SELECT r.finished_at, r.state FROM couplet.sync_runs r
    WHERE r.mapping = m.name AND r.kind = 'full' ORDER BY r.started_at DESC LIMIT 1) last_full ON true
LEFT JOIN LATERAL (
    SELECT r.finished_at, r.state FROM couplet.sync_runs r
    WHERE r.mapping = m.name AND r.kind = 'delta' ORDER BY r.started_at DESC LIMIT 1) last_delta ON true;

COMMENT ON VIEW couplet.sync_health IS
    'Per mapping: the last full and delta run, errors in the last 24 hours, skipped records, couplings and watermark lag';
