"""The aijob operator: kopf handlers that reconcile AIJobs into Kubernetes Jobs."""
