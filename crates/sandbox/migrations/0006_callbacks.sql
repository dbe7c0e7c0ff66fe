-- Application callbacks (PowerAuth Server's `/rest/v3/application/callback/*`): URLs the
-- sandbox POSTs to when an activation or an operation changes state, one event per change
-- and URL, and every delivery attempt of each event (the console's delivery log).

-- PowerAuth Server's `pa_application_callback`. A removed URL stays as `enabled = 0` so its
-- delivery log keeps its name (PowerAuth Server removes the same way).
CREATE TABLE callback_urls (
    callback_id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (application_id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- ACTIVATION_STATUS_CHANGE or OPERATION_STATUS_CHANGE.
    callback_type TEXT NOT NULL,
    callback_url TEXT NOT NULL,
    -- JSON array of the payload attributes to send.
    attributes TEXT NOT NULL,
    -- JSON of the request's `authentication` (HttpAuthenticationPrivate, secrets included);
    -- answers only ever show which secrets are set.
    authentication TEXT NOT NULL,
    -- Per-URL retry settings; NULL means the sandbox default.
    retention_period_ms BIGINT,
    initial_backoff_ms BIGINT,
    max_attempts BIGINT,
    enabled BIGINT NOT NULL,
    timestamp_created BIGINT NOT NULL,
    timestamp_last_updated BIGINT
);
CREATE INDEX callback_urls_by_application ON callback_urls (application_id, enabled);

-- PowerAuth Server's `pa_application_callback_event`: one status change for one URL.
-- `event_number` orders events (the test clock may give many the same time).
CREATE TABLE callback_events (
    event_id TEXT PRIMARY KEY,
    event_number BIGINT NOT NULL UNIQUE,
    callback_id TEXT NOT NULL REFERENCES callback_urls (callback_id) ON DELETE CASCADE,
    application_id TEXT NOT NULL,
    -- The payload's `type`: ACTIVATION or OPERATION.
    event_type TEXT NOT NULL,
    -- The activationId or operationId, and the state it changed to.
    subject_id TEXT NOT NULL,
    subject_status TEXT NOT NULL,
    -- The JSON body POSTed.
    callback_data TEXT NOT NULL,
    -- PROCESSING, PENDING (waiting for a retry), COMPLETED or FAILED.
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    idempotency_key TEXT NOT NULL,
    timestamp_created BIGINT NOT NULL,
    timestamp_next_call BIGINT,
    timestamp_delete_after BIGINT
);
CREATE INDEX callback_events_by_application ON callback_events (application_id, event_number);
CREATE INDEX callback_events_by_expiry ON callback_events (timestamp_delete_after);

-- Every delivery attempt: when, where (the URL with its credentials and query values
-- masked), and the HTTP status or the error.
CREATE TABLE callback_attempts (
    event_id TEXT NOT NULL REFERENCES callback_events (event_id) ON DELETE CASCADE,
    attempt BIGINT NOT NULL,
    timestamp_started BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    url TEXT NOT NULL,
    http_status BIGINT,
    error TEXT,
    PRIMARY KEY (event_id, attempt)
);
