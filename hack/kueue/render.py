"""Render the local Kueue's webhook configurations and CRDs from the module's own manifests.

    python3 hack/kueue/render.py webhooks MANIFESTS CA_FILE PORT > webhooks.yaml
    python3 hack/kueue/render.py crds CRD_DIR CA_FILE PORT > crds.yaml

Kueue's manifests (config/components/webhook/manifests.yaml) point at an in-cluster
Service; the local Kueue is a host process, so every webhook kept gets
`url: https://127.0.0.1:PORT/<path>` and the local CA. Only the webhooks of the kinds
this cluster uses are kept: Kueue's own (kueue.x-k8s.io) and batch/v1 Jobs; the Job
webhooks see only Jobs that carry a queue label (objectSelector), so a stopped Kueue
never blocks the cluster's other Jobs. The CRDs whose versions Kueue converts
(Kueue's own kustomize patches, config/components/crd/patches/webhook_in_*.yaml) get the
same URL's /convert. Needs PyYAML (python3 -m pip install pyyaml).
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

import yaml

KEPT_GROUPS = {"kueue.x-k8s.io", "batch"}
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
PREFIX = "aijob-local-kueue"


def kept(webhook: dict[str, Any]) -> bool:
    """Whether a webhook is for a kind this cluster uses."""
    groups = {group for rule in webhook.get("rules", []) for group in rule.get("apiGroups", [])}
    return bool(groups) and groups <= KEPT_GROUPS


def render(manifests: str, ca_bundle: str, port: int) -> list[dict[str, Any]]:
    """The two configurations, webhooks rewritten to the host process."""
    out = []
    for doc in yaml.safe_load_all(manifests):
        if not doc or doc.get("kind") not in (
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
        ):
            continue
        hooks = []
        for webhook in doc.get("webhooks", []):
            if not kept(webhook):
                continue
            path = webhook["clientConfig"]["service"]["path"]
            webhook["clientConfig"] = {
                "url": f"https://127.0.0.1:{port}{path}",
                "caBundle": ca_bundle,
            }
            groups = {g for rule in webhook["rules"] for g in rule.get("apiGroups", [])}
            if "batch" in groups:
                webhook["objectSelector"] = {
                    "matchExpressions": [{"key": QUEUE_LABEL, "operator": "Exists"}]
                }
            hooks.append(webhook)
        kind = "mutating" if doc["kind"].startswith("Mutating") else "validating"
        out.append(
            {
                "apiVersion": doc["apiVersion"],
                "kind": doc["kind"],
                "metadata": {
                    "name": f"{PREFIX}-{kind}",
                    "labels": {"app.kubernetes.io/managed-by": "aijob-hack-kueue"},
                },
                "webhooks": hooks,
            }
        )
    return out


def crds(crd_dir: Path, ca_bundle: str, port: int) -> list[dict[str, Any]]:
    """Every CRD of config/components/crd/bases, with the conversion webhook where Kueue's
    kustomization patches one in."""
    converted = {
        path.name.removeprefix("webhook_in_").removesuffix(".yaml")
        for path in (crd_dir / "patches").glob("webhook_in_*.yaml")
    }
    listed = (crd_dir / "kustomization.yaml").read_text()
    out = []
    for path in sorted((crd_dir / "bases").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        plural = crd["spec"]["names"]["plural"]
        if f"path: patches/webhook_in_{plural}.yaml" in listed.replace("#- path", "#"):
            assert plural in converted
            crd["spec"]["conversion"] = {
                "strategy": "Webhook",
                "webhook": {
                    "conversionReviewVersions": ["v1"],
                    "clientConfig": {
                        "url": f"https://127.0.0.1:{port}/convert",
                        "caBundle": ca_bundle,
                    },
                },
            }
        out.append(crd)
    return out


def main() -> None:
    """Print the rendered configurations or CRDs."""
    what, source, ca_file, port = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    ca_bundle = base64.b64encode(Path(ca_file).read_bytes()).decode()
    if what == "crds":
        yaml.safe_dump_all(crds(source, ca_bundle, port), sys.stdout, sort_keys=False)
        return
    docs = render(source.read_text(), ca_bundle, port)
    if not any(doc["webhooks"] for doc in docs):
        sys.exit(f"no Kueue webhook for {sorted(KEPT_GROUPS)} in {source}")
    yaml.safe_dump_all(docs, sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
