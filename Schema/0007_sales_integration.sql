-- The Business Central ↔ Sales reference integration's own jobs: customer statistics and item availability.

CREATE TABLE couplet.integration_watermarks (
    job_kind             text        NOT NULL,
    mapping              text        NOT NULL REFERENCES couplet.table_mappings (name) ON DELETE CASCADE,
    watermark            timestamptz NOT NULL,
    couplings_watermark  timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_kind, mapping)
);

COMMENT ON TABLE couplet.integration_watermarks IS
    'Per integration job kind and mapping: the ERP modified-on up to which changes are handled, and the coupled_at up to which new couplings are (each capped at the start of the oldest transaction open on its database, so a late commit is read by the next run)';

CREATE TABLE couplet.item_availability (
    item_no      text          PRIMARY KEY,
    product_id   text          NOT NULL,
    inventory    numeric(18,4) NOT NULL,
    reserved     numeric(18,4) NOT NULL,
    available    numeric(18,4) NOT NULL,
    computed_at  timestamptz   NOT NULL DEFAULT now()
);

COMMENT ON TABLE couplet.item_availability IS
    'Each coupled item''s availability as the availability.items job last computed it: inventory (item ledger) minus reserved (outstanding quantity on sales orders)';

-- The one door of the product availability user (couplet_availability): an item's row, or no row.
CREATE FUNCTION couplet.item_availability(item_no text)
RETURNS SETOF couplet.item_availability
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = couplet, pg_temp
AS $$
    SELECT a.* FROM couplet.item_availability AS a WHERE a.item_no = $1
$$;

COMMENT ON FUNCTION couplet.item_availability(text) IS
    'An item''s inventory, reserved and available quantities and when they were computed; no row for an item the availability job has not computed';

REVOKE ALL ON FUNCTION couplet.item_availability(text) FROM PUBLIC;

-- Privileges (roles from 0006): workers keep the watermarks and figures; people read them; the
-- product availability user may call the function and nothing else.
GRANT EXECUTE ON FUNCTION couplet.item_availability(text) TO couplet_availability, couplet_admin;
GRANT SELECT, INSERT, UPDATE ON couplet.integration_watermarks, couplet.item_availability TO couplet_worker;
GRANT SELECT ON couplet.integration_watermarks, couplet.item_availability TO couplet_admin, couplet_reader;
