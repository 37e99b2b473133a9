-- Key-range chunks of full syncs, shared by several workers.
--
-- A full sync of a big table splits each direction's source into chunks of about `chunk_rows`
-- records by key. The job that started the run and the helper jobs it enqueues
-- (`sync.full-chunks`) claim pending chunks with FOR UPDATE SKIP LOCKED, sync them and mark them
-- done; a chunk whose job stopped running (its worker died) goes back to pending. When every chunk
-- is done, the starting job looks for deleted records and advances the watermark.

CREATE TABLE couplet.sync_chunks (
    run_id          bigint      NOT NULL REFERENCES couplet.sync_runs (id) ON DELETE CASCADE,
    chunk           integer     NOT NULL,
    after_key       text,
    up_to_key       text,
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done')),
    job_id          bigint,
    attempt         integer,
    records         integer     NOT NULL DEFAULT 0,
    newest_modified timestamptz,
    oldest_left     timestamptz,
    started_at      timestamptz,
    finished_at     timestamptz,
    PRIMARY KEY (run_id, chunk)
);

COMMENT ON TABLE couplet.sync_chunks IS
    'Key-range chunks of full sync runs: keys after after_key up to up_to_key (NULL: open end), the job syncing each, and what it saw';

CREATE INDEX sync_chunks_pending ON couplet.sync_chunks (run_id, chunk) WHERE state = 'pending';

-- Progress of running full syncs, per run: chunks done of all, records read so far.
CREATE VIEW couplet.sync_chunk_progress AS
SELECT r.id AS run_id, r.mapping, r.direction, r.job_id, r.started_at,
       count(*) AS chunks,
       count(*) FILTER (WHERE c.state = 'done') AS chunks_done,
       count(*) FILTER (WHERE c.state = 'running') AS chunks_running,
       count(DISTINCT c.job_id) FILTER (WHERE c.state = 'running') AS jobs_working,
       sum(c.records) AS records_read
FROM couplet.sync_runs r JOIN couplet.sync_chunks c ON c.run_id = r.id
WHERE r.state = 'running'
GROUP BY r.id;

-- Privileges (roles from 0006): the full sync's job and its helpers plan, claim and finish chunks.
GRANT SELECT, INSERT, UPDATE ON couplet.sync_chunks TO couplet_worker;
GRANT SELECT ON couplet.sync_chunks, couplet.sync_chunk_progress TO couplet_admin, couplet_reader;
