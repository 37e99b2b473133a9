-- Row versions: an endpoint that keeps a version of each record finer than its modified-on
-- (Dataverse and Business Central: the record's etag) has it stored beside the modified-on,
-- so that a change in the same second as the integration's own write (Dataverse stamps
-- modifiedon in whole seconds) still counts as a change. NULL where the modified-on alone
-- tells the states apart (a PostgreSQL endpoint), and in couplings stored before this migration.

ALTER TABLE couplet.couplings
    ADD COLUMN local_version       text CHECK (length(local_version) BETWEEN 1 AND 200),
    ADD COLUMN integration_version text CHECK (length(integration_version) BETWEEN 1 AND 200);

COMMENT ON COLUMN couplet.couplings.local_version IS
    'The local record''s row version (etag) as of the last successful sync, with local_modified_at; NULL: the endpoint has none, or not known';
COMMENT ON COLUMN couplet.couplings.integration_version IS
    'The integration record''s row version (etag) as of the last successful sync, with integration_modified_at; NULL: the endpoint has none, or not known';

ALTER TABLE couplet.write_intents
    ADD COLUMN source_version text CHECK (length(source_version) BETWEEN 1 AND 200);

COMMENT ON COLUMN couplet.write_intents.source_version IS
    'The source record''s row version (etag) the write was computed from, with source_modified_at; NULL where the endpoint has none';
