-- Profile `signed-token` (/profiles/signed-token, issue 16 §4): the vendor's projects.
-- `require_signed_tokens` is the project setting that makes attach and identify refuse a
-- call without a valid token; tokens are HS256 JWTs signed with `api_secret`; `sign_calls`
-- counts the vendor sign endpoint's (paid) calls; `sign_rate_per_minute` is the per-user rate
-- of the app server's sign endpoint.
CREATE TABLE profile_signed_token_projects (
    project_id TEXT PRIMARY KEY,
    api_key TEXT NOT NULL UNIQUE,
    api_secret TEXT NOT NULL,
    require_signed_tokens BIGINT NOT NULL,
    token_lifetime_seconds BIGINT NOT NULL,
    sign_rate_per_minute BIGINT NOT NULL,
    sign_calls BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
