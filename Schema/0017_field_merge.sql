-- Field-level merge: the update-conflict policy `merge` lets changes to different fields of a
-- coupled pair travel both ways; only a field changed on both sides to different values is a
-- conflict. It needs to know, per field, what each side held when the pair was last synced: a
-- fingerprint of each mapped column's value, kept in the coupling (never a copy of the data).

ALTER TABLE couplet.table_mappings DROP CONSTRAINT table_mappings_update_conflict_check;
ALTER TABLE couplet.table_mappings ADD CONSTRAINT table_mappings_update_conflict_check
    CHECK (update_conflict IN ('fail', 'send_to_integration', 'get_from_integration', 'merge'));

ALTER TABLE couplet.couplings
    ADD COLUMN local_fields jsonb,
    ADD COLUMN integration_fields jsonb;

COMMENT ON COLUMN couplet.couplings.local_fields IS
    'Under update_conflict merge: {"column": "fingerprint"} of each mapped local column as last synced (a 64-bit FNV-1a hash of its text in hex, "-" for NULL). A column whose value no longer has its fingerprint changed since; NULL or a missing column means unknown, which counts as changed';
COMMENT ON COLUMN couplet.couplings.integration_fields IS
    'Under update_conflict merge: {"column": "fingerprint"} of each mapped integration column as last synced; see local_fields';
