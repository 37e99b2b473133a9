-- Each mapping's latest `couplet verify`: what it checked and found, and how many problems it left
-- (differences, orphaned couplings, pairs that cannot be compared, uncoupled records that would
-- couple by match, groups of duplicates; after --repair, what the repair could not settle).
-- Processes serving /metrics export it as couplet_verify_problems and couplet_verify_timestamp_seconds,
-- so an alert fires when a verify run from cron finds the two systems apart.
CREATE TABLE couplet.verify_results (
    mapping            text        PRIMARY KEY REFERENCES couplet.table_mappings (name) ON UPDATE CASCADE ON DELETE CASCADE,
    verified_at        timestamptz NOT NULL DEFAULT now(),
    checked            bigint      NOT NULL CHECK (checked >= 0),
    differing          bigint      NOT NULL CHECK (differing >= 0),
    orphaned           bigint      NOT NULL CHECK (orphaned >= 0),
    not_comparable     bigint      NOT NULL CHECK (not_comparable >= 0),
    would_match        bigint      NOT NULL CHECK (would_match >= 0),
    duplicate_groups   bigint      NOT NULL CHECK (duplicate_groups >= 0),
    repaired           bigint      CHECK (repaired >= 0),
    problems_remaining bigint      NOT NULL CHECK (problems_remaining >= 0)
);

COMMENT ON TABLE couplet.verify_results IS
    'Each mapping''s latest couplet verify: pairs checked, what differed, and the problems it left (repaired is NULL without --repair)';

GRANT SELECT ON couplet.verify_results TO couplet_admin, couplet_reader, couplet_worker;
GRANT INSERT, UPDATE ON couplet.verify_results TO couplet_admin;
