"""The aijob gateway: a thin FastAPI service over the AIJob resource."""
