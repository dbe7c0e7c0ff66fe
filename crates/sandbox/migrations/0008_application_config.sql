-- PowerAuth Server's application configuration (`/rest/v3/application/config/*`: a key
-- and a JSON list of values). Application roles (`/rest/v3/application/roles/*`) live in
-- `application_roles` (0007), shared with the Cloud API.
CREATE TABLE application_configs (
    application_id TEXT NOT NULL REFERENCES applications (application_id) ON DELETE CASCADE,
    config_key TEXT NOT NULL,
    config_values TEXT NOT NULL,
    PRIMARY KEY (application_id, config_key)
);
