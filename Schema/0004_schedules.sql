-- Cron schedules, the ticks already enqueued, and the lease of the leading scheduler.

CREATE TABLE couplet.schedules (
    name             text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.:-]{1,100}$'),
    expression       text        NOT NULL CHECK (expression <> ''),
    timezone         text        NOT NULL DEFAULT 'UTC',
    job_kind         text        NOT NULL CHECK (job_kind ~ '^[A-Za-z0-9_.:-]{1,200}$'),
    args             jsonb       NOT NULL DEFAULT '{}'::jsonb,
    queue            text        NOT NULL DEFAULT 'default' CHECK (queue ~ '^[A-Za-z0-9_.:-]{1,100}$'),
    priority         smallint    NOT NULL DEFAULT 5 CHECK (priority BETWEEN 0 AND 9),
    max_attempts     integer     NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
    enabled          boolean     NOT NULL DEFAULT true,
    misfire_policy   text        NOT NULL DEFAULT 'skip' CHECK (misfire_policy IN ('skip', 'run_once')),
    catch_up_window  interval    NOT NULL DEFAULT interval '1 hour' CHECK (catch_up_window >= interval '0'),
    no_overlap       boolean     NOT NULL DEFAULT false,
    next_fire_at     timestamptz,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE couplet.schedules IS
    'Cron schedules that the leading couplet scheduler turns into jobs. misfire_policy: skip ticks missed while no scheduler ran, or run_once to catch up with one job for the latest tick missed within catch_up_window. no_overlap: a tick is not enqueued while the previous job of the schedule is pending or running.';
COMMENT ON COLUMN couplet.schedules.next_fire_at IS 'Maintained by the leading scheduler, for people; NULL when disabled or invalid';
COMMENT ON COLUMN couplet.schedules.last_error IS 'Why the scheduler cannot use the schedule (an invalid expression or zone), else NULL';

CREATE TABLE couplet.schedule_ticks (
    schedule_name  text        NOT NULL REFERENCES couplet.schedules (name) ON DELETE CASCADE,
    fire_time      timestamptz NOT NULL,
    outcome        text        NOT NULL CHECK (outcome IN ('enqueued', 'skipped_overlap')),
    job_id         bigint,
    scheduler_id   uuid        NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schedule_name, fire_time)
);

COMMENT ON TABLE couplet.schedule_ticks IS
    'One row per fire time handled: its primary key makes every tick exactly-once across schedulers, restarts and leader changes';

CREATE INDEX jobs_schedule_pending ON couplet.jobs (schedule_name)
    WHERE schedule_name IS NOT NULL AND state IN ('scheduled', 'available', 'running', 'retryable', 'on_hold');

-- The leader lease: one row, taken over when it expires. A lease row (not a session-level advisory
-- lock) holds behind PgBouncer in transaction mode, where sessions are shared.
CREATE TABLE couplet.scheduler_leader (
    singleton    boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    holder       uuid        NOT NULL,
    hostname     text        NOT NULL,
    pid          integer     NOT NULL,
    acquired_at  timestamptz NOT NULL DEFAULT now(),
    renewed_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

-- Enqueue the due ticks in one round trip, each exactly once: a tick whose row exists is skipped,
-- and the tick row and its job commit together. Returns one row per tick this call handled.
CREATE FUNCTION couplet.fire_schedule_ticks(names text[], fire_times timestamptz[], scheduler uuid)
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
                                      NULL, NULL, NULL, NULL, s.name);
            UPDATE couplet.schedule_ticks t SET job_id = fire_schedule_ticks.job_id
            WHERE t.schedule_name = due.name AND t.fire_time = due.fire_time;
            schedule_name := due.name; fire_time := due.fire_time; outcome := 'enqueued';
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Schedules changed by SQL or by `couplet schedules apply` take effect at once: the scheduler listens.
CREATE FUNCTION couplet.notify_schedules_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('couplet_schedules', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER schedules_changed
    AFTER INSERT OR UPDATE OF expression, timezone, enabled, misfire_policy, catch_up_window OR DELETE
    ON couplet.schedules
    FOR EACH STATEMENT EXECUTE FUNCTION couplet.notify_schedules_changed();

CREATE VIEW couplet.schedule_status AS
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
       s.last_error
FROM couplet.schedules s
LEFT JOIN LATERAL (
    SELECT t.fire_time, t.outcome, t.job_id FROM couplet.schedule_ticks t
    WHERE t.schedule_name = s.name ORDER BY t.fire_time DESC LIMIT 1
) last ON true
LEFT JOIN couplet.jobs j ON j.id = last.job_id;

COMMENT ON VIEW couplet.schedule_status IS
    'Per schedule: expression, zone, enabled, the last tick and its job''s state, the next fire time';
