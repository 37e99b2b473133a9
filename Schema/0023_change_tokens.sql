-- Change tracking of the endpoints that have it (Dataverse): per mapping side, the opaque token
-- (Dataverse's delta token) after which the next delta reads the changes, deletions included.
-- A run obtains a token before it reads and stores it once the read succeeded, guarded like the
-- watermarks; a token the service refuses (expired) is cleared and the pass reads every record.

ALTER TABLE couplet.table_mappings
    ADD COLUMN local_change_token       text CHECK (length(local_change_token) BETWEEN 1 AND 4000),
    ADD COLUMN integration_change_token text CHECK (length(integration_change_token) BETWEEN 1 AND 4000);

COMMENT ON COLUMN couplet.table_mappings.local_change_token IS
    'Opaque, the local endpoint''s: where its change tracking resumes (NULL: none yet, or the endpoint has none)';
COMMENT ON COLUMN couplet.table_mappings.integration_change_token IS
    'Opaque, the integration endpoint''s: where its change tracking resumes, e.g. a Dataverse delta token (NULL: none yet, or the endpoint has none)';

GRANT UPDATE (local_change_token, integration_change_token) ON couplet.table_mappings TO couplet_worker;
