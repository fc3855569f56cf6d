"""The API server takes good AIEndpoints with their defaults, refuses bad ones naming the field
(one file per case in invalid_endpoints/, applied with `kubectl apply -f` as a user would;
its `# expect:` lines hold text the refusal must contain), and explains every field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aijob_api.endpoint_spec import AIEndpointSpec

from tests.integration.api.test_invalid_manifests import expectations
from tests.support.kubectl import kubectl

REPO_ROOT = Path(__file__).resolve().parents[3]
CORPUS = sorted((Path(__file__).parent / "invalid_endpoints").glob("*.yaml"))

pytestmark = pytest.mark.usefixtures("aijob_crd")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def test_every_file_says_what_to_expect() -> None:
    assert len(CORPUS) >= 10
    assert all(expectations(path) for path in CORPUS)


@pytest.mark.parametrize("path", CORPUS, ids=[path.stem for path in CORPUS])
def test_invalid_endpoint_is_refused_naming_the_field(path: Path, namespace: str) -> None:
    result = kubectl("apply", "-f", str(path), "-n", namespace, check=False)
    assert result.returncode != 0, result.stdout
    for expected in expectations(path):
        assert expected in result.stderr
    listed = kubectl("get", "aiendpoints", "-n", namespace, "-o", "name").stdout
    assert listed.strip() == ""


def test_the_example_is_accepted_with_its_defaults(namespace: str) -> None:
    example = REPO_ROOT / "examples" / "endpoint-sklearn.yaml"
    kubectl("apply", "-f", str(example), "-n", namespace)
    stored = json.loads(kubectl("get", "aie", "iris", "-n", namespace, "-o", "json").stdout)
    spec = stored["spec"]
    assert (spec["replicas"], spec["minReplicas"], spec["maxReplicas"]) == (2, 2, 4)
    assert spec["autoscaling"] == {
        "mode": "builtin",
        "targetUtilizationPercent": 70,
        "scaleDownDelaySeconds": 300,
    }
    assert "framework" not in spec
    assert spec["resources"] == {"cpu": "250m", "memory": "512Mi", "gpu": 0}
    assert spec["requestTimeoutSeconds"] == 10
    scale = json.loads(
        kubectl(
            "get",
            "--raw",
            f"/apis/aijob.dev/v1alpha1/namespaces/{namespace}/aiendpoints/iris/scale",
        ).stdout
    )
    assert scale["kind"] == "Scale"
    assert scale["spec"]["replicas"] == 2


@pytest.mark.parametrize("field", [_camel(name) for name in AIEndpointSpec.model_fields])
def test_every_spec_field_is_explained(field: str) -> None:
    explained = kubectl("explain", f"aiendpoint.spec.{field}").stdout
    assert f"FIELD: {field}" in explained
    description = explained.split("DESCRIPTION:", 1)[1].split("FIELDS:", 1)[0].strip()
    assert len(description) > 10, explained


def test_the_resource_is_explained() -> None:
    explained = kubectl("explain", "aiendpoint.spec").stdout
    assert "KIND:       AIEndpoint" in explained
    assert "GROUP:      aijob.dev" in explained
    for field in ("model", "replicas", "minReplicas", "maxReplicas", "concurrency", "batching"):
        assert f"  {field}\t" in explained, field
