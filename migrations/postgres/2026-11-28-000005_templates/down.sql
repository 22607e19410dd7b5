DROP TABLE procedure_templates;
