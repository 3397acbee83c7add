-- The secret that signs a client's events on routefarm.reoptimize (routefarm/kafka/signing.py).
-- HMAC needs the secret itself, so it is stored as is (unlike API keys, of which only a hash
-- is kept); `routefarm clients ingest-key` creates it or rotates it. After a rotation the
-- previous secret still verifies until previous_expires_at.
CREATE TABLE ingest_keys (
    client_id            text PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    secret               text NOT NULL,
    previous_secret      text,
    previous_expires_at  timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    rotated_at           timestamptz
);
