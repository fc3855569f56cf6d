"""spec.code.requirements on a real API server with the operator in-process: where the runtime
catalog's requirements rule allows the namespace, the worker pod gets the rule's index; where
it does not, the job fails InvalidSpec naming the field and the rule, and no Job exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from aijob_api.code import (
    ENV_REQUIREMENTS_INDEX_URL,
    ENV_REQUIREMENTS_TIMEOUT,
    ENV_REQUIREMENTS_TRUSTED_HOSTS,
)
from aijob_api.conditions import Phase, Reason
from aijob_operator.catalog import load_catalog

from tests.integration.operator.support import AIJobs, manifest, simulated
from tests.support.eventually import Timeout

INDEX = "http://packages.aijob-index.svc:8080/simple"
CODE = {"configMap": "my-code", "entrypoint": "train.py", "requirements": ["rich>=13"]}


def write_catalog(tmp_path: Path, namespaces: list[str]) -> str:
    """The shipped catalog with a requirements rule on its PyTorch runtime."""
    document: dict[str, Any] = load_catalog().model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    pytorch = document["frameworks"]["pytorch"]
    pytorch["versions"][pytorch["defaultVersion"]]["requirements"] = {
        "namespaces": namespaces,
        "indexUrl": INDEX,
        "trustedHosts": ["packages.aijob-index.svc:8080"],
        "timeoutSeconds": 120,
    }
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(document))
    return str(path)


@pytest.fixture
def allowed_here(
    namespace: str, operator_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator's catalog lets this test's namespace install requirements."""
    monkeypatch.setenv("AIJOB_OPERATOR_CATALOG_PATH", write_catalog(tmp_path, [namespace]))


@pytest.fixture
def allowed_elsewhere(
    operator_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator's catalog lets another tenant's namespace install requirements, not this."""
    monkeypatch.setenv("AIJOB_OPERATOR_CATALOG_PATH", write_catalog(tmp_path, ["team-other"]))


def custom(name: str, namespace: str, **spec: Any) -> dict[str, Any]:
    return manifest(
        name, namespace, model=None, dataset=None, framework="pytorch", code=CODE, **spec
    )


@pytest.mark.usefixtures("allowed_here", "operator")
def test_an_allowed_namespace_gets_the_rules_index_in_the_pod(
    aijobs: AIJobs, namespace: str
) -> None:
    aijobs.create(
        custom("reqs", namespace, podTemplate=simulated({"aijob.dev/fake-run-seconds": "30"}))
    )
    aijobs.wait_phase("reqs", Phase.RUNNING, timeout=Timeout.SCHEDULING)
    job = aijobs.job("reqs")
    assert job is not None
    assert job.spec is not None
    assert job.spec.template.spec is not None
    (container,) = job.spec.template.spec.containers
    env = {item.name: item.value for item in container.env or []}
    assert env[ENV_REQUIREMENTS_INDEX_URL] == INDEX
    assert env[ENV_REQUIREMENTS_TRUSTED_HOSTS] == "packages.aijob-index.svc:8080"
    assert env[ENV_REQUIREMENTS_TIMEOUT] == "120"


@pytest.mark.usefixtures("allowed_elsewhere", "operator")
def test_a_namespace_the_rule_does_not_list_fails_naming_it_and_gets_no_job(
    aijobs: AIJobs, namespace: str
) -> None:
    aijobs.create(custom("reqs-refused", namespace))
    failed = aijobs.wait_phase("reqs-refused", Phase.FAILED, timeout=Timeout.API)
    assert failed.status.reason == Reason.INVALID_SPEC
    message = failed.status.message or ""
    assert message.startswith("spec.code.requirements: requirements are not allowed in namespace")
    assert "requirements.namespaces does not list it" in message
    assert aijobs.job("reqs-refused") is None
