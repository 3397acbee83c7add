"""Jobs from acceptance to their end: the state machine (``states``), the store that routes
rows to the client's shard (``store``), submission (``submit``, ``batches``), the status
document (``documents``), the one way out of a job (``ending``) and the reaper."""
