DROP INDEX cases_agency_status_id_idx;
DROP INDEX cases_status_id_idx;
