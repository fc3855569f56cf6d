"""API keys (hashed, bound to a tenant namespace) and per-key rate limits."""
