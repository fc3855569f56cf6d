"""aijob's one Kubernetes layer, shared by the operator, the gateway and the worker runtime.

- `aijob_kube.resources`: the lightkube resource classes of aijob's custom resources.
- `aijob_kube.watch`: the list-and-watch loop that keeps a cache in step with the API server.
- `aijob_kube.errors`: the API server's refusals and silences as aijob's own exceptions.

Nothing is imported here, so a worker that needs only the resource class loads nothing else.
"""
