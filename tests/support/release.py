"""aijob's chart installed for real on the local cluster's real node, for the e2e suite and
the benchmarks that measure the installed product (benchmarks/inference_bench.py).

`install_release` runs `helm upgrade --install --wait` with helm/aijob/values-local.yaml
into a namespace of its own, the operator watching fresh tenant namespaces (each with its
own bucket, user and Secret on the local MinIO), after
server-side applying the current CRDs (helm installs a chart's CRDs only when they are
missing, and an older run may have left an older AIEndpoint schema). `uninstall_release`
deletes the tenants' AIJobs and AIEndpoints while the operator still runs (it removes
their finalizers), then the release and its namespaces. `mint_api_key` runs the gateway
image's own `python -m aijob_gateway.keys`; `gateway_service_url` is the gateway
Service's ClusterIP, which the test process reaches because it runs on the real node
(its kube-proxy routes Service IPs, as for any pod).
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass

from lightkube import ApiError, Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace, Pod, Service

from tests.support.eventually import Timeout, eventually
from tests.support.helm import CHART, LOCAL_VALUES, helm_binary, run_helm
from tests.support.kubectl import kubectl
from tests.support.prerequisites import apply_crd
from tests.support.real_node import has_image, ready_real_nodes
from tests.support.storage import add_tenant, remove_tenant

REQUIRED_IMAGES = (
    "aijob/operator:dev",
    "aijob/gateway:dev",
    "aijob/worker-sklearn:0.1.0",
)
PYTORCH_IMAGE = "aijob/worker-pytorch:0.1.0"
LOAD_TEST_RATE_LIMIT = ("--set", "gateway.rateLimit.perSecond=100000", "--set",
                       "gateway.rateLimit.burst=100000",
                       "--set", "gateway.clientRateLimit.perSecond=100000", "--set",
                       "gateway.clientRateLimit.burst=100000")  # fmt: skip
"""Values for a release that takes bursts of inference from one key and one address (the
default per-key limit, 20 requests/s with a burst of 40, would answer most of a burst with
429; every request of the tests comes from the node's one address)."""


@dataclass(frozen=True)
class Release:
    """The installed chart: where its pods run and which namespace its operator watches."""

    name: str
    namespace: str
    tenant: str
    other_tenants: tuple[str, ...] = ()
    """More tenant namespaces the operator watches, each with its own store (the e2e
    suite's second tenant, the hostile one)."""
    storeless: tuple[str, ...] = ()
    """Namespaces the operator watches that get no store at install (a test adds it late)."""

    @property
    def tenants(self) -> tuple[str, ...]:
        """Every tenant namespace of the release, the first one first."""
        return (self.tenant, *self.other_tenants)

    @property
    def watched(self) -> tuple[str, ...]:
        """Every namespace the operator watches: the tenants, then the storeless ones."""
        return (*self.tenants, *self.storeless)

    @property
    def operator_service_account(self) -> str:
        """The operator's ServiceAccount (named by the chart)."""
        return f"{self.name}-operator"

    @property
    def gateway(self) -> str:
        """The gateway's Deployment and Service (named by the chart)."""
        return f"{self.name}-gateway"


def operator_pods(kube: Client, release: Release, *, terminating: bool = False) -> list[Pod]:
    """The release's operator pods; those being deleted only when `terminating` is set."""
    return [
        pod
        for pod in kube.list(
            Pod,
            namespace=release.namespace,
            labels={
                "app.kubernetes.io/instance": release.name,
                "app.kubernetes.io/component": "operator",
            },
        )
        if terminating or (pod.metadata is not None and pod.metadata.deletionTimestamp is None)
    ]


def helm(*args: str, timeout: float = 360) -> subprocess.CompletedProcess[str]:
    """Run helm against the session's cluster; fails with helm's own message."""
    result = run_helm(*args, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args[:2])} failed: {result.stderr.strip()}")
    return result


def missing_prerequisites(kube: Client, images: tuple[str, ...] = REQUIRED_IMAGES) -> str | None:
    """Why this cluster cannot hold a release on its real node, or None."""
    if helm_binary() is None:
        return "helm is not built: run make binaries"
    nodes = ready_real_nodes(kube)
    if not nodes:
        return "no Ready node labelled aijob.dev/real-node (make node-up)"
    missing = [image for image in images if not has_image(nodes[0], image)]
    if missing:
        return f"images not imported into the real node: {', '.join(missing)} (make images)"
    return None


