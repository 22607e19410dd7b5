-- Where the national portal's view of a case (TraCuuHoSo) differs from ours, as last checked by
-- the reconciliation job. One row per target and case; a case that agrees has no row.
CREATE TABLE reconciliation_findings (
    target TEXT NOT NULL,
    case_code TEXT NOT NULL,
    kind TEXT NOT NULL,
    ours_status INTEGER NOT NULL,
    theirs_status INTEGER,
    ours_due TEXT,
    theirs_due TEXT,
    checked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (target, case_code)
);
CREATE INDEX reconciliation_findings_checked_idx ON reconciliation_findings (target, checked_at);
