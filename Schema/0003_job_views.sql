-- What a person needs to run the job queue from psql: the status of each job, a summary per queue,
-- the live workers, and functions that retry, cancel, hold and resume a job inside the caller's
-- own transaction (so a DBA can BEGIN, look, change, and COMMIT or ROLLBACK).

-- job_status: couplet.jobs as a person reads it.
-- status is the state, refined where the state alone misleads:
--   expired     pending (scheduled, available, retryable) and past expires_at: it will not run
--   scheduled   pending and not due yet (run_at in the future)
--   waiting     due, but a running job holds its concurrency_key (waiting_on_job says which)
--   cancelling  running, and a cancel was requested: its worker is stopping it
-- The lateral lookup of the running holder uses the unique index jobs_running_concurrency_key, and
-- filters on id, state, queue or kind reach couplet.jobs, so the view costs what the filter costs.
CREATE VIEW couplet.job_status AS
SELECT j.id,
       j.kind,
       j.queue,
       j.state,
       CASE
           WHEN j.state = 'running' AND j.cancel_requested_at IS NOT NULL THEN 'cancelling'
           WHEN j.state IN ('scheduled', 'available', 'retryable') AND j.expires_at <= now() THEN 'expired'
           WHEN j.state IN ('scheduled', 'available', 'retryable') AND j.run_at > now() THEN 'scheduled'
           WHEN holder.id IS NOT NULL THEN 'waiting'
           ELSE j.state
       END AS status,
       holder.id AS waiting_on_job,
       j.priority,
       j.attempt,
       j.max_attempts,
       now() - j.created_at AS age,
       j.run_at,
       -- The last error's message; an element without one shows as its JSON text.
       coalesce(j.errors -> -1 ->> 'error', j.errors ->> -1) AS last_error,
       j.worker_id,
       w.hostname || ':' || w.pid AS worker_host,
       j.created_at,
       j.attempted_at,
       j.finished_at,
       j.unique_key,
       j.concurrency_key,
       j.schedule_name,
       j.args,
       j.timeout,
       j.expires_at,
       j.cancel_requested_at,
       j.lease_expires_at,
       j.result
FROM couplet.jobs AS j
LEFT JOIN LATERAL (
    SELECT running.id
    FROM couplet.jobs AS running
    WHERE j.state IN ('scheduled', 'available', 'retryable')
      AND j.run_at <= now()
      AND (j.expires_at IS NULL OR j.expires_at > now())
      AND running.concurrency_key = j.concurrency_key
      AND running.state = 'running'
      AND running.id <> j.id
) AS holder ON true
LEFT JOIN couplet.workers AS w
       ON w.id = j.worker_id AND w.heartbeat_at > now() - w.lease;

COMMENT ON VIEW couplet.job_status IS
    'One row per job as a person reads it: status is the state, or waiting (due, but waiting_on_job holds its concurrency key), '
    'scheduled (pending, not due yet), cancelling (running, cancel requested) or expired (pending past expires_at); '
    'last_error is the message of the last element of errors; worker_host is hostname:pid while the worker is live';

-- Counting jobs on_hold or failed per queue. Neither state has an index in 0002, so without this a
-- summary would read the whole table; both states are rare on the hot path (a person holds a job,
-- a job fails for good once), so the index costs the queue almost nothing.
CREATE INDEX jobs_held_or_failed ON couplet.jobs (queue, state, created_at)
    WHERE state IN ('on_hold', 'failed');

COMMENT ON INDEX couplet.jobs_held_or_failed IS
    'Serves couplet.queue_summary: counts and oldest of on-hold and failed jobs per queue without reading finished history';

