-- Inboxes filter by status within an agency subtree and page in id order: these let the
-- database walk the index in page order instead of sorting the subtree's cases.
CREATE INDEX cases_status_id_idx ON cases (status, id);
CREATE INDEX cases_agency_status_id_idx ON cases (agency_id, status, id);
