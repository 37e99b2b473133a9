-- The web console (couplet web) and the CLI change many jobs at once: a bulk form of the job functions.

-- Applies retry_job, cancel_job, hold_job or resume_job to each job of job_ids in turn, in the
-- caller's transaction and with the caller's privileges (SECURITY INVOKER, like the functions it
-- calls). A job the function refuses (gone, in a state that does not allow it, its unique key held)
-- is reported with state NULL and the reason, without the job's id so that reasons group, and the
-- next job is changed all the same; any other error (no privilege) ends the whole statement.
CREATE FUNCTION couplet.change_jobs(action text, job_ids bigint[])
RETURNS TABLE (job_id bigint, state text, reason text)
LANGUAGE plpgsql AS $$
DECLARE
    one bigint;
BEGIN
    IF action IS NULL OR action NOT IN ('retry', 'cancel', 'hold', 'resume') THEN
        RAISE EXCEPTION 'unknown job change %', action USING ERRCODE = 'invalid_parameter_value',
            HINT = 'One of retry, cancel, hold, resume.';
    END IF;
    FOREACH one IN ARRAY coalesce(job_ids, '{}') LOOP
        job_id := one;
        reason := NULL;
        BEGIN
            EXECUTE format('SELECT couplet.%I($1)', action || '_job') INTO state USING one;
        EXCEPTION
            WHEN no_data_found THEN
                state := NULL;
                reason := 'it no longer exists';
            WHEN object_not_in_prerequisite_state THEN
                state := NULL;
                reason := 'it is ' || coalesce((SELECT j.state FROM couplet.jobs j WHERE j.id = one), 'gone');
            WHEN unique_violation THEN
                state := NULL;
                reason := 'another pending job holds its unique key';
        END;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION couplet.change_jobs(text, bigint[]) IS
    'Applies couplet.<action>_job to each job of job_ids; returns each job''s new state, or NULL and why the function refused it';

REVOKE EXECUTE ON FUNCTION couplet.change_jobs(text, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION couplet.change_jobs(text, bigint[]) TO couplet_admin;
