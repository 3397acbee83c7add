CREATE TABLE jobs (
    id                 uuid PRIMARY KEY,
    client_id          text NOT NULL,
    status             text NOT NULL
                       CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    problem            jsonb NOT NULL,
    problem_hash       text NOT NULL,
    metadata           jsonb NOT NULL DEFAULT '{}',
    solution           jsonb,
    error              jsonb,
    attempts           integer NOT NULL DEFAULT 0,
    max_attempts       integer NOT NULL,
    lease_until        timestamptz,
    worker             text,
    message_id         text,
    cancel_requested   boolean NOT NULL DEFAULT false,
    idempotency_key    text,
    request_hash       text,
    request_id         text,
    deduplicated_from  uuid,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    queued_at          timestamptz NOT NULL DEFAULT now(),
    started_at         timestamptz,
    finished_at        timestamptz
);
-- keyset pagination of one client's jobs, newest first (ids are time-ordered)
CREATE INDEX jobs_client_id ON jobs (client_id, id DESC);
CREATE UNIQUE INDEX jobs_idempotency ON jobs (client_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_dedup ON jobs (client_id, problem_hash, finished_at DESC)
    WHERE status = 'succeeded';
-- what the reaper scans
CREATE INDEX jobs_open ON jobs (status, lease_until) WHERE status IN ('queued', 'running');
