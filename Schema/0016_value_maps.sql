-- Value maps: named two-way translations between local and integration values (`NO ↔ Norway`),
-- declared under `value_maps:` in the mappings file, stored by `couplet mappings apply` and
-- applied by the rule `map(NAME)` of a field mapping.

CREATE TABLE couplet.value_maps (
    name                          text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_-]{1,63}$'),
    has_default_to_integration    boolean     NOT NULL DEFAULT false,
    default_to_integration        text,
    has_default_from_integration  boolean     NOT NULL DEFAULT false,
    default_from_integration      text,
    created_at                    timestamptz NOT NULL DEFAULT now(),
    updated_at                    timestamptz NOT NULL DEFAULT now(),
    CHECK (has_default_to_integration OR default_to_integration IS NULL),
    CHECK (has_default_from_integration OR default_from_integration IS NULL)
);

COMMENT ON TABLE couplet.value_maps IS
    'Named value maps for the rule map(NAME). Without a default for a direction (has_default_* false) a value in no pair fails its record; with one, default_* (NULL included) is used';

CREATE TABLE couplet.value_map_pairs (
    value_map          text    NOT NULL REFERENCES couplet.value_maps (name) ON DELETE CASCADE,
    position           integer NOT NULL,
    local_value        text    NOT NULL,
    integration_value  text    NOT NULL,
    PRIMARY KEY (value_map, position),
    UNIQUE (value_map, local_value),
    UNIQUE (value_map, integration_value)
);

COMMENT ON TABLE couplet.value_map_pairs IS
    'The pairs of each value map in file order; one-to-one, so that map(NAME) translates both ways';

GRANT SELECT ON couplet.value_maps, couplet.value_map_pairs TO couplet_admin, couplet_worker, couplet_reader;
GRANT INSERT, UPDATE, DELETE ON couplet.value_maps, couplet.value_map_pairs TO couplet_admin;
