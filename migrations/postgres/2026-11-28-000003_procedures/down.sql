DROP TABLE faqs;
DROP TABLE workflows;
DROP TABLE procedure_versions;
DROP TABLE procedures;