-- queue_summary: per queue and state, how many jobs and how old the oldest; per queue, what finished
-- in the last five minutes.
--
-- Cost: a GROUP BY over all of couplet.jobs would read every row, and a busy queue keeps millions of
-- completed (and cancelled) jobs until they are pruned, so this view never does that. It counts only
-- the states that need a person's attention, each through a partial index that holds just those
-- rows: scheduled/available/retryable through jobs_claimable, running through jobs_running_lease,
-- on_hold and failed through jobs_held_or_failed. Completed and cancelled jobs are history and are
-- not counted here; what finished recently comes from couplet.job_attempts through its finished_at
-- index, reading only the last five minutes of the log. The cost therefore grows with the backlog
-- and the recent throughput, not with the retained history.
--
-- A queue with recent attempts but no job in a counted state shows one row with state NULL.
CREATE VIEW couplet.queue_summary AS
WITH counted AS (
    SELECT queue, state, count(*) AS jobs, min(created_at) AS oldest_created_at
    FROM couplet.jobs
    WHERE state IN ('scheduled', 'available', 'retryable')
    GROUP BY queue, state
    UNION ALL
    SELECT queue, state, count(*), min(created_at)
    FROM couplet.jobs
    WHERE state = 'running'
    GROUP BY queue, state
    UNION ALL
    SELECT queue, state, count(*), min(created_at)
    FROM couplet.jobs
    WHERE state IN ('on_hold', 'failed')
    GROUP BY queue, state
),
recent AS (
    SELECT queue,
           count(*) FILTER (WHERE outcome = 'completed') AS completed,
           count(*) FILTER (WHERE outcome = 'failed') AS failed,
           count(*) FILTER (WHERE outcome = 'retry') AS retried,
           count(*) FILTER (WHERE outcome IN ('completed', 'failed', 'cancelled')) AS finished
    FROM couplet.job_attempts
    WHERE finished_at > now() - interval '5 minutes'
    GROUP BY queue
)
SELECT coalesce(counted.queue, recent.queue) AS queue,
       counted.state,
       coalesce(counted.jobs, 0) AS jobs,
       counted.oldest_created_at,
       now() - counted.oldest_created_at AS oldest_age,
       coalesce(recent.completed, 0) AS completed_last_5_min,
       coalesce(recent.failed, 0) AS failed_last_5_min,
       coalesce(recent.retried, 0) AS retried_last_5_min,
       round(coalesce(recent.finished, 0) / 300.0, 3) AS jobs_per_second_last_5_min
FROM counted
FULL JOIN recent ON recent.queue = counted.queue
ORDER BY 1, 2;

COMMENT ON VIEW couplet.queue_summary IS
    'Per queue and state (scheduled, available, retryable, running, on_hold, failed): jobs and the oldest; per queue, from couplet.job_attempts: '
    'completed, failed for good and retried attempts in the last 5 minutes, and jobs finished (completed, failed or cancelled) per second. '
    'Completed and cancelled jobs are not counted: that would read the whole retained history';

-- workers_live: the worker processes whose heartbeat is within their lease.
CREATE VIEW couplet.workers_live AS
SELECT w.id,
       w.hostname,
       w.pid,
       w.queues,
       w.concurrency,
       (SELECT count(*) FROM couplet.jobs AS j WHERE j.worker_id = w.id AND j.state = 'running') AS running,
       w.started_at,
       w.heartbeat_at,
       now() - w.heartbeat_at AS heartbeat_age,
       w.lease,
       w.stopping_at IS NOT NULL AS stopping,
       w.stopping_at
FROM couplet.workers AS w
WHERE w.heartbeat_at > now() - w.lease;

COMMENT ON VIEW couplet.workers_live IS
    'Live workers (heartbeat within their lease) with the number of jobs each is running; stopping means it is shutting down gracefully';

-- The job-changing functions below share two helpers: lock the job or say it does not exist, and
-- refuse a change with a message that names the job and its state.

CREATE FUNCTION couplet.lock_job(job_id bigint) RETURNS couplet.jobs
LANGUAGE plpgsql AS $$
DECLARE
    job couplet.jobs;
BEGIN
    SELECT * INTO job FROM couplet.jobs WHERE id = job_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % does not exist', job_id
            USING ERRCODE = 'no_data_found', HINT = 'It may have been pruned; see couplet.job_attempts for its history.';
    END IF;
    RETURN job;
END
$$;

COMMENT ON FUNCTION couplet.lock_job(bigint) IS
    'Locks a job row for a change until the end of the caller''s transaction and returns it; raises P0002 (no_data_found) when there is no such job';

