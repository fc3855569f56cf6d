"""What the gateway does, between the routers (HTTP) and the Kubernetes layer."""
