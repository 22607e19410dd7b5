-- Quarterly agency evaluations (domain.md §8.2): the self-assessed and the appraised scores of
-- the indicators the data cannot decide (or that an assessor corrects), per agency and quarter.
-- The computed scores are not stored: they follow from the cases, catalogue and feedback.
CREATE TABLE agency_evaluations (
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    quarter TEXT NOT NULL,
    self_scores TEXT NOT NULL,
    appraised_scores TEXT NOT NULL,
    deduction_reasons TEXT,
    updated_by TEXT REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (agency_id, quarter)
);
CREATE INDEX agency_evaluations_updated_by_idx ON agency_evaluations (updated_by);
