-- Job args are bounded: a 52 MB args was accepted, run, and printed by `couplet jobs show` with
-- 340 MB of memory, and args nested 10,000 deep were accepted and failed only when a worker could
-- not decode them. Every insert and every change of args in couplet.jobs and couplet.schedules
-- (couplet.enqueue, the scheduler's ticks, direct SQL) is checked now:
--
--   size   at most couplet.max_job_args_bytes() bytes of args::text, 1 MiB unless the setting
--          couplet.max_job_args_bytes says otherwise, e.g.
--          ALTER DATABASE couplet SET couplet.max_job_args_bytes = '4194304';
--   depth  at most 64 levels of nested arrays and objects
--
-- A refusal is SQLSTATE 54000 (program_limit_exceeded) with a message naming the limit. Couplet's
-- processes check args the same way before they send them.
--
-- Privileges: the administrator and the worker, who enqueue, may ask for the limit.

CREATE FUNCTION couplet.max_job_args_bytes() RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('couplet.max_job_args_bytes', true), '')::integer, 1048576)
$$;

COMMENT ON FUNCTION couplet.max_job_args_bytes() IS
    'The most bytes a job''s args may take as text (args::text): the setting couplet.max_job_args_bytes, else 1 MiB';

CREATE FUNCTION couplet.check_job_args() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    size bigint := octet_length(NEW.args::text);
    allowed integer := couplet.max_job_args_bytes();
BEGIN
    IF size > allowed THEN
        RAISE EXCEPTION 'job args are % bytes, more than the % that couplet.max_job_args_bytes allows', size, allowed
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'Pass a reference to the data (a table, a key) instead of the data, or raise the setting.';
    END IF;
    IF jsonb_path_exists(NEW.args, 'strict $.**{64} ? (@.type() == "object" || @.type() == "array")') THEN
        RAISE EXCEPTION 'job args nest arrays and objects deeper than 64 levels'
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION couplet.check_job_args() IS
    'Refuses job args longer than couplet.max_job_args_bytes() or nested deeper than 64 levels (SQLSTATE 54000)';

CREATE TRIGGER jobs_check_args
    BEFORE INSERT OR UPDATE OF args ON couplet.jobs
    FOR EACH ROW EXECUTE FUNCTION couplet.check_job_args();

CREATE TRIGGER schedules_check_args
    BEFORE INSERT OR UPDATE OF args ON couplet.schedules
    FOR EACH ROW EXECUTE FUNCTION couplet.check_job_args();

REVOKE ALL ON FUNCTION couplet.max_job_args_bytes(), couplet.check_job_args() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION couplet.max_job_args_bytes() TO couplet_admin, couplet_worker;
