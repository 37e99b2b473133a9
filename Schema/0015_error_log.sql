-- An error log that does not flood: one open row per record, direction and failure class, with
-- first seen, last seen, a repeat count and the first and last run it appeared in. A run that
-- logs the same failure again bumps the row instead of adding one; a record that syncs closes its
-- open rows (closed_at, closed_reason); closed rows stay as history.
--
-- message is the class's text (what is wrong, what to do) without record ids or values, so
-- GROUP BY message gives one line per kind; record_message is the same failure told about the
-- record, naming it and the values concerned.
--
-- Privileges: couplet_worker inserts, bumps and closes rows; couplet_admin and couplet_reader read.

ALTER TABLE couplet.sync_errors RENAME COLUMN created_at TO first_seen_at;
ALTER TABLE couplet.sync_errors RENAME COLUMN run_id TO first_run_id;

ALTER TABLE couplet.sync_errors
    ADD COLUMN last_seen_at   timestamptz,
    ADD COLUMN last_run_id    bigint,
    ADD COLUMN occurrences    integer NOT NULL DEFAULT 1 CHECK (occurrences > 0),
    ADD COLUMN record_message text,
    ADD COLUMN closed_at      timestamptz,
    ADD COLUMN closed_reason  text CHECK (closed_reason IN ('synced', 'superseded', 'uncoupled', 'deleted')),
    ADD COLUMN record_id      text GENERATED ALWAYS AS (
        CASE direction WHEN 'to_integration' THEN local_id ELSE integration_id END) STORED;

