-- The applicant's satisfaction with a returned case (Art. 5.2.g), once per case.
CREATE TABLE case_ratings (
    case_id       VARCHAR(36) PRIMARY KEY REFERENCES cases (id),
    satisfaction  TEXT NOT NULL CHECK (satisfaction IN ('very_satisfied', 'satisfied', 'unsatisfied')),
    comment       TEXT,
    created_at    TIMESTAMP NOT NULL
);
