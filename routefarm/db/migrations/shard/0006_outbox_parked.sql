-- An outbox row that Kafka refuses for good (too large, an invalid record) or that cannot be
-- encoded is parked by the relay: it stays unsent, with the time and the reason, and the
-- relay passes over it (routefarm/kafka/relay.py); `routefarm outbox retry` hands it back,
-- `routefarm outbox drop` deletes it. Nullable columns without a default: no table rewrite.
ALTER TABLE outbox ADD COLUMN parked_at timestamptz;
ALTER TABLE outbox ADD COLUMN parked_reason text;
