"""The aijob operator: kopf handlers that reconcile AIJobs into Kubernetes Jobs, and
AIEndpoints into Deployments of model servers behind Services.

Importing the package registers the handlers (one module per resource); the logic
lives in the reconciler, the pure decisions and the builders.

The cyclic garbage collector is paused while the handlers import (and with them kopf,
lightkube, pydantic and every model): the import makes hundreds of thousands of objects
and no garbage, and the collector's passes over them were about 8% of the import's CPU.
"""

import gc

_collecting = gc.isenabled()
gc.disable()
try:
    from aijob_operator.handlers import aiendpoints, aijobs, lifecycle
finally:
    if _collecting:
        gc.enable()

__all__ = ["aiendpoints", "aijobs", "lifecycle"]
