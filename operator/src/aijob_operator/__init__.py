"""The aijob operator: kopf handlers that reconcile AIJobs into Kubernetes Jobs, and
AIEndpoints into Deployments of model servers behind Services.

Importing the package registers the handlers (one module per resource); the logic
lives in the reconciler, the pure decisions and the builders.
"""

from aijob_operator.handlers import aiendpoints, aijobs, lifecycle

__all__ = ["aiendpoints", "aijobs", "lifecycle"]
