"""Everything the gateway asks of the API server: each (API group, resource, verb), and why.

The chart grants exactly this table (tests/unit/helm/test_rbac.py renders the chart and
compares both ways: nothing used without a grant, nothing granted unused). A new call to the
API server starts with a row here. The gateway never deletes an AIJob, never writes one's
status, never reads a Secret but its key Secret and the tenants' storage Secrets (one name,
read to serve a job's artifacts with its tenant's own credentials), and reads pods only to
find and stream them.
"""

from __future__ import annotations

from typing import Final

from aijob_kube.access import Access

GATEWAY_ACCESS: Final = (
    Access(
        "aijob.dev",
        "aijobs",
        ("get", "list", "watch", "create", "patch"),
        "the jobs cache lists and watches them (runtime); submit creates, read-after-write "
        "gets, cancel patches spec.cancel (kube.job_store)",
    ),
    Access(
        "aijob.dev",
        "aiendpoints",
        ("get", "list", "watch", "create", "delete"),
        "the endpoints cache lists and watches them; create, get and delete (kube.endpoint_store)",
    ),
    Access(
        "aijob.dev",
        "aiendpoints/status",
        ("patch",),
        "the load it dispatches, status.gatewayLoad (kube.endpoint_store.patch_status)",
    ),
    Access(
        "",
        "nodes",
        ("list",),
        "the GPU view of GET /v1/nodes (kube.cluster)",
    ),
    Access(
        "",
        "pods",
        ("list", "watch"),
        "the GPU view lists running pods (kube.cluster); the endpoints' replicas are listed and "
        "watched to dispatch to them (runtime, kube.endpoint_pods)",
    ),
    Access(
        "",
        "pods/log",
        ("get",),
        "a job's worker log (kube.pod_logs): only where tenants' jobs run",
        scope="tenants",
    ),
    Access(
        "",
        "secrets",
        ("get",),
        "only the Secret named aijob-storage (resourceNames) of the caller's namespace: a job's "
        "artifacts are listed and read with its tenant's own S3 credentials "
        "(kube.storage_secrets)",
        scope="tenants",
    ),
    Access(
        "",
        "secrets",
        ("get", "list", "watch"),
        "the key Secret only: watched for keys (kube.key_store), read by the readiness probe "
        "(runtime.ApiServerProbe)",
        scope="release",
    ),
    Access(
        "",
        "secrets",
        ("patch",),
        "the key Secret only: `python -m aijob_gateway.keys` run inside the gateway pod stores "
        "and revokes keys (keys.KeyAdmin); off unless the chart's apiKeys.mintInPod is set",
        scope="release",
        when="apiKeys.mintInPod",
    ),
)
"""Every request the gateway (and its key tool, in its pod) makes."""
