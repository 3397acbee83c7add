-- Webhooks (endpoints, deliveries, attempts, per-client signing secrets) and batches.
-- Every row belongs to one client and lives in that client's shard.

CREATE TABLE batches (
    id            uuid PRIMARY KEY,
    client_id     text NOT NULL,
    total         integer NOT NULL CHECK (total > 0),
    metadata      jsonb NOT NULL DEFAULT '{}',
    webhook_url   text,                 -- one-off target of batch.completed
    created_at    timestamptz NOT NULL DEFAULT now(),
    cancel_requested_at timestamptz,
    completed_at  timestamptz           -- set once, when every job is terminal
);
CREATE INDEX batches_client ON batches (client_id, id DESC);

ALTER TABLE jobs ADD COLUMN batch_id uuid;
ALTER TABLE jobs ADD COLUMN webhook_url text;  -- one-off target of this job's terminal event
CREATE INDEX jobs_batch ON jobs (batch_id, status) WHERE batch_id IS NOT NULL;

-- the secret that signs a client's one-off webhooks (created on first need)
CREATE TABLE client_secrets (
    client_id            text PRIMARY KEY,
    secret               text NOT NULL,
    previous_secret      text,
    previous_expires_at  timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    rotated_at           timestamptz
);

CREATE TABLE webhook_endpoints (
    id                   uuid PRIMARY KEY,
    client_id            text NOT NULL,
    url                  text NOT NULL,
    description          text NOT NULL DEFAULT '',
    event_types          text[] NOT NULL,
    secret               text NOT NULL,
    previous_secret      text,
    previous_expires_at  timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    rotated_at           timestamptz,
    first_failure_at     timestamptz,  -- first failure since the last success
    last_success_at      timestamptz,
    disabled_at          timestamptz,
    disabled_reason      text
);
CREATE INDEX webhook_endpoints_client ON webhook_endpoints (client_id, id);

-- one row per event per target; its id is the webhook-id header, stable across attempts
CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,
    client_id        text NOT NULL,
    endpoint_id      uuid,            -- NULL: a one-off target (a job's or a batch's webhook)
    url              text NOT NULL,   -- the target when created (an endpoint's current URL is used)
    event_type       text NOT NULL,
    job_id           uuid,
    batch_id         uuid,
    event_at         timestamptz NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'succeeded', 'failed', 'disabled')),
    attempts         integer NOT NULL DEFAULT 0,
    schedule_from    integer NOT NULL DEFAULT 0,  -- attempts made before the last manual retry
    next_attempt_at  timestamptz,
    message_id       text,            -- the broker message due to make the next attempt
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX webhook_deliveries_job ON webhook_deliveries (client_id, job_id);
CREATE INDEX webhook_deliveries_batch ON webhook_deliveries (client_id, batch_id);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id) WHERE status = 'pending';
-- what the reaper scans for deliveries whose message was lost
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    id               uuid PRIMARY KEY,
    delivery_id      uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    client_id        text NOT NULL,
    attempt          integer NOT NULL,
    url              text NOT NULL,
    at               timestamptz NOT NULL DEFAULT now(),
    status_code      integer,
    latency_ms       double precision NOT NULL,
    error            text,
    next_attempt_at  timestamptz
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);

-- a late insert for a client that moved away is refused here too (see 0002)
CREATE TRIGGER batches_refuse_moved_client BEFORE INSERT ON batches
    FOR EACH ROW EXECUTE FUNCTION refuse_moved_client();
CREATE TRIGGER client_secrets_refuse_moved_client BEFORE INSERT ON client_secrets
    FOR EACH ROW EXECUTE FUNCTION refuse_moved_client();
CREATE TRIGGER webhook_endpoints_refuse_moved_client BEFORE INSERT ON webhook_endpoints
    FOR EACH ROW EXECUTE FUNCTION refuse_moved_client();
CREATE TRIGGER webhook_deliveries_refuse_moved_client BEFORE INSERT ON webhook_deliveries
    FOR EACH ROW EXECUTE FUNCTION refuse_moved_client();
CREATE TRIGGER webhook_attempts_refuse_moved_client BEFORE INSERT ON webhook_attempts
    FOR EACH ROW EXECUTE FUNCTION refuse_moved_client();
