-- Device-authentication profiles (issue 16), the shared part: every profile's access
-- history (`/profiles/accesses`, the console, the app's inspector). Nothing secret.
CREATE TABLE profile_accesses (
    access_id TEXT PRIMARY KEY,
    profile TEXT NOT NULL,
    project_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    credential TEXT NOT NULL,
    signed BIGINT NOT NULL,
    accepted BIGINT NOT NULL,
    reason TEXT,
    at_ms BIGINT NOT NULL
);
CREATE INDEX profile_accesses_subject ON profile_accesses (profile, project_id, subject, at_ms);

-- Profile `jwt` (/profiles/jwt): the vendor's projects. `api_key` authorises the bank's app
-- server on POST /gen-jwt; `mobile_api_key` is the key a mobile app sends in API-key mode;
-- JWTs are ES256, signed with `signing_key` (PKCS#8, Base64), checked with `public_key`
-- (the uncompressed P-256 point, Base64).
CREATE TABLE profile_jwt_projects (
    project_id TEXT PRIMARY KEY,
    api_key TEXT NOT NULL UNIQUE,
    mobile_api_key TEXT NOT NULL UNIQUE,
    signing_key TEXT NOT NULL,
    public_key TEXT NOT NULL,
    jwt_lifetime_seconds BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

-- The bank's minimal app server: its users' logins (PBKDF2-HMAC-SHA256, salted).
CREATE TABLE profile_jwt_users (
    project_id TEXT NOT NULL REFERENCES profile_jwt_projects (project_id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    password_salt TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    PRIMARY KEY (project_id, username)
);
