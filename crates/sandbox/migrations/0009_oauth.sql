-- OAuth 2.0 authorization server (RFC 6749 client credentials and refresh, RFC 7009
-- revocation, RFC 8628 device authorization), under /oauth2. Client secrets, tokens, device
-- codes and user codes are kept as SHA-256 digests (Base64) only: the database never holds
-- a live secret.
CREATE TABLE oauth_clients (
    client_id TEXT PRIMARY KEY,
    -- NULL for a public client (`token_endpoint_auth_method` "none", device flow only).
    secret_digest TEXT,
    client_name TEXT NOT NULL,
    -- Space-separated, as RFC 7591 writes `scope`.
    grant_types TEXT NOT NULL,
    scope TEXT NOT NULL,
    timestamp_created BIGINT NOT NULL
);

CREATE TABLE oauth_tokens (
    token_digest TEXT PRIMARY KEY,
    -- ACCESS or REFRESH.
    kind TEXT NOT NULL,
    -- Tokens of one grant (a client credentials exchange or a device authorization) share it,
    -- so revoking the refresh token revokes the access tokens made from it (RFC 7009 §2.1).
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    -- The device's id (`/vendor/acme/serial/1234`) for a device authorization grant.
    device_id TEXT,
    scope TEXT NOT NULL,
    -- NULL: does not expire (refresh tokens live until revoked).
    timestamp_expires BIGINT,
    revoked BIGINT NOT NULL,
    timestamp_created BIGINT NOT NULL
);
CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);

CREATE TABLE oauth_device_authorizations (
    device_code_digest TEXT PRIMARY KEY,
    user_code_digest TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    -- PENDING, APPROVED, DENIED, ISSUED (tokens handed out once).
    status TEXT NOT NULL,
    interval_seconds BIGINT NOT NULL,
    timestamp_last_poll BIGINT,
    timestamp_expires BIGINT NOT NULL,
    timestamp_created BIGINT NOT NULL
);
