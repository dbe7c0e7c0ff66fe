-- PowerAuth Cloud administration: which applications an integration user may use
-- (`POST /powerauth-cloud/admin/users/{username}/applications/{appId}`), and the roles an
-- application was created with (`POST /powerauth-cloud/admin/applications {"id", "roles"}`).
CREATE TABLE user_applications (
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    application_id TEXT NOT NULL REFERENCES applications (application_id) ON DELETE CASCADE,
    timestamp_created BIGINT NOT NULL,
    PRIMARY KEY (username, application_id)
);

CREATE TABLE application_roles (
    application_id TEXT NOT NULL REFERENCES applications (application_id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (application_id, role)
);
