-- How each worker process is waiting for the service protection limits of the Web API endpoints
-- it talks to (Dataverse, Business Central): what `couplet status` shows as "API limits", and what
-- a DBA queries to see that a slow sync is waiting for the service rather than working.
--
-- Each worker keeps one row per endpoint it has sent requests to, rewritten every few seconds while
-- anything changes; a worker that stops takes its rows with it.

CREATE TABLE couplet.endpoint_limits (
    worker_id   uuid        NOT NULL REFERENCES couplet.workers (id) ON DELETE CASCADE,
    endpoint    text        NOT NULL,
    waiting     integer     NOT NULL CHECK (waiting >= 0),
    in_flight   integer     NOT NULL CHECK (in_flight >= 0),
    paused      boolean     NOT NULL,
    waited      interval    NOT NULL CHECK (waited >= interval '0'),
    throttled   bigint      NOT NULL CHECK (throttled >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (worker_id, endpoint)
);

COMMENT ON TABLE couplet.endpoint_limits IS
    'Per worker and Web API endpoint: requests waiting for the service protection limits now, and the waits so far';
COMMENT ON COLUMN couplet.endpoint_limits.waiting IS 'Requests waiting for a permit now (request budget, concurrency cap or a pause)';
COMMENT ON COLUMN couplet.endpoint_limits.in_flight IS 'Requests sent and not yet answered';
COMMENT ON COLUMN couplet.endpoint_limits.paused IS 'The service answered 429 Too Many Requests and its Retry-After has not passed';
COMMENT ON COLUMN couplet.endpoint_limits.waited IS 'Time the worker''s requests spent waiting for a permit since it started, summed over requests';
COMMENT ON COLUMN couplet.endpoint_limits.throttled IS 'The 429 Too Many Requests answers the worker has had since it started';

GRANT SELECT, INSERT, UPDATE, DELETE ON couplet.endpoint_limits TO couplet_worker;
GRANT SELECT ON couplet.endpoint_limits TO couplet_admin, couplet_reader;
