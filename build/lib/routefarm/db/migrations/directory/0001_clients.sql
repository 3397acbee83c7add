CREATE TABLE clients (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- only a SHA-256 of each key is stored; keys are 256-bit random strings
CREATE TABLE api_keys (
    key_hash    bytea PRIMARY KEY,
    client_id   text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_client ON api_keys (client_id);

-- where each client's rows live; ``moving_to`` is set while ``shards move`` copies them
CREATE TABLE client_shards (
    client_id   text PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    shard       text NOT NULL,
    moving_to   text,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
