-- Sync integrity: write intents (the integration's own record of what it is about to write, so a
-- rerun after a crash recognises its own writes), remembered deletions (a survivor of a deleted
-- counterpart is not re-created unless a person asks), failure classes (the skip rule compares
-- the class, not the server's text), the propagate deletion policy and cancelled runs.
--
-- Privileges: couplet_worker writes intents and remembered deletions; couplet_admin clears a
-- remembered deletion (couplet uncouple, couplet couple); couplet_reader reads both.

CREATE TABLE couplet.write_intents (
    mapping             text        NOT NULL REFERENCES couplet.table_mappings (name) ON DELETE CASCADE,
    direction           text        NOT NULL CHECK (direction IN ('to_integration', 'from_integration')),
    source_id           text        NOT NULL,
    operation           text        NOT NULL CHECK (operation IN ('insert', 'update')),
    target_id           text,
    key_assigned        boolean     NOT NULL DEFAULT false,
    expected            jsonb       NOT NULL,
    source_modified_at  timestamptz NOT NULL,
    run_id              bigint      NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mapping, direction, source_id)
);

COMMENT ON TABLE couplet.write_intents IS
    'What a sync batch is about to write to a target record, stored before the write and deleted with the coupling save in one transaction. A row left behind means the writer stopped in between: the next run of the direction compares the target record with "expected" (the column values the record holds after the write) and, if they agree, records the write in the coupling as the integration''s own instead of taking it for a person''s change. key_assigned: the target key was assigned by Couplet (a sequence value or a key derived from the source), so the record is Couplet''s whatever its values';

CREATE TABLE couplet.deleted_counterparts (
    mapping         text        NOT NULL REFERENCES couplet.table_mappings (name) ON DELETE CASCADE,
    side            text        NOT NULL CHECK (side IN ('local', 'integration')),
    record_id       text        NOT NULL,
    counterpart_id  text        NOT NULL,
    uncoupled_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mapping, side, record_id)
);

COMMENT ON TABLE couplet.deleted_counterparts IS
    'Records whose coupled counterpart was deleted and whose coupling the remove_coupling policy removed: they are not inserted on the other side again (that would undo a person''s deletion) until a person asks: couplet sync MAPPING --records ID, or couplet couple / uncouple';

ALTER TABLE couplet.couplings
    ADD COLUMN local_error_class text,
    ADD COLUMN integration_error_class text;

ALTER TABLE couplet.sync_failures ADD COLUMN error_class text;
ALTER TABLE couplet.sync_errors ADD COLUMN error_class text;

COMMENT ON COLUMN couplet.sync_errors.error_class IS
    'What kind of failure, independent of the record: e.g. write_refused:23514:customer_credit_check, uncoupled_reference:salesperson_code, update_conflict. GROUP BY it for one line per cause; a record failing twice in a row with the same class is skipped';

CREATE INDEX couplings_unsynced ON couplet.couplings (mapping)
    WHERE local_modified_at IS NULL OR integration_modified_at IS NULL;

ALTER TABLE couplet.table_mappings DROP CONSTRAINT table_mappings_deletion_conflict_check;
ALTER TABLE couplet.table_mappings ADD CONSTRAINT table_mappings_deletion_conflict_check
    CHECK (deletion_conflict IN ('fail', 'restore', 'remove_coupling', 'propagate'));

ALTER TABLE couplet.sync_runs DROP CONSTRAINT sync_runs_state_check;
ALTER TABLE couplet.sync_runs ADD CONSTRAINT sync_runs_state_check
    CHECK (state IN ('running', 'succeeded', 'failed', 'cancelled'));

GRANT SELECT, INSERT, UPDATE, DELETE ON couplet.write_intents, couplet.deleted_counterparts TO couplet_worker;
GRANT SELECT, DELETE ON couplet.deleted_counterparts TO couplet_admin;
GRANT SELECT ON couplet.write_intents TO couplet_admin;
GRANT SELECT ON couplet.write_intents, couplet.deleted_counterparts TO couplet_reader;
