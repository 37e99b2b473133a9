-- Monitoring: a worker's /readyz compares the applied migrations with those its binary knows, so
-- couplet_worker reads the ledger (versions, names, checksums and times: nothing secret).

GRANT SELECT ON couplet.schema_migrations TO couplet_worker;
