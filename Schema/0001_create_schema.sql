-- Couplet's coordination schema and the ledger of applied migrations.
-- Every later file in Schema/ adds to this schema; `couplet migrate` applies them in order.

CREATE SCHEMA IF NOT EXISTS couplet;

COMMENT ON SCHEMA couplet IS
    'Couplet: job queue, schedules, table mappings, couplings and sync logs (see README.md)';

CREATE TABLE couplet.schema_migrations (
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    applied_by  text        NOT NULL DEFAULT current_user
);

COMMENT ON TABLE couplet.schema_migrations IS
    'One row per applied file of Schema/; checksum = encode(sha256(convert_to(file text, ''UTF8'')), ''hex'')';
