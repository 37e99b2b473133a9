-- Endpoints of the Web API kinds: Dataverse (Dynamics 365 Sales) and Business Central API v2.0.
-- Their settings that are not secret (environment URL, tenant, client id, company) come from the
-- mappings file; secrets stay in the workers' environment (COUPLET_ENDPOINT_<NAME>_SECRET).

ALTER TABLE couplet.endpoints DROP CONSTRAINT endpoints_kind_check;
ALTER TABLE couplet.endpoints ADD CONSTRAINT endpoints_kind_check CHECK (kind IN ('postgres', 'dataverse', 'business-central'));
ALTER TABLE couplet.endpoints ADD COLUMN settings jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object');

COMMENT ON COLUMN couplet.endpoints.settings IS
    'The kind''s settings that are not secret, from the mappings file: url, tenant, client_id, environment, company, authority. Never a secret';

-- Workers open each endpoint through the connector of its kind, with these settings.
GRANT SELECT ON couplet.endpoints TO couplet_worker;
