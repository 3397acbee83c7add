-- routefarm: no-transaction
-- What the purge of expired rows scans, built without blocking writes on a large shard.
-- An index a failed build left invalid is dropped first, so the file can run again.
DROP INDEX CONCURRENTLY IF EXISTS jobs_ended;
CREATE INDEX CONCURRENTLY jobs_ended ON jobs (finished_at) WHERE finished_at IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS batches_completed;
CREATE INDEX CONCURRENTLY batches_completed ON batches (completed_at) WHERE completed_at IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS outbox_job;
CREATE INDEX CONCURRENTLY outbox_job ON outbox (job_id);
