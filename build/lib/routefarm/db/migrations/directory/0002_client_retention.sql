-- a client's own retention of its ended jobs, in seconds (NULL: the farm's default;
-- 0: kept until deleted by hand)
ALTER TABLE clients ADD COLUMN retention_s double precision CHECK (retention_s IS NULL OR retention_s >= 0);
