-- Who may reach the coordination database, and whose rights a SECURITY DEFINER function borrows.
--
-- Any login could connect (CONNECT is PUBLIC's by default) and send NOTIFY couplet_cancel, which
-- workers took as an order to stop a job. Workers now read the job's cancel_requested_at before
-- stopping it (a notification only wakes them), and only Couplet's roles may connect:
--
--   CONNECT  couplet_admin, couplet_worker, couplet_reader, couplet_availability (and the database
--            owner and superusers); a login connects through its role (couplet roles grant …).
--            An endpoint whose tables live in this database needs its own
--            GRANT CONNECT ON DATABASE … TO its login.
--   TEMP     nobody but the owner: Couplet creates no temporary tables.
--
-- The database's name is not fixed, so the grants name current_database(). Granting on a database
-- takes its owner (or a superuser), the user that migrates.
--
-- couplet.item_availability (SECURITY DEFINER) ran with the migrating user's rights, often a
-- superuser's. It now belongs to couplet_definer, a NOLOGIN role with no members but the migrating
-- user, that may read the availability figures and nothing else. A later SECURITY DEFINER function
-- is owned by couplet_definer too, and its needs are granted to it.

DO $$
BEGIN
    EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format(
        'GRANT CONNECT ON DATABASE %I TO couplet_admin, couplet_worker, couplet_reader, couplet_availability',
        current_database());
END
$$;

-- Like 0006: the role belongs to the cluster, and another database's migration may create it meanwhile.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'couplet_definer') THEN
        BEGIN
            CREATE ROLE couplet_definer NOLOGIN;
            COMMENT ON ROLE couplet_definer IS
                'Owns Couplet''s SECURITY DEFINER functions: no login, no members but the migrating user';
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    -- Handing a function to a role takes membership in it, which a superuser needs not.
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
        AND NOT pg_has_role(current_user, 'couplet_definer', 'MEMBER') THEN
        EXECUTE format('GRANT couplet_definer TO %I', current_user);
    END IF;
END
$$;

GRANT USAGE ON SCHEMA couplet TO couplet_definer;
GRANT SELECT ON couplet.item_availability TO couplet_definer;

-- A new owner needs CREATE on the function's schema at the moment it takes the function, not after.
GRANT CREATE ON SCHEMA couplet TO couplet_definer;
ALTER FUNCTION couplet.item_availability(text) OWNER TO couplet_definer;
REVOKE CREATE ON SCHEMA couplet FROM couplet_definer;
