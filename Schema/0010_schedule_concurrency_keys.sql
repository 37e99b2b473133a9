-- Schedules carry a job concurrency key: Business Central's job queue category, so that the
-- recurring syncs of CUSTOMER, VENDOR and CONTACT, say, share one key and never run at the same time.
--
-- Privileges (roles from 0006) need no change: couplet_admin's table-level INSERT and UPDATE on
-- couplet.schedules cover the new column, as do the SELECT of couplet_worker and couplet_reader;
-- CREATE OR REPLACE keeps the grants of the function and of the view.

ALTER TABLE couplet.schedules
    ADD COLUMN concurrency_key text CHECK (length(concurrency_key) BETWEEN 1 AND 200);

COMMENT ON COLUMN couplet.schedules.concurrency_key IS
    'The concurrency key of the jobs the schedule enqueues (at most one job per key runs at a time), else NULL';

-- As in 0004, except that the job gets the schedule's concurrency key.
CREATE OR REPLACE FUNCTION couplet.fire_schedule_ticks(names text[], fire_times timestamptz[], scheduler uuid)
RETURNS TABLE (schedule_name text, fire_time timestamptz, outcome text, job_id bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    due record;
    s couplet.schedules;
    busy_job bigint;
BEGIN
    FOR due IN SELECT * FROM unnest(names, fire_times) AS d(name, fire_time) LOOP
        SELECT * INTO s FROM couplet.schedules WHERE name = due.name AND enabled;
        CONTINUE WHEN NOT FOUND;
        INSERT INTO couplet.schedule_ticks (schedule_name, fire_time, outcome, scheduler_id)
        VALUES (due.name, due.fire_time, 'enqueued', scheduler)
        ON CONFLICT DO NOTHING;
        CONTINUE WHEN NOT FOUND;
        busy_job := NULL;
        IF s.no_overlap THEN
            SELECT j.id INTO busy_job FROM couplet.jobs j
            WHERE j.schedule_name = s.name
              AND j.state IN ('scheduled', 'available', 'running', 'retryable', 'on_hold')
            LIMIT 1;
        END IF;
        IF busy_job IS NOT NULL THEN
            UPDATE couplet.schedule_ticks t SET outcome = 'skipped_overlap', job_id = busy_job
            WHERE t.schedule_name = due.name AND t.fire_time = due.fire_time;
            schedule_name := due.name; fire_time := due.fire_time; outcome := 'skipped_overlap'; job_id := busy_job;
        ELSE
            job_id := couplet.enqueue(s.job_kind, s.args, s.queue, s.priority, due.fire_time, s.max_attempts,
                                      NULL, s.concurrency_key, NULL, NULL, s.name);
            UPDATE couplet.schedule_ticks t SET job_id = fire_schedule_ticks.job_id
            WHERE t.schedule_name = due.name AND t.fire_time = due.fire_time;
            schedule_name := due.name; fire_time := due.fire_time; outcome := 'enqueued';
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

-- As in 0004, with the concurrency key appended (CREATE OR REPLACE VIEW may only append columns).
CREATE OR REPLACE VIEW couplet.schedule_status AS
SELECT s.name,
       s.expression,
       s.timezone,
       s.enabled,
       s.job_kind,
       last.fire_time  AS last_fire_time,
       last.outcome    AS last_outcome,
       j.state         AS last_job_state,
       s.next_fire_at  AS next_fire_time,
       s.misfire_policy,
       s.no_overlap,
       s.last_error,
       s.concurrency_key
FROM couplet.schedules s
LEFT JOIN LATERAL (
    SELECT t.fire_time, t.outcome, t.job_id FROM couplet.schedule_ticks t
    WHERE t.schedule_name = s.name ORDER BY t.fire_time DESC LIMIT 1
) last ON true
LEFT JOIN couplet.jobs j ON j.id = last.job_id;