CREATE FUNCTION couplet.refuse_job_change(action text, job couplet.jobs, hint text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'cannot % job %: it is %', action, job.id, job.state
        USING ERRCODE = 'object_not_in_prerequisite_state', HINT = hint;
END
$$;

COMMENT ON FUNCTION couplet.refuse_job_change(text, couplet.jobs, text) IS
    'Raises 55000 (object_not_in_prerequisite_state): cannot <action> job <id>: it is <state>, with a hint saying what would work';

-- retry_job: run a job again now.
CREATE FUNCTION couplet.retry_job(job_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    job couplet.jobs := couplet.lock_job(job_id);
    holder couplet.jobs;
BEGIN
    IF job.state = 'running' THEN
        PERFORM couplet.refuse_job_change('retry', job,
            format('Wait for it to finish, or cancel it with couplet.cancel_job(%s) and retry it then.', job.id));
    ELSIF job.state = 'on_hold' THEN
        PERFORM couplet.refuse_job_change('retry', job, format('Resume it with couplet.resume_job(%s).', job.id));
    END IF;
    SELECT * INTO holder FROM couplet.jobs AS other
    WHERE other.unique_key = job.unique_key AND other.id <> job.id
      AND other.state IN ('scheduled', 'available', 'running', 'retryable', 'on_hold');
    IF FOUND THEN
        RAISE EXCEPTION 'cannot retry job % (%): job % (%) holds its unique key %',
                job.id, job.state, holder.id, holder.state, quote_literal(job.unique_key)
            USING ERRCODE = 'unique_violation',
                  HINT = format('Job %s will do the same work; cancel it first if this one must run instead.', holder.id);
    END IF;
    UPDATE couplet.jobs
    SET state = 'available',
        run_at = now(),
        finished_at = NULL,
        worker_id = NULL,
        lease_expires_at = NULL,
        cancel_requested_at = NULL,
        max_attempts = greatest(max_attempts, attempt + 1),
        expires_at = CASE WHEN expires_at <= now() THEN NULL ELSE expires_at END
    WHERE id = job.id;
    PERFORM pg_notify('couplet_jobs', job.queue);
    RETURN 'available';
END
$$;

COMMENT ON FUNCTION couplet.retry_job(bigint) IS
    'Makes a failed, cancelled, completed or pending job available now (raising max_attempts past attempt, clearing a passed expires_at) and wakes its queue; '
    'refuses a running or on-hold job (55000) and a job whose unique_key another pending or running job holds (23505). Returns the new state.';

-- cancel_job: stop a job from running.
CREATE FUNCTION couplet.cancel_job(job_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    job couplet.jobs := couplet.lock_job(job_id);
BEGIN
    IF job.state = 'running' THEN
        UPDATE couplet.jobs SET cancel_requested_at = coalesce(cancel_requested_at, now()) WHERE id = job.id;
        PERFORM pg_notify('couplet_cancel', job.id::text);
        RETURN 'cancelling';
    END IF;
    IF job.state NOT IN ('scheduled', 'available', 'retryable', 'on_hold') THEN
        PERFORM couplet.refuse_job_change('cancel', job,
            format('A finished job cannot be cancelled; couplet.retry_job(%s) runs it again.', job.id));
    END IF;
    UPDATE couplet.jobs SET state = 'cancelled', finished_at = now() WHERE id = job.id;
    RETURN 'cancelled';
END
$$;

COMMENT ON FUNCTION couplet.cancel_job(bigint) IS
    'Cancels a pending or on-hold job at once (returns cancelled); for a running job sets cancel_requested_at and notifies couplet_cancel with the job id, '
    'its worker stops it and records it cancelled (returns cancelling). Refuses a finished job (55000).';

-- hold_job: keep a pending job from running until it is resumed.
CREATE FUNCTION couplet.hold_job(job_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    job couplet.jobs := couplet.lock_job(job_id);
BEGIN
    IF job.state NOT IN ('scheduled', 'available', 'retryable') THEN
        PERFORM couplet.refuse_job_change('hold', job,
            'Only a scheduled, available or retryable job can be held; a running job can be cancelled.');
    END IF;
    UPDATE couplet.jobs SET state = 'on_hold' WHERE id = job.id;
    RETURN 'on_hold';
END
$$;

COMMENT ON FUNCTION couplet.hold_job(bigint) IS
    'Puts a pending (scheduled, available or retryable) job on hold so no worker claims it; refuses any other state (55000). Returns on_hold.';

-- resume_job: release a held job.
CREATE FUNCTION couplet.resume_job(job_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    job couplet.jobs := couplet.lock_job(job_id);
    new_state text;
BEGIN
    IF job.state <> 'on_hold' THEN
        PERFORM couplet.refuse_job_change('resume', job, 'Only a job on hold can be resumed.');
    END IF;
    new_state := CASE WHEN job.run_at > now() THEN 'scheduled' ELSE 'available' END;
    UPDATE couplet.jobs SET state = new_state WHERE id = job.id;
    IF new_state = 'available' THEN
        PERFORM pg_notify('couplet_jobs', job.queue);
    END IF;
    RETURN new_state;
END
$$;

COMMENT ON FUNCTION couplet.resume_job(bigint) IS
    'Releases a job on hold: available (and its queue woken) when run_at has passed, else scheduled; refuses any other state (55000). Returns the new state.';
