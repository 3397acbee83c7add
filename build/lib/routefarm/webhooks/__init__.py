"""Webhooks: endpoints, signed deliveries with retries, the SSRF guard (DESIGN §8)."""
