-- The full synchronization review: Business Central's page that runs every mapping's full sync
-- once, each only when every mapping it depends on has finished.
--
-- `couplet review run` fills one row per enabled mapping and enqueues the full syncs whose
-- dependencies are met; each full sync job that ends updates its row and enqueues the mappings
-- that became ready, so the review goes on without the command that started it.

CREATE TABLE couplet.sync_review (
    mapping      text        PRIMARY KEY REFERENCES couplet.table_mappings (name) ON DELETE CASCADE,
    depends_on   text[]      NOT NULL DEFAULT '{}',
    state        text        NOT NULL DEFAULT 'waiting'
                             CHECK (state IN ('waiting', 'enqueued', 'finished', 'failed', 'blocked')),
    job_id       bigint,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    message      text
);

COMMENT ON TABLE couplet.sync_review IS
    'The full synchronization review: per mapping, its full sync waiting for its dependencies, enqueued (job_id), finished, failed, or blocked by a failed dependency';

-- Privileges (roles from 0006): an administrator starts a review; the full sync jobs move it on.
GRANT SELECT, INSERT, UPDATE, DELETE ON couplet.sync_review TO couplet_admin;
GRANT SELECT, UPDATE ON couplet.sync_review TO couplet_worker;
GRANT SELECT ON couplet.sync_review TO couplet_reader;
