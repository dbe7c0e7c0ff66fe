-- The access history's insertion order: `access_number` counts the accesses in the order
-- they were recorded (taken from the `sequences` counter in the insert's transaction), so
-- two accesses within one millisecond list in the order they happened, not by their random
-- ids. Existing accesses are numbered by time, then id (their order within a millisecond
-- was never kept).
ALTER TABLE profile_accesses ADD COLUMN access_number BIGINT;
UPDATE profile_accesses SET access_number = (
    SELECT COUNT(*) FROM profile_accesses AS earlier
    WHERE earlier.at_ms < profile_accesses.at_ms
       OR (earlier.at_ms = profile_accesses.at_ms
           AND earlier.access_id <= profile_accesses.access_id)
);
CREATE UNIQUE INDEX profile_accesses_number ON profile_accesses (access_number);
INSERT INTO sequences (name, value)
    SELECT 'profile_accesses', COUNT(*) FROM profile_accesses;
