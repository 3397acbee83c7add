"""Postgres: a directory database (clients, keys, shard map) and N shard databases (jobs)."""
