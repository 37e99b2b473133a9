-- Per-record resolution, as Business Central's Restore / Delete / Couple / Synchronize actions on one
-- record, with who asked and what became of it: the table couplet.record_actions and the functions
-- a person (couplet resolve, couplet couple / uncouple, couplet sync --records) or a DBA calls, each
-- inside the caller's own transaction.
--
--   couplet.resolve_conflict(mapping, id, winner)   this conflict once, that side wins (pending use_local / use_integration)
--   couplet.restore_record(mapping, id)             re-create the deleted record of a pair from the survivor (pending restore)
--   couplet.delete_survivor(mapping, id)            delete the survivor of a pair whose other record was deleted (pending delete)
--   couplet.uncouple_record(mapping, id)            remove the pair's coupling now (done)
--   couplet.couple_records(mapping, local_id, integration_id)   couple two records now (done)
--   couplet.sync_records(mapping, side, ids, direction)         enqueue a records sync (done once enqueued)
--
-- A record is named by its local id, or with side => 'integration' by its integration id. A pending
-- action waits for the sync engine: the records job the function enqueues (or any run that reads the
-- pair first) decides the pair with the action as its input and settles the action in the same
-- transaction that saves the pair's coupling: done once the write it asked for succeeded,
-- not_applicable (with the reason) when the pair is not in the state the action needs. A failed write
-- leaves it pending; the error log shows why. A later action on the same pair supersedes it.
--
-- Privileges: couplet_admin calls the functions and reads the log; couplet_worker reads pending
-- actions and settles them; couplet_reader reads the log and may call none of the functions.

CREATE TABLE couplet.record_actions (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mapping         text        NOT NULL REFERENCES couplet.table_mappings (name) ON DELETE CASCADE,
    action          text        NOT NULL
                        CHECK (action IN ('use_local', 'use_integration', 'restore', 'delete', 'uncouple', 'couple', 'sync')),
    local_id        text,
    integration_id  text,
    requested_by    text        NOT NULL DEFAULT session_user,
    requested_at    timestamptz NOT NULL DEFAULT now(),
    job_id          bigint,
    state           text        NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'done', 'not_applicable', 'superseded')),
    settled_at      timestamptz,
    run_id          bigint,
    outcome         text,
    CONSTRAINT record_actions_names_a_record CHECK (local_id IS NOT NULL OR integration_id IS NOT NULL),
    CONSTRAINT record_actions_settled CHECK ((state = 'pending') = (settled_at IS NULL)),
    CONSTRAINT record_actions_pending_pair CHECK (
        state <> 'pending' OR (local_id IS NOT NULL AND action IN ('use_local', 'use_integration', 'restore', 'delete')))
);

COMMENT ON TABLE couplet.record_actions IS
    'Per-record resolutions a person asked for, one row per request: who (requested_by) and when, the pair (local_id, integration_id), '
    'the job that carries it out, and what became of it. use_local, use_integration, restore and delete wait as pending until a sync '
    'pass decides the pair; uncouple and couple are done at once; sync is done once its records job is enqueued (the job''s runs are '
    'in couplet.sync_runs with the same job_id)';
COMMENT ON COLUMN couplet.record_actions.action IS
    'use_local / use_integration: this conflict once, that side''s values win; restore: re-create the deleted record of the pair from '
    'the survivor; delete: delete the survivor; uncouple / couple: the coupling removed / made by hand; sync: a records sync enqueued';
COMMENT ON COLUMN couplet.record_actions.requested_by IS 'The login that asked (session_user, not a role it set)';
COMMENT ON COLUMN couplet.record_actions.job_id IS 'The sync.records job enqueued for it (couplet.jobs, couplet.sync_runs.job_id), if any';
COMMENT ON COLUMN couplet.record_actions.state IS
    'pending: waits for a sync pass; done: carried out; not_applicable: the pair was not in the state the action needs (outcome says why); '
    'superseded: a later action on the same pair replaced it before it was carried out';
COMMENT ON COLUMN couplet.record_actions.run_id IS 'The sync run (couplet.sync_runs) that settled it';
COMMENT ON COLUMN couplet.record_actions.outcome IS 'What was done (updated, restored, deleted, coupled…), or why it did not apply';

-- One pending action per pair: a new one supersedes it.
CREATE UNIQUE INDEX record_actions_pending ON couplet.record_actions (mapping, local_id) WHERE state = 'pending';
CREATE INDEX record_actions_requested ON couplet.record_actions (mapping, requested_at DESC);

