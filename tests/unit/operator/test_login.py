"""kopf's credentials are chosen when the operator logs in, not when kopf was imported."""

from __future__ import annotations

from pathlib import Path

import kopf
import pytest
import yaml
from aijob_operator.handlers import lifecycle

KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "current-context": "local",
    "contexts": [{"name": "local", "context": {"cluster": "c", "user": "u", "namespace": "ns"}}],
    "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:32443"}}],
    "users": [{"name": "u", "user": {"token": "secret"}}],
}


@pytest.fixture
def no_pod_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A process outside any pod, with an empty home."""
    monkeypatch.setattr(lifecycle, "SERVICE_ACCOUNT_TOKEN", tmp_path / "no-token")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    return tmp_path


def test_kubeconfig_set_after_kopf_was_imported_is_used(
    no_pod_identity: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = no_pod_identity / "kubeconfig"
    path.write_text(yaml.safe_dump(KUBECONFIG))
    monkeypatch.setenv("KUBECONFIG", str(path))
    info = lifecycle.kube_credentials(kopf.OperatorSettings())
    assert (info.server, info.token, info.default_namespace) == (
        "https://127.0.0.1:32443",
        "secret",
        "ns",
    )


def test_no_credentials_anywhere_is_a_clear_permanent_error(no_pod_identity: Path) -> None:
    with pytest.raises(kopf.PermanentError, match="KUBECONFIG unset"):
        lifecycle.kube_credentials(kopf.OperatorSettings())
