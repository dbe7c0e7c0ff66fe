-- Numeric template ids: PowerAuth Server's template API (`/rest/v3/operation/template/*`)
-- names a template by `id` for detail, update and remove. Existing templates are numbered
-- in name order (`login` 1, `payment` 2).
ALTER TABLE operation_templates ADD COLUMN template_id BIGINT;
UPDATE operation_templates SET template_id = (
    SELECT COUNT(*) FROM operation_templates AS earlier
    WHERE earlier.template_name <= operation_templates.template_name
);
CREATE UNIQUE INDEX operation_templates_id ON operation_templates (template_id);
