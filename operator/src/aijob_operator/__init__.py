"""The aijob operator: kopf handlers that reconcile AIJobs into Kubernetes Jobs.

Importing the package registers the handlers (one module per resource); the logic
lives in the reconciler, the pure decisions and the builders.
"""

from aijob_operator.handlers import aijobs, lifecycle

__all__ = ["aijobs", "lifecycle"]
