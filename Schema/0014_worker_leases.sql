-- One lease per worker instead of one per running job.
--
-- A worker's heartbeat used to extend lease_expires_at on every one of its running jobs: one row
-- version per running job per beat, and a beat that waited on any statement holding one of those
-- rows -- a finish writing the same jobs' outcomes. Under a burst of short jobs the two fought over
-- thousands of rows, the finish re-checked every row the heartbeat had rewritten, and the queue
-- stalled for minutes. Now the lease is the worker's: couplet.workers.heartbeat_at + lease. A
-- heartbeat updates the worker's own row only, and maintenance rescues the running jobs of workers
-- whose lease ran out (or whose row is gone). couplet.jobs.lease_expires_at goes; job_status keeps
-- a column of that name, computed from the job's worker, so what a DBA reads stays true. The index
-- jobs_running_lease goes with the column; queue_summary counts running jobs through
-- jobs_running_worker (the same partial index of running jobs, on worker_id), which rescue uses too.

CREATE OR REPLACE VIEW couplet.job_status AS
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
       CASE WHEN w.heartbeat_at > now() - w.lease THEN w.hostname || ':' || w.pid END AS worker_host,
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
       CASE WHEN j.state = 'running' THEN w.heartbeat_at + w.lease END AS lease_expires_at,
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
LEFT JOIN couplet.workers AS w ON w.id = j.worker_id;

COMMENT ON VIEW couplet.job_status IS
    'One row per job as a person reads it: status is the state, or waiting (due, but waiting_on_job holds its concurrency key), '
    'scheduled (pending, not due yet), cancelling (running, cancel requested) or expired (pending past expires_at); '
    'last_error is the message of the last element of errors; worker_host is hostname:pid while the worker is live; '
    'lease_expires_at is, for a running job, when its worker''s lease runs out (last heartbeat plus lease; NULL when the worker is gone): '
    'past it, maintenance rescues the job';

-- retry_job as in 0003, without the column that is gone.
CREATE OR REPLACE FUNCTION couplet.retry_job(job_id bigint) RETURNS text
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
        cancel_requested_at = NULL,
        max_attempts = greatest(max_attempts, attempt + 1),
        expires_at = CASE WHEN expires_at <= now() THEN NULL ELSE expires_at END
    WHERE id = job.id;
    PERFORM pg_notify('couplet_jobs', job.queue);
    RETURN 'available';
END
$$;

ALTER TABLE couplet.jobs DROP COLUMN lease_expires_at;

COMMENT ON TABLE couplet.workers IS
    'Live couplet worker processes (a fresh id per start). A worker''s lease covers all its running jobs: heartbeat_at older than lease '
    'means the worker is gone, and maintenance rescues its running jobs (as it does those of a worker whose row is missing)';
