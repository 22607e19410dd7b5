DROP TABLE feedback_sequences;
DROP TABLE feedback_documents;
DROP TABLE feedback_events;
DROP TABLE feedback;
