"""The hostile tenant's own tools for test_hostile_tenant.py: a kubectl that authenticates as a
user of its namespace only (a ServiceAccount token with a Role there, what an admin gives a
team), and the long-written records of the huge-spec attack."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.support.kubectl import kubectl, kubectl_binary

USER = "tenant-user"
"""The ServiceAccount the rival's kubectl authenticates as, in the rival's namespace."""
ROLE = f"""\
apiVersion: v1
kind: ServiceAccount
metadata: {{name: {USER}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: {USER}}}
rules:
- apiGroups: [aijob.dev]
  resources: [aijobs, aiendpoints]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [pods, pods/log]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: {USER}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {USER}}}
subjects:
- {{kind: ServiceAccount, name: {USER}}}
"""
WINE_ROW = [13.2, 1.78, 2.14, 11.2, 100.0, 2.65, 2.76, 0.26, 1.28, 4.38, 1.05, 3.4, 1050.0]
"""A row of the wine data set (13 features), varied into long-written records."""


class TenantKubectl:
    """kubectl as a user of one namespace: it may manage AIJobs and AIEndpoints there, and
    read its pods; nothing in any other namespace."""

    def __init__(self, namespace: str, workdir: Path) -> None:
        self.namespace = namespace
        self._workdir = workdir
        manifest = workdir / "tenant-user.yaml"
        manifest.write_text(ROLE)
        kubectl("-n", namespace, "apply", "-f", str(manifest))
        token = kubectl(
            "-n", namespace, "create", "token", USER, "--duration=1h"
        ).stdout.strip()  # fmt: skip
        self.kubeconfig = workdir / "tenant-kubeconfig"
        self.kubeconfig.write_text(yaml.safe_dump(_config_for(namespace, token)))

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """kubectl with the tenant's own kubeconfig (no check: refusals are the point)."""
        return subprocess.run(
            [kubectl_binary(), "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True, text=True, check=False, timeout=60,
            env={key: value for key, value in os.environ.items() if key != "KUBECONFIG"},
        )  # fmt: skip

    def create(self, body: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        """`kubectl create -f` of a manifest (in the tenant's namespace unless it names one)."""
        path = self._workdir / f"{body['kind']}-{body['metadata']['name']}.yaml"
        path.write_text(yaml.safe_dump(body))
        return self.run("create", "-f", str(path))


def _config_for(namespace: str, token: str) -> dict[str, Any]:
    """A kubeconfig for the session's API server that authenticates only with `token`."""
    admin = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
    context = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])
    cluster = next(c for c in admin["clusters"] if c["name"] == context["context"]["cluster"])
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "cluster", "cluster": cluster["cluster"]}],
        "users": [{"name": USER, "user": {"token": token}}],
        "contexts": [
            {
                "name": USER,
                "context": {"cluster": "cluster", "user": USER, "namespace": namespace},
            }
        ],
        "current-context": USER,
    }


def aijob_manifest(name: str, spec: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
    """An AIJob as a tenant writes it for kubectl."""
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": "aijob.dev/v1alpha1", "kind": "AIJob", "metadata": metadata, "spec": spec}


def long_records(count: int) -> list[list[float]]:
    """`count` wine-like rows whose JSON is at least 200 characters each."""
    chance = random.Random(7)
    records = []
    for _ in range(count):
        row = [round(value * (1 + chance.uniform(-0.05, 0.05)), 13) for value in WINE_ROW]
        assert len(json.dumps(row, separators=(",", ":"))) >= 200
        records.append(row)
    return records
