-- Catalogue filters are evaluated from this index alone (no visit to the rows and their JSON
-- content) before the few matching rows are read: a search that matches nothing no longer
-- reads the whole table.
DROP INDEX procedure_versions_current_idx;
CREATE INDEX procedure_versions_current_idx ON procedure_versions (is_current, procedure_code, search, agency_ids, levels, online_level, sector, field_code);