def wait_namespace_gone(kube: Client, name: str) -> None:
    """Return once namespace `name` does not exist (a terminating one is waited for)."""

    def gone() -> bool:
        try:
            kube.get(Namespace, name)
        except ApiError as error:
            return error.status.code == 404
        return False

    eventually(gone, timeout=Timeout.REAL_POD, what=f"namespace {name} gone")


def recreate_namespace(kube: Client, name: str) -> None:
    """Delete `name` if it exists, wait until it is gone, and create it again."""
    try:
        kube.delete(Namespace, name)
    except ApiError as error:
        if error.status.code != 404:
            raise
    wait_namespace_gone(kube, name)
    kube.create(Namespace(metadata=ObjectMeta(name=name, labels={"aijob.dev/test": "true"})))


def _terminating(kube: Client, name: str) -> bool:
    try:
        namespace = kube.get(Namespace, name)
    except ApiError as error:
        if error.status.code == 404:
            return False
        raise
    return bool(namespace.metadata and namespace.metadata.deletionTimestamp)


EXTRA_HELM_ARGS_ENV = "AIJOB_E2E_HELM_ARGS"
"""More helm arguments for a run, e.g. `--set operator.statusChannel.enabled=true`: a run
with another setting leaves the shared checkout as it is."""


def install_release(kube: Client, release: Release, *values: str) -> Release:
    """The chart installed with the local values (and `values`: extra helm arguments; then
    those of `AIJOB_E2E_HELM_ARGS`)."""
    apply_crd(kube)
    for tenant in release.tenants:
        recreate_namespace(kube, tenant)
        # The tenant's own store (bucket, user, Secret) on the local MinIO, as an admin makes
        # it, and Pod Security `restricted` enforced: every worker and model server passes it.
        remove_tenant(kube, tenant)  # a previous run's objects: start clean
        add_tenant(kube, tenant, pod_security="restricted")
    for namespace in release.storeless:
        recreate_namespace(kube, namespace)
        remove_tenant(kube, namespace)
    if _terminating(kube, release.namespace):  # the previous run's release is still going
        wait_namespace_gone(kube, release.namespace)
    helm(
        "upgrade", "--install", release.name, str(CHART),
        "--namespace", release.namespace, "--create-namespace",
        "-f", str(LOCAL_VALUES),
        "--set", f"operator.watchNamespaces={{{','.join(release.watched)}}}",
        # KWOK plays the simulated GPU pods as their aijob.dev/fake-* annotations say.
        "--set", "workers.podMetadata.annotationPrefixes={aijob.dev/fake-}",
        *values,
        *shlex.split(os.environ.get(EXTRA_HELM_ARGS_ENV, "")),
        "--wait", "--timeout", "5m",
    )  # fmt: skip
    return release


def uninstall_release(kube: Client, release: Release) -> None:
    """The tenants' AIJobs and AIEndpoints, the release and its namespaces, deleted."""
    # The operator removes its finalizers: delete the jobs while it still runs.
    for tenant in release.watched:
        kubectl(
            "-n", tenant, "delete", "aijobs,aiendpoints", "--all", "--timeout=120s",
            check=False, timeout=150,
        )  # fmt: skip
    helm("uninstall", release.name, "--namespace", release.namespace, "--wait")
    for namespace in release.storeless:
        remove_tenant(kube, namespace)
    for tenant in release.watched:
        kube.delete(Namespace, tenant)
    kube.delete(Namespace, release.namespace)


def mint_api_key(release: Release, tenant: str | None = None) -> str:
    """A key for `tenant` (the release's first tenant by default), minted in the gateway pod."""
    result = kubectl(
        "-n", release.namespace, "exec", f"deploy/{release.gateway}", "--",
        "python", "-m", "aijob_gateway.keys", "create", "--tenant", tenant or release.tenant,
    )  # fmt: skip
    key = result.stdout.splitlines()[0].strip() if result.stdout else ""
    assert key.startswith("aij_"), f"no key printed: {result.stdout!r} {result.stderr!r}"
    return key


def gateway_service_url(kube: Client, release: Release) -> str:
    """`http://<ClusterIP>:<port>` of the gateway Service, as a pod would call it."""
    service = kube.get(Service, release.gateway, namespace=release.namespace)
    assert service.spec is not None
    assert service.spec.ports, f"Service {release.gateway} has no port"
    return f"http://{service.spec.clusterIP}:{service.spec.ports[0].port}"