-- Rows logged before: the record's text was the message. Per record and class, the newest row
-- takes the others' count, first seen and first run, and they go; it stays open while the record
-- still fails that way (its failure or its coupling's says so), else it closes as synced.
UPDATE couplet.sync_errors SET record_message = message, last_seen_at = first_seen_at, last_run_id = first_run_id,
                               error_class = coalesce(error_class, 'unclassified');

WITH grouped AS (
    SELECT id,
           row_number() OVER (PARTITION BY mapping, direction, record_id, error_class ORDER BY first_seen_at DESC, id DESC) AS rank,
           count(*) OVER (PARTITION BY mapping, direction, record_id, error_class) AS occurrences,
           min(first_seen_at) OVER (PARTITION BY mapping, direction, record_id, error_class) AS first_seen_at,
           min(first_run_id) OVER (PARTITION BY mapping, direction, record_id, error_class) AS first_run_id
    FROM couplet.sync_errors),
newest AS (
    UPDATE couplet.sync_errors e
    SET occurrences = g.occurrences, first_seen_at = g.first_seen_at, first_run_id = g.first_run_id
    FROM grouped g WHERE g.id = e.id AND g.rank = 1)
DELETE FROM couplet.sync_errors e USING grouped g WHERE g.id = e.id AND g.rank > 1;

UPDATE couplet.sync_errors e SET closed_at = now(), closed_reason = 'synced'
WHERE NOT EXISTS (SELECT FROM couplet.sync_failures f
                  WHERE f.mapping = e.mapping AND f.record_id = e.record_id AND f.error_class = e.error_class
                    AND f.side = CASE e.direction WHEN 'to_integration' THEN 'local' ELSE 'integration' END)
  AND NOT EXISTS (SELECT FROM couplet.couplings c
                  WHERE c.mapping = e.mapping AND e.direction = 'to_integration' AND c.local_id = e.record_id
                    AND c.local_error_class = e.error_class)
  AND NOT EXISTS (SELECT FROM couplet.couplings c
                  WHERE c.mapping = e.mapping AND e.direction = 'from_integration' AND c.integration_id = e.record_id
                    AND c.integration_error_class = e.error_class);

ALTER TABLE couplet.sync_errors
    ALTER COLUMN last_seen_at SET NOT NULL,
    ALTER COLUMN last_seen_at SET DEFAULT now(),
    ALTER COLUMN error_class SET NOT NULL,
    ADD CONSTRAINT sync_errors_closed_reason CHECK ((closed_at IS NULL) = (closed_reason IS NULL));

CREATE UNIQUE INDEX sync_errors_open ON couplet.sync_errors (mapping, direction, record_id, error_class)
    WHERE closed_at IS NULL;
CREATE INDEX sync_errors_open_local ON couplet.sync_errors (mapping, local_id) WHERE closed_at IS NULL;
CREATE INDEX sync_errors_last_seen ON couplet.sync_errors (last_seen_at DESC);
DROP INDEX couplet.sync_errors_created;

COMMENT ON TABLE couplet.sync_errors IS
    'The sync error log: one open row (closed_at IS NULL) per mapping, direction, source record and failure class. A run that fails the record the same way again bumps occurrences, last_seen_at and last_run_id; the record syncing closes its open rows (closed_reason synced), failing another way closes them as superseded, its coupling removed or deleted as uncoupled or deleted. Closed rows stay as history';
COMMENT ON COLUMN couplet.sync_errors.message IS
    'What is wrong and what to do, without record ids or values: the same for every record failing the same way, so GROUP BY message gives one line per kind';
COMMENT ON COLUMN couplet.sync_errors.record_message IS
    'The same failure told about this record: its ids and the values concerned';
COMMENT ON COLUMN couplet.sync_errors.record_id IS
    'The source record of the direction (local_id to the integration, integration_id from it)';
COMMENT ON COLUMN couplet.sync_errors.occurrences IS
    'How many runs failed the record this way while the row was open';

-- The views keep their columns (created_at is when the error was first seen, run_id the run that
-- first logged it) and gain the log's.
CREATE OR REPLACE VIEW couplet.sync_errors_recent AS
SELECT e.first_seen_at AS created_at, e.mapping, e.direction, e.local_id, e.integration_id, e.message, e.detail,
       e.first_run_id AS run_id, e.error_class, e.record_message, e.occurrences, e.first_seen_at, e.last_seen_at,
       e.last_run_id, e.closed_at, e.closed_reason
FROM couplet.sync_errors e
WHERE e.last_seen_at > now() - interval '24 hours'
ORDER BY e.last_seen_at DESC;

COMMENT ON VIEW couplet.sync_errors_recent IS
    'Errors seen in the last 24 hours, open or closed since, newest first: one row per record and failure class';

CREATE OR REPLACE VIEW couplet.sync_health AS
SELECT m.name AS mapping,
       m.direction,
       m.enabled,
       last_full.finished_at  AS last_full_at,
       last_full.state        AS last_full_state,
       last_delta.finished_at AS last_delta_at,
       last_delta.state       AS last_delta_state,
       (SELECT count(*) FROM couplet.sync_errors e
        WHERE e.mapping = m.name AND e.last_seen_at > now() - interval '24 hours') AS errors_last_24h,
       (SELECT count(*) FROM couplet.couplings c WHERE c.mapping = m.name AND c.skipped)
     + (SELECT count(*) FROM couplet.sync_failures f WHERE f.mapping = m.name AND f.skipped) AS skipped_records,
       (SELECT count(*) FROM couplet.couplings c WHERE c.mapping = m.name) AS couplings,
       now() - m.local_watermark       AS local_watermark_lag,
       now() - m.integration_watermark AS integration_watermark_lag,
       (SELECT count(*) FROM couplet.sync_errors e WHERE e.mapping = m.name AND e.closed_at IS NULL) AS open_errors
FROM couplet.table_mappings m
LEFT JOIN LATERAL (
    SELECT r.finished_at, r.state FROM couplet.sync_runs r
    WHERE r.mapping = m.name AND r.kind = 'full' ORDER BY r.started_at DESC LIMIT 1) last_full ON true
LEFT JOIN LATERAL (
    SELECT r.finished_at, r.state FROM couplet.sync_runs r
    WHERE r.mapping = m.name AND r.kind = 'delta' ORDER BY r.started_at DESC LIMIT 1) last_delta ON true;

COMMENT ON VIEW couplet.sync_health IS
    'Per mapping: the last full and delta run, errors seen in the last 24 hours (one per record and failure class, however often it repeated), open errors (records failing now: couplet errors MAPPING), skipped records, couplings and watermark lag';

GRANT SELECT, UPDATE ON couplet.sync_errors TO couplet_worker;
