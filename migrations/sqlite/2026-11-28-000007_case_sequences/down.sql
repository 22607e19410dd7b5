DROP TABLE case_sequences;
