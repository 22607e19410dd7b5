DROP INDEX procedure_versions_current_idx;
CREATE INDEX procedure_versions_current_idx ON procedure_versions (is_current, procedure_code);
