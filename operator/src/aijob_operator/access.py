"""Everything the operator asks of the API server: each (API group, resource, verb), and why.

The chart's ClusterRole grants exactly this table (tests/unit/helm/test_rbac.py renders the
chart and compares both ways: nothing used without a grant, nothing granted unused), and
the e2e suites (tests/e2e) run the operator the chart installs, under that role only. A new
call to the API server starts with a row here. kopf's own needs are in it too: it lists and
watches AIJobs and AIEndpoints; it runs standalone (no peering objects), with the resource
scanning off (no CRD or Namespace watch) and its Event posting off (`kopf_settings`).
"""

from __future__ import annotations

from typing import Final

from aijob_kube.access import Access

OPERATOR_ACCESS: Final = (
    Access(
        "aijob.dev",
        "aijobs",
        ("get", "list", "watch", "delete"),
        "kopf lists and watches them; an endpoint reads the training AIJob it serves "
        "(endpoint_reconciler); the TTL deletes finished ones (KubeApi.delete_aijob)",
    ),
    Access(
        "aijob.dev",
        "aijobs/status",
        ("get", "patch"),
        "patch: the operator's status fields (KubeApi.patch_status); get and patch: the per-job "
        "Role grants both, and RBAC lets the operator grant only what it holds",
    ),
    Access(
        "aijob.dev",
        "aiendpoints",
        ("get", "list", "watch"),
        "kopf lists and watches them; a job on an endpoint reads it (endpoint_jobs)",
    ),
    Access(
        "aijob.dev",
        "aiendpoints/status",
        ("patch",),
        "the endpoint's status (KubeApi.patch_status)",
    ),
    Access(
        "aijob.dev",
        "aiendpoints/scale",
        ("patch",),
        "the builtin autoscaler sets spec.replicas (KubeApi.scale)",
    ),
    Access(
        "batch",
        "jobs",
        ("get", "list", "watch", "create", "delete", "patch"),
        "the informer; one Job per AIJob, created, read back when the cache has not seen it, "
        "deleted on cancel and to restart a distributed job's group (KubeApi.create, get_job, "
        "delete_job, delete_job_group); a group's suspended Job started once all its pods "
        "fit (KubeApi.unsuspend_job: a patch)",
    ),
    Access(
        "",
        "nodes",
        ("list",),
        "a distributed job's gang start: what each node can still hold (KubeApi.list_nodes, "
        "capacity_view)",
    ),
    Access(
        "kueue.x-k8s.io",
        "workloads",
        ("list", "watch"),
        "where Kueue is installed: the Workload Kueue makes for a queued job's Job, whose "
        "conditions say why it waits or was preempted (KubeApi.workloads_served, the informer)",
    ),
    Access(
        "",
        "pods",
        ("list", "watch"),
        "the informers of job pods and endpoint replicas (never read one by one, never deleted: "
        "the Job and the Deployment own them); the bound pods of every namespace, listed "
        "while a distributed job waits for room (KubeApi.list_bound_pods)",
    ),
    Access(
        "",
        "pods/eviction",
        ("create",),
        "a job's attempt whose worker stopped reporting is ended by evicting its pod "
        "(KubeApi.evict_pod): the Job counts a disruption, not a failure",
    ),
    Access(
        "apps",
        "deployments",
        ("get", "list", "watch", "create", "patch"),
        "an endpoint's replicas: the informer, created only if absent, read back, then "
        "server-side applied (a patch); garbage collection deletes them with the endpoint",
    ),
    Access(
        "",
        "services",
        ("get", "list", "watch", "create", "patch"),
        "an endpoint's Service, as its Deployment; a distributed job's rank Services, created "
        "only if absent and read back (KubeApi.get_service); garbage collection deletes them",
    ),
    Access(
        "",
        "configmaps",
        ("get", "list", "watch", "create", "patch"),
        "an endpoint's settings, as its Deployment",
    ),
    Access(
        "",
        "serviceaccounts",
        ("get", "create"),
        "each job's identity: created only if absent, and one found is read to check it is "
        "this AIJob's (builders.rbac.identity_check); garbage collection deletes it; none on "
        "the status channel (workers hold no API credentials: builders.status_channel)",
        unless="operator.statusChannel.enabled",
    ),
    Access(
        "rbac.authorization.k8s.io",
        "roles",
        ("get", "create"),
        "each job's Role, as its ServiceAccount",
        unless="operator.statusChannel.enabled",
    ),
    Access(
        "rbac.authorization.k8s.io",
        "rolebindings",
        ("get", "create"),
        "each job's RoleBinding, as its ServiceAccount",
        unless="operator.statusChannel.enabled",
    ),
    Access(
        "",
        "secrets",
        ("get",),
        "only the Secret named aijob-storage (resourceNames): a deleted job's artifacts are "
        "deleted, and a task's results written, with its tenant's own S3 credentials "
        "(artifacts.ArtifactJanitor, artifacts.ResultWriter)",
    ),
    Access(
        "",
        "events",
        ("create", "list", "watch"),
        "one Event per status transition, and the warnings (KubeApi.post_event); the Job "
        "controller's FailedCreate Events, listed and watched (refusals: a quota refused a pod)",
    ),
    Access(
        "authentication.k8s.io",
        "tokenreviews",
        ("create",),
        "the status server checks each worker's projected token, for aijob's audience, and "
        "learns the pod it is bound to (status_tokens.TokenReviewer)",
        when="operator.statusChannel.enabled",
    ),
    Access(
        "coordination.k8s.io",
        "leases",
        ("get", "create", "update"),
        "leader election between the operator's replicas: its one Lease in the release's "
        "namespace, read, created when absent and replaced at the version read "
        "(leader_election.LeaderElector)",
        scope="release",
        when="operator.leaderElection.enabled",
    ),
)
"""Every request the operator makes: cluster-wide (its ClusterRole), and in its own namespace
(the election's Role)."""
