-- Profile "facemap": authentication transactions in Jumio's shapes
-- (`/profiles/facemap/api/authentication/v1/facemap/initiate`). TEXT and BIGINT only.

-- API credentials of a sandbox application: the API token is the Basic user id, the API
-- secret the password (stored as an Argon2 hash; shown once when made).
CREATE TABLE facemap_credentials (
    api_token TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (application_id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    timestamp_created BIGINT NOT NULL
);

-- One authentication transaction. The facemap itself is never stored: only its size.
CREATE TABLE facemap_transactions (
    transaction_reference TEXT PRIMARY KEY,
    application_id TEXT NOT NULL,
    api_token TEXT NOT NULL,
    enrollment_transaction_reference TEXT NOT NULL,
    user_reference TEXT,
    callback_url TEXT,
    success_url TEXT,
    error_url TEXT,
    locale TEXT,
    -- SDK or WEB.
    scan_source TEXT NOT NULL,
    -- The web redirect URL's token; NULL for SDK transactions.
    authorization_token TEXT,
    facemap_size BIGINT NOT NULL,
    -- CREATED, STARTED, PASSED, FAILED, INVALID or EXPIRED.
    result TEXT NOT NULL,
    -- What the capture showed (LIVE_MATCH, SPOOF, DIFFERENT_PERSON, TIMEOUT,
    -- SUPERSEDED), NULL before it ends.
    reason TEXT,
    timestamp_created BIGINT NOT NULL,
    timestamp_expires BIGINT NOT NULL,
    timestamp_finished BIGINT,
    -- The final state's callback: NULL (none due), PENDING, COMPLETED or FAILED, with the
    -- attempts so far and the last answer.
    callback_status TEXT,
    callback_attempts BIGINT NOT NULL,
    callback_http_status BIGINT,
    callback_error TEXT,
    callback_next_ms BIGINT
);
CREATE INDEX facemap_transactions_by_enrollment
    ON facemap_transactions (enrollment_transaction_reference, timestamp_created);
CREATE INDEX facemap_transactions_open ON facemap_transactions (result, timestamp_expires);
CREATE INDEX facemap_transactions_callbacks ON facemap_transactions (callback_status, callback_next_ms);
