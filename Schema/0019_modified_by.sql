-- Echo by identity: a side may name a modified-by column, which its writers stamp with the database
-- role that made the change (a trigger setting it to current_user is enough). A delta then takes a
-- record last modified by the integration's own login on that endpoint for the integration's write,
-- never for a person's change — as Business Central ignores CRM rows last modified by its
-- integration user — which closes the window between a write and its coupling from a second side.

ALTER TABLE couplet.table_mappings
    ADD COLUMN local_modified_by text,
    ADD COLUMN integration_modified_by text;

COMMENT ON COLUMN couplet.table_mappings.local_modified_by IS
    'The local column naming the database role that last changed a record, if any: a delta reads a record the worker''s own endpoint login changed as the integration''s write';
COMMENT ON COLUMN couplet.table_mappings.integration_modified_by IS
    'The integration column naming the database role that last changed a record, if any; see local_modified_by';
