-- Recovery postcards (PowerAuth Server's `/rest/v3/recovery/*`): a per-application
-- recovery configuration with the postcard key pair, numeric recovery code ids (the
-- server API names codes by a `long`), and when a code last changed.

CREATE TABLE recovery_configs (
    application_id TEXT PRIMARY KEY REFERENCES applications (application_id) ON DELETE CASCADE,
    activation_recovery_enabled BIGINT NOT NULL,
    recovery_postcard_enabled BIGINT NOT NULL,
    allow_multiple_recovery_codes BIGINT NOT NULL,
    -- Base64 of the 32-byte scalar; generated the first time postcards are enabled.
    postcard_private_key TEXT,
    -- Base64 of the uncompressed point.
    postcard_public_key TEXT,
    -- The printing center's public key, Base64 as given.
    remote_postcard_public_key TEXT
);

-- Named counters, taken with `UPDATE … SET value = value + 1 … RETURNING value`: the row
-- lock orders concurrent writers on PostgreSQL, SQLite's write lock does the same.
CREATE TABLE sequences (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

ALTER TABLE recovery_codes ADD COLUMN recovery_code_number BIGINT;
ALTER TABLE recovery_codes ADD COLUMN timestamp_last_change BIGINT;
-- Existing codes are numbered in the order they were made.
UPDATE recovery_codes SET recovery_code_number = (
    SELECT COUNT(*) FROM recovery_codes AS earlier
    WHERE earlier.timestamp_created < recovery_codes.timestamp_created
       OR (earlier.timestamp_created = recovery_codes.timestamp_created
           AND earlier.recovery_code_id <= recovery_codes.recovery_code_id)
);
CREATE UNIQUE INDEX recovery_codes_number ON recovery_codes (recovery_code_number);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);
CREATE INDEX recovery_codes_activation ON recovery_codes (activation_id);
INSERT INTO sequences (name, value)
    SELECT 'recovery_codes', COUNT(*) FROM recovery_codes;
