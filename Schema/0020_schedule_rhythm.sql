-- The rhythm of Business Central's recurring job queue entries, as schedule settings: the rerun
-- delay and the inactivity timeout.
--
-- Rerun delay: a schedule's `retry_delay` goes with each job it enqueues (`couplet.jobs.retry_delay`);
-- a failed attempt of the job runs again after exactly that long, whatever its kind's retry policy.
--
-- Inactivity timeout: a recurring job whose run found nothing to do goes on hold until a change in
-- its tables wakes it or the timeout passes (Business Central's job queue status "On Hold with
-- Inactivity Timeout"). A schedule with an inactivity timeout is on hold while the last job it
-- enqueued completed idle (its handler reported that it found nothing: `result` `{"idle": true}`):
-- its ticks until that job's tick plus the timeout are recorded as `held` and enqueue nothing; a
-- timeout of zero holds until woken (`couplet.schedule_holds`). `couplet.wake_schedule` ends a hold
-- at once by enqueueing the schedule's job (a `woken` tick): workers call it when a handler's probe
-- finds work, people through `couplet schedules wake`. The hold is derived from the ticks and jobs,
-- never stored, so there is no state to get out of step.

ALTER TABLE couplet.schedules
    ADD COLUMN inactivity_timeout interval CHECK (inactivity_timeout >= interval '0'),
    ADD COLUMN retry_delay interval CHECK (retry_delay >= interval '0');

ALTER TABLE couplet.jobs ADD COLUMN retry_delay interval CHECK (retry_delay >= interval '0');

COMMENT ON COLUMN couplet.schedules.retry_delay IS
    'The rerun delay of the jobs the schedule enqueues (couplet.jobs.retry_delay), else NULL: their kind''s retry policy';
COMMENT ON COLUMN couplet.jobs.retry_delay IS
    'How long after a failed attempt the next runs (Business Central''s rerun delay), else NULL: the kind''s retry policy';

COMMENT ON COLUMN couplet.schedules.inactivity_timeout IS
    'After a job that found nothing to do, how long the schedule holds its ticks unless woken (0: until woken); NULL: never held';

COMMENT ON COLUMN couplet.jobs.result IS
    'What the last successful attempt reported: {"idle": true} when it found nothing to do, else NULL';

ALTER TABLE couplet.schedule_ticks DROP CONSTRAINT schedule_ticks_outcome_check;
ALTER TABLE couplet.schedule_ticks
    ADD CONSTRAINT schedule_ticks_outcome_check CHECK (outcome IN ('enqueued', 'skipped_overlap', 'held', 'woken'));

COMMENT ON COLUMN couplet.schedule_ticks.outcome IS
    'enqueued; skipped_overlap (job_id: the job still pending or running); held (job_id: the idle job that put the schedule on hold); woken (enqueued out of turn by couplet.wake_schedule)';

-- The schedules on hold, each until when (infinity: until woken) and with the idle job that put it
-- there: the latest tick that enqueued a job, if that job completed idle, plus the timeout. A view,
-- not a function, so that everyone who reads couplet.schedule_status may read it.
CREATE VIEW couplet.schedule_holds AS
SELECT s.name,
       CASE WHEN s.inactivity_timeout = interval '0' THEN 'infinity'::timestamptz
            ELSE last.fire_time + s.inactivity_timeout END AS held_until,
       last.job_id AS idle_job
FROM couplet.schedules s
CROSS JOIN LATERAL (
    SELECT t.fire_time, t.job_id FROM couplet.schedule_ticks t
    WHERE t.schedule_name = s.name AND t.outcome IN ('enqueued', 'woken')
    ORDER BY t.fire_time DESC LIMIT 1
) last
JOIN couplet.jobs j ON j.id = last.job_id
WHERE s.inactivity_timeout IS NOT NULL AND j.state = 'completed' AND j.result @> '{"idle": true}';

COMMENT ON VIEW couplet.schedule_holds IS
    'Schedules whose latest job found nothing to do: held_until (infinity: until woken; past: the hold has ended), idle_job';

-- Handles one tick of `s` at `fire_time`, exactly once (the tick's primary key decides): records it
-- and enqueues the schedule's job, unless the previous job is still busy (no_overlap) or, for a
-- cron tick, the schedule is on hold. Returns nothing when the tick was handled before.
CREATE FUNCTION couplet.handle_schedule_tick(s couplet.schedules, fire_time timestamptz, scheduler uuid, woken boolean)
RETURNS TABLE (outcome text, job_id bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    tick_outcome text := CASE WHEN woken THEN 'woken' ELSE 'enqueued' END;
    other_job bigint;
BEGIN
    -- Read before this tick is recorded: the hold comes from the job of the tick before.
    IF NOT woken THEN
        SELECT h.idle_job INTO other_job FROM couplet.schedule_holds h
        WHERE h.name = s.name AND h.held_until > handle_schedule_tick.fire_time;
        IF other_job IS NOT NULL THEN tick_outcome := 'held'; END IF;
    END IF;
    INSERT INTO couplet.schedule_ticks (schedule_name, fire_time, outcome, scheduler_id)
    VALUES (s.name, handle_schedule_tick.fire_time, tick_outcome, scheduler)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN RETURN; END IF;
    IF s.no_overlap AND tick_outcome <> 'held' THEN
        SELECT j.id INTO other_job FROM couplet.jobs j
        WHERE j.schedule_name = s.name AND j.state IN ('scheduled', 'available', 'running', 'retryable', 'on_hold')
        LIMIT 1;
        IF other_job IS NOT NULL THEN tick_outcome := 'skipped_overlap'; END IF;
    END IF;
    IF tick_outcome IN ('enqueued', 'woken') THEN
        other_job := couplet.enqueue(s.job_kind, s.args, s.queue, s.priority, handle_schedule_tick.fire_time, s.max_attempts,
                                     NULL, s.concurrency_key, NULL, NULL, s.name);
        IF s.retry_delay IS NOT NULL THEN
            UPDATE couplet.jobs j SET retry_delay = s.retry_delay WHERE j.id = other_job;
        END IF;
    END IF;
    UPDATE couplet.schedule_ticks t SET outcome = tick_outcome, job_id = other_job
    WHERE t.schedule_name = s.name AND t.fire_time = handle_schedule_tick.fire_time;
    outcome := tick_outcome;
    job_id := other_job;
    RETURN NEXT;
END
$$;

-- As in 0010, each tick handled by couplet.handle_schedule_tick, which holds the ticks of a
-- schedule on hold.
CREATE OR REPLACE FUNCTION couplet.fire_schedule_ticks(names text[], fire_times timestamptz[], scheduler uuid)
RETURNS TABLE (schedule_name text, fire_time timestamptz, outcome text, job_id bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    due record;
    s couplet.schedules;
BEGIN
    FOR due IN SELECT * FROM unnest(names, fire_times) AS d(name, fire_time) LOOP
        SELECT * INTO s FROM couplet.schedules WHERE name = due.name AND enabled;
        CONTINUE WHEN NOT FOUND;
        schedule_name := due.name;
        fire_time := due.fire_time;
        FOR outcome, job_id IN SELECT * FROM couplet.handle_schedule_tick(s, due.fire_time, scheduler, false) LOOP
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;

-- Ends the hold of an enabled schedule now: enqueues its job at once as a `woken` tick (still
-- subject to no_overlap). Returns the job's id, or NULL when the schedule was not on hold (or is
-- disabled, or unknown). `waker` is the worker that found work, or the nil uuid for a person.
-- SECURITY DEFINER (owned by couplet_definer, 0013): the administrator who wakes a schedule by hand
-- may not write ticks or enqueue jobs for schedules otherwise.
CREATE FUNCTION couplet.wake_schedule(schedule text, waker uuid DEFAULT '00000000-0000-0000-0000-000000000000')
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = couplet, pg_temp
AS $$
DECLARE
    s couplet.schedules;
    handled record;
BEGIN
    SELECT * INTO s FROM couplet.schedules WHERE name = schedule AND enabled FOR UPDATE;
    IF NOT FOUND OR NOT EXISTS (SELECT FROM couplet.schedule_holds h WHERE h.name = schedule AND h.held_until > now()) THEN
        RETURN NULL;
    END IF;
    SELECT * INTO handled FROM couplet.handle_schedule_tick(s, now(), waker, true);
    RETURN handled.job_id;
END
$$;

-- As in 0010, with the inactivity timeout and the end of the current hold appended.
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
       s.concurrency_key,
       s.inactivity_timeout,
       CASE WHEN h.held_until > now() THEN h.held_until END AS held_until
FROM couplet.schedules s
LEFT JOIN couplet.schedule_holds h ON h.name = s.name
LEFT JOIN LATERAL (
    SELECT t.fire_time, t.outcome, t.job_id FROM couplet.schedule_ticks t
    WHERE t.schedule_name = s.name ORDER BY t.fire_time DESC LIMIT 1
) last ON true
LEFT JOIN couplet.jobs j ON j.id = last.job_id;

REVOKE ALL ON FUNCTION couplet.handle_schedule_tick(couplet.schedules, timestamptz, uuid, boolean),
    couplet.wake_schedule(text, uuid) FROM PUBLIC;
-- The scheduler (couplet_worker) fires ticks with its own privileges; everyone who reads reads holds.
GRANT SELECT ON couplet.schedule_holds TO couplet_worker, couplet_admin, couplet_reader;
GRANT EXECUTE ON FUNCTION couplet.handle_schedule_tick(couplet.schedules, timestamptz, uuid, boolean) TO couplet_worker;
GRANT EXECUTE ON FUNCTION couplet.wake_schedule(text, uuid) TO couplet_worker, couplet_admin;

-- What the definer needs to wake a schedule: read and lock it, record the tick, enqueue the job.
GRANT SELECT, UPDATE (next_fire_at) ON couplet.schedules TO couplet_definer;
GRANT SELECT, INSERT, UPDATE ON couplet.schedule_ticks TO couplet_definer;
GRANT SELECT, INSERT, UPDATE (retry_delay) ON couplet.jobs TO couplet_definer;
GRANT SELECT ON couplet.schedule_holds TO couplet_definer;
GRANT EXECUTE ON FUNCTION couplet.handle_schedule_tick(couplet.schedules, timestamptz, uuid, boolean),
    couplet.enqueue(text, jsonb, text, integer, timestamptz, integer, text, text, interval, timestamptz, text),
    couplet.max_job_args_bytes() TO couplet_definer;

-- A new owner needs CREATE on the function's schema at the moment it takes the function (as in 0013).
GRANT CREATE ON SCHEMA couplet TO couplet_definer;
ALTER FUNCTION couplet.wake_schedule(text, uuid) OWNER TO couplet_definer;
REVOKE CREATE ON SCHEMA couplet FROM couplet_definer;