-- The mapping, or an error saying there is none.
CREATE FUNCTION couplet.require_mapping(mapping text) RETURNS couplet.table_mappings
LANGUAGE plpgsql STABLE AS $$
DECLARE
    stored couplet.table_mappings;
BEGIN
    SELECT * INTO stored FROM couplet.table_mappings m WHERE m.name = require_mapping.mapping;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'there is no mapping "%"', mapping
            USING ERRCODE = 'no_data_found', HINT = 'couplet mappings list (or SELECT name FROM couplet.table_mappings) shows the stored mappings.';
    END IF;
    RETURN stored;
END
$$;

COMMENT ON FUNCTION couplet.require_mapping(text) IS
    'Returns the table mapping named mapping; raises P0002 (no_data_found) when there is none';

-- Refuses a side that is neither local nor integration.
CREATE FUNCTION couplet.require_side(side text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF side IS NULL OR side NOT IN ('local', 'integration') THEN
        RAISE EXCEPTION 'records are named by their local or integration id (side local or integration), not by side %', quote_nullable(side)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

COMMENT ON FUNCTION couplet.require_side(text) IS 'Raises 22023 unless side is local or integration';

-- The pair a record belongs to: by its coupling, or by the deleted counterpart remembered for it (or
-- for its survivor) after the remove_coupling policy removed the coupling.
CREATE FUNCTION couplet.find_pair(
    m couplet.table_mappings, id text, side text,
    OUT local_key text, OUT integration_key text, OUT survivor text
) LANGUAGE plpgsql STABLE AS $$
DECLARE
    record_name text;
BEGIN
    PERFORM couplet.require_side(side);
    record_name := format('%s %s', CASE side WHEN 'local' THEN m.local_table ELSE m.integration_table END, id);
    SELECT c.local_id, c.integration_id INTO local_key, integration_key
    FROM couplet.couplings c
    WHERE c.mapping = m.name AND find_pair.id = CASE find_pair.side WHEN 'local' THEN c.local_id ELSE c.integration_id END;
    IF FOUND THEN
        RETURN;
    END IF;
    -- The record survived its counterpart, or it is the deleted counterpart of a survivor.
    SELECT d.side,
           CASE d.side WHEN 'local' THEN d.record_id ELSE d.counterpart_id END,
           CASE d.side WHEN 'local' THEN d.counterpart_id ELSE d.record_id END
    INTO survivor, local_key, integration_key
    FROM couplet.deleted_counterparts d
    WHERE d.mapping = m.name AND ((d.side = find_pair.side AND d.record_id = find_pair.id) OR (d.side <> find_pair.side AND d.counterpart_id = find_pair.id))
    ORDER BY d.side = find_pair.side DESC, d.uncoupled_at DESC
    LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: % is not coupled, and no deleted counterpart is remembered for it', m.name, record_name
            USING ERRCODE = 'no_data_found',
                  HINT = format('couplet errors %s --record %s shows its open errors; couplet couple %s LOCAL_ID INTEGRATION_ID couples it.',
                                m.name, id, m.name);
    END IF;
END
$$;

COMMENT ON FUNCTION couplet.find_pair(couplet.table_mappings, text, text) IS
    'The pair record id of side (local or integration) belongs to in mapping m: its coupling (survivor NULL), or the survivor side '
    'and both ids remembered in couplet.deleted_counterparts; raises P0002 when there is neither';

-- Couples two records, refusing one that is coupled already, and forgets that either survived a deletion.
CREATE FUNCTION couplet.insert_coupling(m couplet.table_mappings, local_id text, integration_id text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    taken record;
BEGIN
    SELECT c.local_id, c.integration_id INTO taken FROM couplet.couplings c
    WHERE c.mapping = m.name AND (c.local_id = insert_coupling.local_id OR c.integration_id = insert_coupling.integration_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '%: % is already coupled to %; uncouple it first (couplet uncouple % %)',
                m.name, taken.local_id, taken.integration_id, m.name, taken.local_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('In SQL: SELECT couplet.uncouple_record(%L, %L);', m.name, taken.local_id);
    END IF;
    INSERT INTO couplet.couplings (mapping, local_id, integration_id) VALUES (m.name, local_id, integration_id);
    DELETE FROM couplet.deleted_counterparts d
    WHERE d.mapping = m.name
      AND ((d.side = 'local' AND d.record_id = insert_coupling.local_id)
           OR (d.side = 'integration' AND d.record_id = insert_coupling.integration_id));
END
$$;

COMMENT ON FUNCTION couplet.insert_coupling(couplet.table_mappings, text, text) IS
    'Couples local_id to integration_id in mapping m and forgets either as a survivor of a deletion; raises 55000 naming the pair when '
    'either record is coupled already';

-- Logs an action, superseding the pair's pending one; the pair's actions are serialised by a lock
-- held to the end of the transaction.
CREATE FUNCTION couplet.log_record_action(
    mapping text, action text, local_id text, integration_id text,
    job_id bigint DEFAULT NULL, state text DEFAULT 'pending', outcome text DEFAULT NULL
) RETURNS couplet.record_actions
LANGUAGE plpgsql AS $$
DECLARE
    entry couplet.record_actions;
    replaced bigint[];
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('couplet record action'), hashtext(mapping || '/' || coalesce(local_id, '')));
    WITH superseded AS (
        UPDATE couplet.record_actions a SET state = 'superseded', settled_at = now()
        WHERE a.mapping = log_record_action.mapping AND a.local_id = log_record_action.local_id AND a.state = 'pending'
        RETURNING a.id)
    SELECT array_agg(s.id) INTO replaced FROM superseded s;
    INSERT INTO couplet.record_actions AS a (mapping, action, local_id, integration_id, job_id, state, settled_at, outcome)
    VALUES (mapping, action, local_id, integration_id, job_id, state,
            CASE WHEN log_record_action.state = 'pending' THEN NULL ELSE now() END, outcome)
    RETURNING * INTO entry;
    UPDATE couplet.record_actions a SET outcome = format('superseded by action %s (%s by %s)', entry.id, entry.action, entry.requested_by)
    WHERE a.id = ANY(replaced);
    RETURN entry;
END
$$;

COMMENT ON FUNCTION couplet.log_record_action(text, text, text, text, bigint, text, text) IS
    'Inserts a record action (pending unless state says otherwise) and marks the pair''s pending action superseded by it';

-- Enqueues a sync.records job as `couplet sync MAPPING --records` does: queue sync, two attempts,
-- one run per mapping at a time. direction NULL: both passes, the one from side first.
CREATE FUNCTION couplet.enqueue_records_sync(mapping text, side text, ids text[], direction text) RETURNS bigint
LANGUAGE sql AS $$
    SELECT couplet.enqueue(
        'sync.records',
        jsonb_build_object('mapping', mapping, 'records', jsonb_build_object('side', side, 'ids', to_jsonb(ids)))
            || CASE WHEN direction IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('direction', direction) END,
        queue => 'sync', max_attempts => 2, concurrency_key => 'sync:' || mapping)
$$;

COMMENT ON FUNCTION couplet.enqueue_records_sync(text, text, text[], text) IS
    'Enqueues a sync.records job for records ids of side (local or integration), only the pass in direction when given; returns its id';

-- Refuses a request whose job would do nothing: a disabled mapping's runs synchronize nothing.
CREATE FUNCTION couplet.require_enabled(m couplet.table_mappings) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT m.enabled THEN
        RAISE EXCEPTION '% is disabled (enabled: false in its mappings file); its jobs do nothing', m.name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Enable the mapping first; couplet resolve MAPPING ID --uncouple or --couple OTHER_ID work on a disabled mapping.';
    END IF;
END
$$;

COMMENT ON FUNCTION couplet.require_enabled(couplet.table_mappings) IS
    'Raises 55000 when mapping m is disabled: a records job enqueued for it would synchronize nothing';

-- Refuses what needs a pass the mapping does not make, saying what it cannot do and what to do instead.
CREATE FUNCTION couplet.require_pass(m couplet.table_mappings, direction text, purpose text, hint text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF m.direction NOT IN (direction, 'bidirectional') THEN
        RAISE EXCEPTION '%: the mapping synchronizes % only, so it cannot %', m.name, m.direction, purpose
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = hint;
    END IF;
END
$$;

COMMENT ON FUNCTION couplet.require_pass(couplet.table_mappings, text, text, text) IS
    'Raises 55000 (the mapping cannot <purpose>, with hint) unless the mapping''s direction includes the pass direction (to_integration, from_integration)';

CREATE FUNCTION couplet.resolve_conflict(mapping text, id text, winner text, side text DEFAULT 'local')
RETURNS couplet.record_actions
LANGUAGE plpgsql AS $$
DECLARE
    m couplet.table_mappings := couplet.require_mapping(mapping);
    pair record;
    pass text;
BEGIN
    IF winner IS NULL OR winner NOT IN ('local', 'integration') THEN
        RAISE EXCEPTION 'the winner of a conflict is local or integration, not %', quote_nullable(winner)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM couplet.require_enabled(m);
    pass := CASE winner WHEN 'local' THEN 'to_integration' ELSE 'from_integration' END;
    pair := couplet.find_pair(m, id, side);
    PERFORM couplet.require_pass(m, pass,
        CASE winner WHEN 'local' THEN format('copy %s %s over %s %s', m.local_table, pair.local_key, m.integration_table, pair.integration_key)
                    ELSE format('copy %s %s over %s %s', m.integration_table, pair.integration_key, m.local_table, pair.local_key) END,
        format('Make the two records agree by hand, or uncouple them (couplet resolve %s %s --uncouple).', m.name, pair.local_key));
    IF pair.survivor IS NOT NULL THEN
        RAISE EXCEPTION '%: % % and % % are not coupled any more: one was deleted and the deletion policy removed the coupling',
                m.name, m.local_table, pair.local_key, m.integration_table, pair.integration_key
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Restore the deleted record (couplet resolve %s %s --restore) or delete the survivor (--delete).', m.name, pair.local_key);
    END IF;
    UPDATE couplet.couplings c SET skipped = false WHERE c.mapping = m.name AND c.local_id = pair.local_key AND c.skipped;
    RETURN couplet.log_record_action(m.name, 'use_' || winner, pair.local_key, pair.integration_key,
                                     couplet.enqueue_records_sync(m.name, 'local', ARRAY[pair.local_key], pass));
END
$$;

COMMENT ON FUNCTION couplet.resolve_conflict(text, text, text, text) IS
    'This conflict once, winner (local or integration) wins: logs a pending use_local / use_integration action for the coupled pair of '
    'record id (a local id, or an integration id with side => ''integration''), releases a skipped coupling and enqueues a records sync '
    'of the winner''s pass only, which copies every field that differs. Returns the action (its job_id is the job)';

-- restore_record and delete_survivor: a pending action on a pair whose record was deleted, and a
-- records sync of both passes. A survivor whose coupling the deletion policy removed is coupled to
-- its deleted counterpart again first, so that the pass decides it as a pair.
CREATE FUNCTION couplet.request_deletion_resolution(mapping text, id text, side text, action text)
RETURNS couplet.record_actions
LANGUAGE plpgsql AS $$
DECLARE
    m couplet.table_mappings := couplet.require_mapping(mapping);
    pair record := couplet.find_pair(m, id, side);
    -- Restoring writes the deleted side (the survivor's pass); deleting writes the survivor's side.
    writes_survivor boolean := action = 'delete';
    survivor text;
    deleted text;
BEGIN
    PERFORM couplet.require_enabled(m);
    IF pair.survivor IS NOT NULL THEN
        survivor := CASE pair.survivor WHEN 'local' THEN format('%s %s', m.local_table, pair.local_key)
                                       ELSE format('%s %s', m.integration_table, pair.integration_key) END;
        deleted := CASE pair.survivor WHEN 'local' THEN format('%s %s', m.integration_table, pair.integration_key)
                                      ELSE format('%s %s', m.local_table, pair.local_key) END;
        PERFORM couplet.require_pass(m,
            CASE WHEN (pair.survivor = 'local') = writes_survivor THEN 'from_integration' ELSE 'to_integration' END,
            CASE action WHEN 'delete' THEN format('delete %s (the survivor of %s)', survivor, deleted)
                        ELSE format('re-create %s from %s', deleted, survivor) END,
            format('%s by hand: mapping %s never writes %s records.',
                   CASE action WHEN 'delete' THEN 'Delete ' || survivor ELSE 'Re-create ' || deleted END, m.name,
                   CASE WHEN (pair.survivor = 'local') = writes_survivor THEN m.local_table ELSE m.integration_table END));
        PERFORM couplet.insert_coupling(m, pair.local_key, pair.integration_key);
    END IF;
    RETURN couplet.log_record_action(m.name, action, pair.local_key, pair.integration_key,
                                     couplet.enqueue_records_sync(m.name, 'local', ARRAY[pair.local_key], NULL));
END
$$;

COMMENT ON FUNCTION couplet.request_deletion_resolution(text, text, text, text) IS
    'The work of restore_record and delete_survivor (action restore or delete)';

CREATE FUNCTION couplet.restore_record(mapping text, id text, side text DEFAULT 'local') RETURNS couplet.record_actions
LANGUAGE sql AS $$
    SELECT couplet.request_deletion_resolution(mapping, id, side, 'restore')
$$;

COMMENT ON FUNCTION couplet.restore_record(text, text, text) IS
    'Re-create the deleted record of the pair of record id (local id, or integration id with side => ''integration'') from its survivor: '
    'logs a pending restore action and enqueues a records sync of both passes. Also for a survivor whose coupling the remove_coupling '
    'policy removed: it is coupled to its deleted counterpart again. Returns the action';

CREATE FUNCTION couplet.delete_survivor(mapping text, id text, side text DEFAULT 'local') RETURNS couplet.record_actions
LANGUAGE sql AS $$
    SELECT couplet.request_deletion_resolution(mapping, id, side, 'delete')
$$;

COMMENT ON FUNCTION couplet.delete_survivor(text, text, text) IS
    'Delete the surviving record of the pair of record id (local id, or integration id with side => ''integration'') whose other record '
    'was deleted: logs a pending delete action and enqueues a records sync of both passes; the pass from the deleted side deletes the '
    'survivor if it did not change since it was read. A survivor whose coupling the remove_coupling policy removed is coupled to its '
    'deleted counterpart again first. Returns the action';

CREATE FUNCTION couplet.uncouple_record(mapping text, id text, side text DEFAULT 'local') RETURNS couplet.record_actions
LANGUAGE plpgsql AS $$
DECLARE
    m couplet.table_mappings := couplet.require_mapping(mapping);
    removed record;
BEGIN
    PERFORM couplet.require_side(side);
    DELETE FROM couplet.couplings c
    WHERE c.mapping = m.name AND uncouple_record.id = CASE uncouple_record.side WHEN 'local' THEN c.local_id ELSE c.integration_id END
    RETURNING c.local_id, c.integration_id INTO removed;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% % is not coupled', m.name, id
            USING ERRCODE = 'no_data_found', HINT = format('couplet errors %s --record %s shows its open errors.', m.name, id);
    END IF;
    DELETE FROM couplet.deleted_counterparts d
    WHERE d.mapping = m.name
      AND ((d.side = 'local' AND d.record_id = removed.local_id) OR (d.side = 'integration' AND d.record_id = removed.integration_id));
    RETURN couplet.log_record_action(m.name, 'uncouple', removed.local_id, removed.integration_id, NULL, 'done', 'uncoupled');
END
$$;

COMMENT ON FUNCTION couplet.uncouple_record(text, text, text) IS
    'Removes the coupling of record id (local id, or integration id with side => ''integration'') now, and forgets either record as the '
    'survivor of a deletion; the records stay. Logs a done uncouple action (superseding a pending one) and returns it; raises P0002 when '
    'the record is not coupled';

CREATE FUNCTION couplet.couple_records(mapping text, local_id text, integration_id text) RETURNS couplet.record_actions
LANGUAGE plpgsql AS $$
DECLARE
    m couplet.table_mappings := couplet.require_mapping(mapping);
BEGIN
    IF coalesce(local_id, '') = '' OR coalesce(integration_id, '') = '' THEN
        RAISE EXCEPTION '%: coupling takes a local id and an integration id', m.name USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM couplet.insert_coupling(m, local_id, integration_id);
    RETURN couplet.log_record_action(m.name, 'couple', local_id, integration_id, NULL, 'done', 'coupled');
END
$$;

COMMENT ON FUNCTION couplet.couple_records(text, text, text) IS
    'Couples local_id to integration_id now (the next sync brings them in step) and forgets either as the survivor of a deletion. Logs '
    'a done couple action and returns it; raises 55000 naming the existing pair when either record is coupled already';

CREATE FUNCTION couplet.sync_records(mapping text, side text, ids text[], direction text DEFAULT NULL)
RETURNS SETOF couplet.record_actions
LANGUAGE plpgsql AS $$
DECLARE
    m couplet.table_mappings := couplet.require_mapping(mapping);
    chosen text[];
    job bigint;
BEGIN
    PERFORM couplet.require_enabled(m);
    PERFORM couplet.require_side(side);
    IF direction IS NOT NULL THEN
        IF direction NOT IN ('to_integration', 'from_integration') THEN
            RAISE EXCEPTION 'a direction is to_integration or from_integration (NULL: both), not %', quote_literal(direction)
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        PERFORM couplet.require_pass(m, direction, format('synchronize %s', direction),
                                     'Leave the direction out: the records sync makes the passes the mapping has.');
    END IF;
    SELECT array_agg(i.id ORDER BY i.first) INTO chosen
    FROM (SELECT btrim(u.id) AS id, min(u.n) AS first FROM unnest(ids) WITH ORDINALITY AS u(id, n)
          WHERE btrim(u.id) <> '' GROUP BY btrim(u.id)) i;
    IF chosen IS NULL THEN
        RAISE EXCEPTION '%: name at least one record to synchronize', m.name USING ERRCODE = 'invalid_parameter_value';
    END IF;
    job := couplet.enqueue_records_sync(m.name, side, chosen, direction);
    RETURN QUERY
    WITH logged AS (
        INSERT INTO couplet.record_actions AS a (mapping, action, local_id, integration_id, job_id, state, settled_at, outcome)
        SELECT m.name, 'sync',
               CASE sync_records.side WHEN 'local' THEN i.id ELSE c.local_id END,
               CASE sync_records.side WHEN 'local' THEN c.integration_id ELSE i.id END,
               job, 'done', now(), format('enqueued sync.records job %s (%s)', job, coalesce(direction, 'both directions'))
        FROM unnest(chosen) WITH ORDINALITY AS i(id, n)
        LEFT JOIN couplet.couplings c
            ON c.mapping = m.name AND i.id = CASE sync_records.side WHEN 'local' THEN c.local_id ELSE c.integration_id END
        ORDER BY i.n
        RETURNING a.*)
    SELECT * FROM logged ORDER BY logged.id;
END
$$;

COMMENT ON FUNCTION couplet.sync_records(text, text, text[], text) IS
    'Synchronize chosen records now (Business Central''s Synchronize on a selection): enqueues one sync.records job for ids of side '
    '(local or integration), only the pass in direction (to_integration, from_integration) or, when NULL, both — the pass from side '
    'first. Logs one done sync action per record, with the job''s id, and returns them';

-- Functions are executable by PUBLIC unless revoked: only the administrator may call these.
REVOKE ALL ON FUNCTION
    couplet.require_mapping(text),
    couplet.require_side(text),
    couplet.require_enabled(couplet.table_mappings),
    couplet.require_pass(couplet.table_mappings, text, text, text),
    couplet.find_pair(couplet.table_mappings, text, text),
    couplet.insert_coupling(couplet.table_mappings, text, text),
    couplet.log_record_action(text, text, text, text, bigint, text, text),
    couplet.enqueue_records_sync(text, text, text[], text),
    couplet.request_deletion_resolution(text, text, text, text),
    couplet.resolve_conflict(text, text, text, text),
    couplet.restore_record(text, text, text),
    couplet.delete_survivor(text, text, text),
    couplet.uncouple_record(text, text, text),
    couplet.couple_records(text, text, text),
    couplet.sync_records(text, text, text[], text)
FROM PUBLIC;

-- The functions are SECURITY INVOKER: they act with the administrator's own table privileges.
GRANT EXECUTE ON FUNCTION
    couplet.require_mapping(text),
    couplet.require_side(text),
    couplet.require_enabled(couplet.table_mappings),
    couplet.require_pass(couplet.table_mappings, text, text, text),
    couplet.find_pair(couplet.table_mappings, text, text),
    couplet.insert_coupling(couplet.table_mappings, text, text),
    couplet.log_record_action(text, text, text, text, bigint, text, text),
    couplet.enqueue_records_sync(text, text, text[], text),
    couplet.request_deletion_resolution(text, text, text, text),
    couplet.resolve_conflict(text, text, text, text),
    couplet.restore_record(text, text, text),
    couplet.delete_survivor(text, text, text),
    couplet.uncouple_record(text, text, text),
    couplet.couple_records(text, text, text),
    couplet.sync_records(text, text, text[], text)
TO couplet_admin;

GRANT SELECT, INSERT, UPDATE ON couplet.record_actions TO couplet_admin;
GRANT SELECT, UPDATE (state, settled_at, run_id, outcome) ON couplet.record_actions TO couplet_worker;
GRANT SELECT ON couplet.record_actions TO couplet_reader;
