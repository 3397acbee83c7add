"""The per-client lock that orders a shard move against the client's own transactions.

Every transaction ``JobStore.on_shard`` runs for a client takes the client's lock, shared,
before any row; a move's last step takes it exclusive, then the client's rows. So a move waits
for the client's transactions under way and the next ones wait for the move (then follow the
client to its new shard), the lock is always taken first (batch creation and the move take
it before their batch and job rows alike, so they cannot deadlock), and no other client waits.
It is a transaction-level advisory lock keyed (``CLIENT_LOCK``, ``hashtext(client_id)``):
released at commit or rollback; two clients sharing a hash only wait for each other's move.
"""

from __future__ import annotations

CLIENT_LOCK = 0x726D6F76  # the advisory lock space of client locks (int4)


def share_client(conn, client_id: str) -> None:
    """The client's lock, shared, until the transaction ends (waits while a move holds it)."""
    conn.execute("SELECT pg_advisory_xact_lock_shared(%s, hashtext(%s))", (CLIENT_LOCK, client_id))


def own_client(conn, client_id: str) -> None:
    """The client's lock, exclusive, until the transaction ends (waits for its transactions)."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (CLIENT_LOCK, client_id))
