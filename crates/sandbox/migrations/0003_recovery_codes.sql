-- Recovery codes issued with activations, and their PUKs (Argon2id PHC hashes).

CREATE TABLE recovery_codes (
    recovery_code_id TEXT PRIMARY KEY,
    revision BIGINT NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (application_id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    activation_id TEXT,
    recovery_code TEXT NOT NULL,
    status TEXT NOT NULL,
    failed_attempts BIGINT NOT NULL,
    max_failed_attempts BIGINT NOT NULL,
    timestamp_created BIGINT NOT NULL
);
-- A code identifies one recovery while it can still be used.
CREATE UNIQUE INDEX recovery_codes_live ON recovery_codes (application_id, recovery_code)
    WHERE status IN ('CREATED', 'ACTIVE');

CREATE TABLE recovery_puks (
    recovery_code_id TEXT NOT NULL REFERENCES recovery_codes (recovery_code_id) ON DELETE CASCADE,
    puk_index BIGINT NOT NULL,
    puk_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (recovery_code_id, puk_index)
);
