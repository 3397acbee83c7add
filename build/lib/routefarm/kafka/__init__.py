"""Kafka: re-optimization events in (ingest), job lifecycle events out (outbox relay)."""
