-- The four roles of DESIGN.md, with the least privileges each needs. They are NOLOGIN group roles:
-- give a login its role with `couplet roles grant ROLE USER` (GRANT ROLE TO USER).
--
--   couplet_admin         integration administrator: endpoints, mappings, schedules, couplings; enqueue,
--                         retry, cancel, hold and resume jobs; reads everything
--   couplet_worker        what `couplet worker` and `couplet scheduler` processes do, and nothing else
--   couplet_reader        integration user: reads every table and view, changes nothing
--   couplet_availability  product availability user: USAGE on the schema only (EXECUTE on the
--                         availability function is granted where that function is created)
--
-- Roles belong to the cluster while grants belong to each database, and migrations of several
-- databases of one cluster may run at once: a role is created unless it exists, and a concurrent
-- creator losing the race (unique_violation) or finding it (duplicate_object) carries on.
-- Sequences need no grant: every generated id is an identity column, whose nextval is not checked.
-- A later migration that adds a table, view or function must grant on it to these roles itself.

DO $$
DECLARE
    role record;
BEGIN
    FOR role IN SELECT * FROM (VALUES
        ('couplet_admin', 'Couplet integration administrator: endpoints, mappings, schedules, couplings; enqueue, retry, cancel, hold and resume jobs; reads everything'),
        ('couplet_worker', 'Couplet worker and scheduler processes: claim, heartbeat and finish jobs, fire schedule ticks, write couplings, sync runs, errors and watermarks'),
        ('couplet_reader', 'Couplet integration user: reads the status views and every table of schema couplet, changes nothing'),
        ('couplet_availability', 'Couplet product availability user: calls the availability function only')
    ) AS r(name, comment) LOOP
        CONTINUE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = role.name);
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', role.name);
            EXECUTE format('COMMENT ON ROLE %I IS %L', role.name, role.comment);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- another database's migration created it meanwhile
        END;
    END LOOP;
END
$$;

GRANT USAGE ON SCHEMA couplet TO couplet_admin, couplet_worker, couplet_reader, couplet_availability;

-- Functions are executable by PUBLIC unless revoked: only the roles named below may call them.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA couplet FROM PUBLIC;

-- Reading: the administrator and the integration user read every table and view.
GRANT SELECT ON ALL TABLES IN SCHEMA couplet TO couplet_admin, couplet_reader;

-- The administrator sets the integration up and steers jobs (the job functions are SECURITY INVOKER,
-- so they act with the caller's own table privileges).
GRANT INSERT, UPDATE, DELETE ON couplet.endpoints, couplet.table_mappings, couplet.field_mappings,
    couplet.schedules, couplet.couplings TO couplet_admin;
GRANT UPDATE ON couplet.sync_failures TO couplet_admin;  -- couplet sync retry-skipped
GRANT INSERT, UPDATE ON couplet.jobs TO couplet_admin;
GRANT EXECUTE ON FUNCTION couplet.enqueue(text, jsonb, text, integer, timestamptz, integer, text, text, interval, timestamptz, text),
    couplet.retry_job(bigint), couplet.cancel_job(bigint), couplet.hold_job(bigint), couplet.resume_job(bigint),
    couplet.lock_job(bigint), couplet.refuse_job_change(text, couplet.jobs, text) TO couplet_admin;

-- Worker processes: claim, heartbeat, finish, rescue and prune jobs; register in workers.
GRANT SELECT, INSERT, UPDATE, DELETE ON couplet.jobs, couplet.workers TO couplet_worker;
GRANT SELECT, INSERT, DELETE ON couplet.job_attempts TO couplet_worker;
GRANT EXECUTE ON FUNCTION couplet.enqueue(text, jsonb, text, integer, timestamptz, integer, text, text, interval, timestamptz, text)
    TO couplet_worker;

-- Scheduler processes: the leader lease, the ticks, and each schedule's next fire time and last error.
GRANT SELECT, INSERT, UPDATE, DELETE ON couplet.scheduler_leader TO couplet_worker;
GRANT SELECT, INSERT, UPDATE ON couplet.schedule_ticks TO couplet_worker;
GRANT SELECT, UPDATE (next_fire_at, last_error) ON couplet.schedules TO couplet_worker;
GRANT EXECUTE ON FUNCTION couplet.fire_schedule_ticks(text[], timestamptz[], uuid) TO couplet_worker;

-- Sync jobs: read the mappings, advance the watermarks, write couplings, failures, runs and errors.
GRANT SELECT ON couplet.field_mappings TO couplet_worker;
GRANT SELECT, UPDATE (local_watermark, integration_watermark) ON couplet.table_mappings TO couplet_worker;
GRANT SELECT, INSERT, UPDATE, DELETE ON couplet.couplings, couplet.sync_failures TO couplet_worker;
GRANT SELECT, INSERT, UPDATE ON couplet.sync_runs TO couplet_worker;
GRANT INSERT ON couplet.sync_errors TO couplet_worker;
