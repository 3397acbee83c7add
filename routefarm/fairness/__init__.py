"""Per-client fairness, farm-wide in Redis: a client's request rate (``rates``, a token
bucket that a batch draws one token per job from) and what a client may hold at once
(``slots``: open long-polls, webhook deliveries in flight)."""
