"""The gateway's Kubernetes layer: the client, watch-backed caches and the job store."""
